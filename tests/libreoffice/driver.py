"""Drive a running headless LibreOffice through UNO for tests/test_libreoffice_extension.py.

Runs under Debian's /usr/bin/python3 (it has the `uno` module; the project's venv does not).
Usage: driver.py PORT < scenario.json  ->  prints one JSON object.

A scenario: optional "settings" to write into the extension's configuration; a document ("file"
to open, or "paragraphs" of runs to build); a "select" (a paragraph index, "all", or "end");
a "dispatch" URL with "args", run through the frame's dispatcher like a menu entry would, waiting for
its DispatchResultEvent. The answer holds the result and the document's paragraphs as runs, read
back after the action, and again after one undo when "undo" is set.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.request

import uno
import unohelper
from com.sun.star.beans import PropertyValue
from com.sun.star.frame import XDispatchResultListener
from com.sun.star.frame.DispatchResultState import SUCCESS

SETTINGS_NODE = "/ch.lelocle.plume.Settings/Server"


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(port: int):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 60
    while True:
        try:
            return resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def config(ctx, nodepath, update=False):
    provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    service = "com.sun.star.configuration.ConfigurationUpdateAccess" if update else \
        "com.sun.star.configuration.ConfigurationAccess"
    return provider.createInstanceWithArguments(service, (prop("nodepath", nodepath),))


def registry(ctx) -> dict:
    sidebar = config(ctx, "/org.openoffice.Office.UI.Sidebar/Content")
    decks, panels = sidebar.getByName("DeckList"), sidebar.getByName("PanelList")
    out = {"decks": {}, "panels": {}}
    for name in decks.getElementNames():
        if "Plume" in name:
            deck = decks.getByName(name)
            out["decks"][name] = {"Title": deck.Title, "ContextList": list(deck.ContextList), "IconURL": deck.IconURL}
    for name in panels.getElementNames():
        if "Plume" in name:
            panel = panels.getByName(name)
            out["panels"][name] = {"DeckId": panel.DeckId, "ImplementationURL": panel.ImplementationURL,
                                   "ContextList": list(panel.ContextList)}
    addons = config(ctx, "/org.openoffice.Office.Addons/AddonUI/OfficeMenuBar")
    out["menus"] = [n for n in addons.getElementNames() if "plume" in n]
    handlers = config(ctx, "/org.openoffice.Office.ProtocolHandler/HandlerSet")
    out["protocol"] = {n: list(handlers.getByName(n).Protocols) for n in handlers.getElementNames() if "plume" in n}
    options = config(ctx, "/org.openoffice.Office.OptionsDialog/Nodes")
    out["options_pages"] = [n for n in options.getElementNames() if "plume" in n]
    out["options_all_modules"] = {n: options.getByName(n).AllModules for n in out["options_pages"]}
    modules = config(ctx, "/org.openoffice.Office.OptionsDialog/Modules")
    out["options_modules"] = {m: [n for n in modules.getByName(m).Nodes.getElementNames() if "plume" in n]
                              for m in modules.getElementNames()}
    addons_ui = config(ctx, "/org.openoffice.Office.Addons/AddonUI")
    out["toolbars"] = list(addons_ui.getByName("OfficeToolBar").getElementNames()) \
        if addons_ui.hasByName("OfficeToolBar") else []
    menu = addons.getByName("ch.lelocle.plume.menu").Submenu if addons.hasByName("ch.lelocle.plume.menu") else None
    out["menu_urls"] = [menu.getByName(n).URL for n in menu.getElementNames()] if menu is not None else []
    settings = config(ctx, SETTINGS_NODE)
    out["settings"] = {n: settings.getByName(n) for n in settings.getElementNames()}
    packages = ctx.getValueByName("/singletons/com.sun.star.deployment.PackageInformationProvider")
    out["extension_location"] = packages.getPackageLocation("ch.lelocle.plume")
    return out


def write_settings(ctx, values: dict) -> list[str]:
    """Write the settings as a user would; returns those LibreOffice refused (locked by IT)."""
    node = config(ctx, SETTINGS_NODE, update=True)
    refused = []
    for key, value in values.items():
        try:
            node.replaceByName(key, value)
        except Exception:
            refused.append(key)
    node.commitChanges()
    return refused


def ui_parent(desktop):
    """A hidden Writer document whose window hosts the panels and the options page."""
    doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, (prop("Hidden", True),))
    frame = doc.getCurrentController().getFrame()
    return doc, frame


def wait_for(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()


def make_panel(ctx, frame, name):
    """A sidebar panel made by the extension's factory, as the deck makes it; waits for its first request
    (the text panel asks the server what it can do, the templates panel lists the templates)."""
    factory = ctx.ServiceManager.createInstanceWithContext("ch.lelocle.plume.PanelFactory", ctx)
    element = factory.createUIElement(f"private:resource/toolpanel/PlumePanelFactory/{name}",
                                      (prop("Frame", frame), prop("ParentWindow", frame.getContainerWindow())))
    panel = element.getRealInterface()
    window = panel.Window
    cancel = window.getControl("Cancel")
    if cancel is not None:
        wait_for(lambda: not cancel.getModel().Enabled)
    if window.getControl("Template") is not None:  # the template list arrives from the server
        status = window.getControl("Status").getModel()
        said = (lambda: status.Text) if hasattr(status, "Text") else (lambda: status.Label)  # a label before issue 11
        wait_for(lambda: window.getControl("Template").getItemCount() > 0 or (said() and not said().endswith("…")))
    return panel, window


def panel_state(window) -> dict:
    """What the clerk sees: labels, texts, which buttons are enabled, the lists' items."""
    out = {"labels": {}, "texts": {}, "enabled": {}, "items": {}, "scrolls": {}}
    for control in window.getControls():
        model = control.getModel()
        name = model.Name
        if hasattr(model, "Label") and model.Label:
            out["labels"][name] = model.Label
        if hasattr(model, "Text") and not hasattr(model, "StringItemList"):
            out["texts"][name] = model.Text
        if hasattr(model, "VScroll"):
            out["scrolls"][name] = bool(model.MultiLine and model.VScroll)
        if hasattr(model, "Enabled"):
            out["enabled"][name] = bool(model.Enabled)
        if hasattr(control, "getItems"):
            out["items"][name] = list(control.getItems())
            out["texts"][name] = control.getSelectedItem()
    return out


def panels(ctx, desktop) -> dict:
    """Create both sidebar panels through the extension's factory; read what they show."""
    doc, frame = ui_parent(desktop)
    try:
        out = {}
        for name in ("TextPanel", "TemplatesPanel", "ReviewPanel"):
            panel, window = make_panel(ctx, frame, name)
            out[name] = {**panel_state(window), "height": panel.getHeightForWidth(300).Preferred}
            if name == "TemplatesPanel":
                out[name]["templates"] = list(window.getControl("Template").getItems())
                out[name]["status"] = window.getControl("Status").getModel().Text
            window.dispose()
        return out
    finally:
        doc.close(True)


def click_panel(ctx, doc, how: dict) -> dict:
    """Press buttons of a sidebar panel as a user would (through accessibility), on `doc`.

    A click is a button name, or {"select": paragraph index | "all" | "end"} to change the selection
    between clicks, as the clerk would. The panel's state is read after each click."""
    frame = doc.getCurrentController().getFrame()
    _, window = make_panel(ctx, frame, how["panel"])
    for name, item in how.get("choose", {}).items():
        window.getControl(name).selectItem(item, True)
    statuses, states = [], []
    picked = []
    for button in how["clicks"]:
        if isinstance(button, dict) and "pick" in button:  # the clerk chooses an item in a list
            for name, index in button["pick"].items():
                window.getControl(name).selectItemPos(index, True)
            picked.append({"selected": selected_text(doc), **panel_state(window)})
            continue
        if isinstance(button, dict) and "request" in button:  # meanwhile, someone else uses the server
            call = button["request"]
            request = urllib.request.Request(call["url"], data=json.dumps(call.get("json")).encode(),
                                             method=call["method"], headers={
                                                 "Authorization": f"Bearer {call['token']}",
                                                 "Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=30).read()
            continue
        if isinstance(button, dict) and "start" in button:  # pressed without waiting for the answer
            window.getControl(button["start"]).getPeer().getAccessibleContext().doAccessibleAction(0)
            continue
        if isinstance(button, dict) and "stop" in button:  # Stop once the model has written part of the text
            wait_until_written(button["stop"])
            time.sleep(button["stop"].get("then", 0.5))
            picked.append(panel_state(window))  # what the clerk sees just before she stops
            button = "Cancel"
        elif isinstance(button, dict):
            select(doc, button["select"])
            continue
        status = window.getControl("Status").getModel()
        quiet = button == "Details"  # shows the indices; says nothing in the status line
        if not quiet:
            status.Text = ""
        window.getControl(button).getPeer().getAccessibleContext().doAccessibleAction(0)
        if not quiet:
            wait_for(lambda: status.Text and "travaille" not in status.Text and "arbeitet" not in status.Text)
        statuses.append(status.Text)
        states.append(panel_state(window))
    result = window.getControl("Result").getModel().Text if window.getControl("Result") else None
    window.dispose()
    return {"statuses": statuses, "states": states, "panel_result": result, "picked": picked}


def options_page(ctx, desktop, typed: dict) -> dict:
    """Open the options page with its handler as Tools > Options does, then press OK with `typed` values."""
    doc, frame = ui_parent(desktop)
    try:
        # The page and handler that Tools > Options uses, as registered in OptionsDialog.xcu.
        leaf = config(ctx, "/org.openoffice.Office.OptionsDialog/Nodes/ch.lelocle.plume.Options/Leaves/"
                           "ch.lelocle.plume.Options.Server")
        url = leaf.OptionsPage
        handler = ctx.ServiceManager.createInstanceWithContext(leaf.EventHandlerService, ctx)
        provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.awt.ContainerWindowProvider", ctx)
        window = provider.createContainerWindow(url, "", frame.getContainerWindow(), handler)
        handler.callHandlerMethod(window, "initialize", "external_event")

        def read():
            return {name: {"text": window.getControl(name).getModel().Text,
                           "enabled": window.getControl(name).getModel().Enabled} for name in ("ServerURL", "Token")} | {
                "Language": list(window.getControl("Language").getModel().SelectedItems),
                "ReviewMode": {"selected": list(window.getControl("ReviewMode").getModel().SelectedItems),
                               "enabled": window.getControl("ReviewMode").getModel().Enabled},
                "LabelServerURL": window.getControl("LabelServerURL").getModel().Label,
                "Status": window.getControl("Status").getModel().Label}

        shown = read()
        for name, value in typed.items():
            window.getControl(name).getModel().Text = value
        handler.callHandlerMethod(window, "ok", "external_event")
        window.dispose()
        stored = config(ctx, SETTINGS_NODE)
        return {"shown": shown, "stored": {n: stored.getByName(n) for n in stored.getElementNames()}}
    finally:
        doc.close(True)


def template_form(ctx, desktop, how: dict) -> dict:
    """Build the letter form with the extension's own code (plume_lo.panels.letter_form), here, over
    the UNO bridge: the dialog is made by this LibreOffice's toolkit. Then type values as the clerk
    would and press « Insérer au curseur » (`typed`), or show values found in case notes (`extracted`).
    Returns the form's labels, help lines, field texts and status."""
    sys.path.insert(0, how["pythonpath"])
    from plume_lo.panels.letter_form import TemplateForm

    class Panel:  # what the form asks of its sidebar panel
        language = how.get("language", "fr")

        def document(self):
            return None

    form = TemplateForm(ctx, Panel(), how["template"])
    dialog = form.dialog
    if "extracted" in how:
        form.mode = "extract"
        form.finished(True, "", how["extracted"])
    for name, value in how.get("typed", {}).items():
        dialog.getControl(f"F_{name}").getModel().Text = value
    if how.get("typed"):
        form.render("insert")
    out = {"labels": {}, "help": {}, "fields": {}}
    models = dialog.getModel()
    for name in models.getElementNames():
        model = models.getByName(name)
        kind, _, field = name.partition("_")
        if kind == "L" and field:
            out["labels"][field] = model.Label
        elif kind == "H" and field:
            out["help"][field] = model.Label
        elif kind == "F" and field:
            out["fields"][field] = model.Text
    out["status"] = dialog.getControl("Status").getModel().Text
    out["languages"] = list(models.getByName("Language").StringItemList) if models.hasByName("Language") else []
    out["label_language"] = models.getByName("LabelLanguage").Label if models.hasByName("LabelLanguage") else ""
    dialog.dispose()
    return out


def build_document(desktop, paragraphs):
    doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, (prop("Hidden", True),))
    text = doc.getText()
    cursor = text.createTextCursor()
    from com.sun.star.text.ControlCharacter import PARAGRAPH_BREAK
    for i, runs in enumerate(paragraphs):
        if i:
            text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
        for run in runs:
            text.insertString(cursor, run["text"], False)
            start = text.createTextCursorByRange(cursor.getEnd())
            start.goLeft(len(run["text"]), True)
            start.setPropertyValue("CharWeight", 150.0 if run.get("bold") else 100.0)
            start.setPropertyValue("CharPosture", uno.Enum("com.sun.star.awt.FontSlant",
                                                           "ITALIC" if run.get("italic") else "NONE"))
            start.setPropertyValue("CharUnderline", 1 if run.get("underline") else 0)
            start.setPropertyValue("HyperLinkURL", run.get("link", ""))
    doc.getUndoManager().clear()
    return doc


def read_runs(doc) -> list[list[dict]]:
    out = []
    paragraphs = doc.getText().createEnumeration()
    while paragraphs.hasMoreElements():
        paragraph = paragraphs.nextElement()
        if not paragraph.supportsService("com.sun.star.text.Paragraph"):
            continue
        runs = []
        portions = paragraph.createEnumeration()
        while portions.hasMoreElements():
            p = portions.nextElement()
            if not p.getString():
                continue
            runs.append({"text": p.getString(), "bold": p.CharWeight > 100.0,
                         "italic": p.CharPosture.value != "NONE", "underline": p.CharUnderline != 0,
                         "link": p.HyperLinkURL})
        out.append(runs)
    return out


def selected_text(doc) -> str:
    selection = doc.getCurrentController().getSelection()
    return selection.getByIndex(0).getString() if selection is not None and selection.getCount() else ""


def redlines(doc) -> list[dict]:
    """The document's tracked changes: type (Insert, Delete, Format…) and author."""
    out = []
    found = doc.getRedlines().createEnumeration()
    while found.hasMoreElements():
        redline = found.nextElement()
        out.append({"type": redline.RedlineType, "author": redline.RedlineAuthor})
    return out


def user_name(ctx) -> str:
    profile = config(ctx, "/org.openoffice.UserProfile/Data")
    return " ".join(n for n in (profile.getByName("givenname"), profile.getByName("sn")) if n)


def select(doc, how) -> None:
    controller = doc.getCurrentController()
    text = doc.getText()
    if how == "all":
        cursor = text.createTextCursor()
        cursor.gotoStart(False)
        cursor.gotoEnd(True)
    elif how == "end":
        cursor = text.createTextCursorByRange(text.getEnd())
    else:
        paragraphs = text.createEnumeration()
        for _ in range(int(how)):
            paragraphs.nextElement()
        paragraph = paragraphs.nextElement()
        cursor = text.createTextCursorByRange(paragraph)
    controller.select(cursor)


class Waiter(unohelper.Base, XDispatchResultListener):
    def __init__(self):
        self.event = threading.Event()
        self.state, self.result = None, None

    def dispatchFinished(self, event):
        self.state = "SUCCESS" if event.State == SUCCESS else "FAILURE"
        self.result = json.loads(event.Result) if event.Result else None
        self.event.set()

    def disposing(self, event):
        pass


def wait_until_written(how: dict) -> None:
    """Wait until a scripted model (tests/fake_upstream.py, GET) has written `at_least` pieces."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with urllib.request.urlopen(how["url"], timeout=5) as answer:
            if json.loads(answer.read())["sent"] >= how["at_least"]:
                return
        time.sleep(0.05)


def dispatch(ctx, doc, url: str, args: dict, timeout: float, cancel_after: float | None = None,
             cancel_when: dict | None = None) -> dict:
    frame = doc.getCurrentController().getFrame()
    transformer = ctx.ServiceManager.createInstanceWithContext("com.sun.star.util.URLTransformer", ctx)
    target = uno.createUnoStruct("com.sun.star.util.URL")
    target.Complete = url
    _, target = transformer.parseStrict(target)
    dispatcher = frame.queryDispatch(target, "_self", 0)
    if dispatcher is None:
        return {"state": "NO_DISPATCHER"}
    waiter = Waiter()
    started = time.monotonic()
    dispatcher.dispatchWithNotification(target, tuple(prop(k, v) for k, v in args.items()), waiter)
    returned = time.monotonic() - started
    if cancel_when is not None:  # the model has written some of the text: then Stop
        wait_until_written(cancel_when)
        cancel_after = cancel_after or 0.0
    if cancel_after is not None:  # press Cancel while the server is still working
        time.sleep(cancel_after)
        target.Complete = "vnd.plume:cancel"
        _, cancel_url = transformer.parseStrict(target)
        frame.queryDispatch(cancel_url, "_self", 0).dispatchWithNotification(cancel_url, (), Waiter())
    if not waiter.event.wait(timeout):
        return {"state": "TIMEOUT", "returned_after_s": returned}
    return {"state": waiter.state, "result": waiter.result, "returned_after_s": returned}


def other_documents_text(desktop, doc) -> list[str]:
    texts = []
    components = desktop.getComponents().createEnumeration()
    while components.hasMoreElements():
        component = components.nextElement()
        if component != doc and hasattr(component, "getText"):
            texts.append(component.getText().getString())
            component.close(True)
    return texts


def run(ctx, scenario: dict) -> dict:
    if scenario.get("registry"):
        return registry(ctx)
    refused = write_settings(ctx, scenario["settings"]) if "settings" in scenario else []
    if "user_name" in scenario:  # the clerk's name in Tools > Options > User Data
        profile = config(ctx, "/org.openoffice.UserProfile/Data", update=True)
        profile.replaceByName("givenname", scenario["user_name"])
        profile.replaceByName("sn", "")
        profile.commitChanges()
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    if scenario.get("panels"):
        return panels(ctx, desktop)
    if "template_form" in scenario:
        return template_form(ctx, desktop, scenario["template_form"])
    if "options_page" in scenario:
        return {"refused": refused, **options_page(ctx, desktop, scenario["options_page"])}
    if "file" in scenario:
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(scenario["file"]), "_blank", 0,
                                           (prop("Hidden", True),))
    else:
        doc = build_document(desktop, scenario.get("paragraphs", [[{"text": ""}]]))
    try:
        if scenario.get("recording"):  # the clerk already records her own changes
            doc.RecordChanges = True
        out = {"before": read_runs(doc), "refused_settings": refused}
        if "select" in scenario:
            select(doc, scenario["select"])
        if "click" in scenario:
            out.update(click_panel(ctx, doc, scenario["click"]))
        if "dispatch" in scenario:
            out.update(dispatch(ctx, doc, scenario["dispatch"], scenario.get("args", {}),
                                scenario.get("timeout", 60), scenario.get("cancel_after"),
                                scenario.get("cancel_when")))
        out["after"] = read_runs(doc)
        if scenario.get("save_as"):  # keep the file's own format (.docx stays Word)
            filters = {".docx": "MS Word 2007 XML", ".odt": "writer8"}
            path = scenario["save_as"]
            doc.storeToURL(uno.systemPathToFileUrl(path),
                           (prop("FilterName", filters[os.path.splitext(path)[1]]), prop("Overwrite", True)))
        out["text"] = doc.getText().getString()
        out["modified"] = doc.isModified()
        out["redlines"] = redlines(doc)
        out["user_name"] = user_name(ctx)
        out["recording"] = bool(doc.RecordChanges)
        undo = doc.getUndoManager()
        out["undo_titles"] = list(undo.getAllUndoActionTitles())
        if scenario.get("review"):  # the clerk accepts, or rejects, all the tracked changes
            review = {"accept": ".uno:AcceptAllTrackedChanges", "reject": ".uno:RejectAllTrackedChanges"}
            helper = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
            helper.executeDispatch(doc.getCurrentController().getFrame(), review[scenario["review"]], "", 0, ())
            out["reviewed"] = read_runs(doc)
            out["reviewed_text"] = doc.getText().getString()
            out["redlines_left"] = len(redlines(doc))
            undo.undo()  # back to the tracked changes, for the undo below
        if scenario.get("undo") and undo.isUndoPossible():
            undo.undo()
            out["after_undo"] = read_runs(doc)
        if scenario.get("other_documents"):
            out["other_documents"] = other_documents_text(desktop, doc)
        return out
    finally:
        doc.close(True)


def main() -> None:
    ctx = connect(int(sys.argv[1]))
    scenario = json.load(sys.stdin)
    print(json.dumps(run(ctx, scenario), ensure_ascii=False, default=str), flush=True)
    os._exit(0)  # skip interpreter teardown: tearing down a remote UNO bridge can crash


if __name__ == "__main__":
    main()
