"""The Plume sidebar deck's panels (registry/Sidebar.xcu, dialogs/*Panel.xdl).

Panels only collect choices and show outcomes: every button starts an action from actions.py
through runner.start, exactly as the dispatch URLs do. While a request runs, the progress bar
moves and Cancel is enabled; the rest of LibreOffice stays usable.
"""

from __future__ import annotations

import unohelper
from com.sun.star.awt import XActionListener
from com.sun.star.lang import XEventListener
from com.sun.star.ui import LayoutSize, XSidebarPanel, XToolPanel, XUIElement, XUIElementFactory
from com.sun.star.ui.UIElementType import TOOLPANEL
from com.sun.star.lang import XServiceInfo

from plume_lo import actions, forms, i18n, runner, settings

IMPLEMENTATION = "ch.lelocle.plume.PanelFactory"
EXTENSION_ID = "ch.lelocle.plume"


def extension_url(ctx, relative: str) -> str:
    provider = ctx.getValueByName("/singletons/com.sun.star.deployment.PackageInformationProvider")
    return provider.getPackageLocation(EXTENSION_ID) + "/" + relative


class _Listener(unohelper.Base, XActionListener):
    def __init__(self, fn):
        self.fn = fn

    def actionPerformed(self, event):
        self.fn()

    def disposing(self, event):
        pass


class _Disposal(unohelper.Base, XEventListener):
    """Tells its owner when a window goes away (deck closed, dialog closed) while a request still runs."""

    def __init__(self, owner):
        self.owner = owner

    def disposing(self, event):
        self.owner.alive = False


class _Panel(unohelper.Base, XToolPanel, XSidebarPanel, runner.Reporter):
    DIALOG = ""
    LABELS: dict[str, str] = {}

    def __init__(self, ctx, frame, parent):
        self.ctx, self.frame = ctx, frame
        self.job = None
        self.language = settings.language(ctx)
        provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.awt.ContainerWindowProvider", ctx)
        self.window = provider.createContainerWindow(extension_url(ctx, self.DIALOG), "", parent, None)
        self.window.setVisible(True)
        self.Window = self.window  # XToolPanel's read-only attribute
        self.alive = True
        self.window.addEventListener(_Disposal(self))
        for control, key in self.LABELS.items():
            self.model(control).Label = i18n.text(self.language, key)

    def control(self, name):
        return self.window.getControl(name)

    def model(self, name):
        return self.control(name).getModel()

    def on(self, name, fn):
        self.control(name).addActionListener(_Listener(fn))

    def document(self):
        controller = self.frame.getController() if self.frame is not None else None
        return controller.getModel() if controller is not None else None

    def run(self, action):
        if self.job is not None and not self.job.done:
            self.status(i18n.text(self.language, "busy"))
            return
        self.job = runner.start(self.ctx, action, self.document(), self)

    def status(self, message: str) -> None:
        self.model("Status").Label = message

    def progress(self, message):
        if self.alive:
            self.status(message)
            self.busy(True)

    def finished(self, ok, message, data):
        if self.alive:  # an answer that arrives after the deck was closed is dropped
            self.busy(False)
            self.status(message)
            self.show(ok, data)

    def show(self, ok: bool, data: dict) -> None:
        pass

    def busy(self, on: bool) -> None:
        if self.has("Progress"):
            self.model("Progress").ProgressValue = 50 if on else 0
        if self.has("Cancel"):
            self.model("Cancel").Enabled = on

    def has(self, name) -> bool:
        return self.window.getControl(name) is not None

    # XToolPanel
    def createAccessible(self, parent):
        return self.window.getAccessibleContext() if hasattr(self.window, "getAccessibleContext") else None

    # XSidebarPanel
    def getHeightForWidth(self, width):
        height = self.window.getPosSize().Height
        return LayoutSize(height, height, height)

    def getMinimalWidth(self):
        return self.window.getPosSize().Width


class TextPanel(_Panel):
    DIALOG = "dialogs/TextPanel.xdl"
    LABELS = {"LabelLevel": "level", "Plain": "plain", "LabelTarget": "target", "Translate": "translate",
              "Summarize": "summarize", "Minutes": "minutes", "Factsheet": "factsheet",
              "Acknowledge": "acknowledge", "Cancel": "cancel", "LabelResult": "result", "Insert": "insert"}

    def __init__(self, ctx, frame, parent):
        super().__init__(ctx, frame, parent)
        self.result = ""
        self.on("Plain", lambda: self.run(actions.PlainLanguage(level=self.choice("Level", "B1"))))
        self.on("Translate", lambda: self.run(actions.Translate(target=self.choice("Target", "de"))))
        for name, kind in (("Summarize", "summarize"), ("Minutes", "minutes"), ("Factsheet", "factsheet"),
                           ("Acknowledge", "acknowledge")):
            self.on(name, lambda kind=kind: self.run(actions.TextTask(kind)))
        self.on("Cancel", lambda: self.job and self.job.cancel())
        self.on("Insert", lambda: self.result and self.run(actions.InsertResult(self.result)))

    def choice(self, name, default):
        return self.control(name).getSelectedItem() or default

    def show(self, ok, data):
        if ok and "text" in data and not data.get("inserted"):
            self.result = data["text"]
            self.model("Result").Text = self.result
            self.model("Insert").Enabled = bool(self.result)


class TemplatesPanel(_Panel):
    DIALOG = "dialogs/TemplatesPanel.xdl"
    LABELS = {"LabelTemplate": "template", "Refresh": "refresh", "Fill": "fill_form"}

    def __init__(self, ctx, frame, parent):
        super().__init__(ctx, frame, parent)
        self.templates: list[dict] = []
        self.on("Refresh", self.refresh)
        self.on("Fill", self.open_form)
        self.pending = None
        self.refresh()

    def refresh(self):
        self.pending = "list"
        self.run(actions.ListTemplates())

    def open_form(self):
        index = self.control("Template").getSelectedItemPos()
        if index < 0 or index >= len(self.templates):
            self.status(i18n.text(self.language, "no_template"))
            return
        self.pending = "fields"
        self.run(actions.GetTemplate(self.templates[index]["id"]))

    def show(self, ok, data):
        pending, self.pending = self.pending, None
        if not ok:
            return
        if pending == "list":
            self.templates = list(data.get("templates") or [])
            listbox = self.control("Template")
            listbox.removeItems(0, listbox.getItemCount())
            listbox.addItems(tuple(t.get("title") or t["id"] for t in self.templates), 0)
            if self.templates:
                listbox.selectItemPos(0, True)
            self.status("")
        elif pending == "fields":
            TemplateForm(self.ctx, self, data["template"]).execute()


class TemplateForm(runner.Reporter):
    """A dialog built from the template's fields: notes -> values, then insert or open."""

    def __init__(self, ctx, panel: TemplatesPanel, template: dict):
        self.ctx, self.panel, self.template = ctx, panel, template
        self.language = panel.language
        self.fields = list(template.get("fields") or [])
        self.mode = ""  # what the running request is for: "extract", "insert" or "new"
        self.alive = True
        self.dialog = self._build()
        self.dialog.addEventListener(_Disposal(self))

    def _add(self, model, kind, name, x, y, w, h, **props):
        control = model.createInstance(f"com.sun.star.awt.UnoControl{kind}Model")
        control.PositionX, control.PositionY, control.Width, control.Height = x, y, w, h
        for key, value in props.items():
            setattr(control, key, value)
        model.insertByName(name, control)

    def _build(self):
        smgr = self.ctx.ServiceManager
        model = smgr.createInstanceWithContext("com.sun.star.awt.UnoControlDialogModel", self.ctx)
        text = lambda key: i18n.text(self.language, key)  # noqa: E731
        model.Title = self.template.get("title") or self.template.get("id", "Plume")
        self._add(model, "FixedText", "LabelNotes", 6, 6, 268, 10, Label=text("notes"))
        self._add(model, "Edit", "Notes", 6, 18, 268, 40, MultiLine=True, VScroll=True)
        self._add(model, "Button", "FillNotes", 6, 62, 120, 14, Label=text("fill_from_notes"))
        y = 82
        for field in self.fields:
            label = (field.get("label") or field["name"]) + (" *" if field.get("required") else "")
            tip = forms.hint(field)
            height = 30 if forms.is_multiline(field) else 12
            self._add(model, "FixedText", f"L_{field['name']}", 6, y + 2, 100, 10, Label=label, HelpText=tip)
            if field.get("choices"):
                self._add(model, "ComboBox", f"F_{field['name']}", 110, y, 164, 12, HelpText=tip, Dropdown=True,
                          StringItemList=tuple(field["choices"]))
            elif field.get("type") == "bool":
                self._add(model, "ComboBox", f"F_{field['name']}", 110, y, 164, 12, HelpText=tip, Dropdown=True,
                          StringItemList=("oui", "non"))
            else:
                self._add(model, "Edit", f"F_{field['name']}", 110, y, 164, height, HelpText=tip,
                          MultiLine=forms.is_multiline(field), VScroll=forms.is_multiline(field))
            y += height + 2
        self._add(model, "FixedText", "Status", 6, y + 4, 268, 20, Label="", MultiLine=True)
        y += 28
        self._add(model, "Button", "Insert", 6, y, 86, 14, Label=text("insert_here"), PushButtonType=0)
        self._add(model, "Button", "New", 96, y, 86, 14, Label=text("new_document"))
        self._add(model, "Button", "Close", 188, y, 86, 14, Label=text("close"), PushButtonType=2)
        model.Width, model.Height = 280, y + 20
        dialog = smgr.createInstanceWithContext("com.sun.star.awt.UnoControlDialog", self.ctx)
        dialog.setModel(model)
        dialog.getControl("FillNotes").addActionListener(_Listener(self.fill_from_notes))
        dialog.getControl("Insert").addActionListener(_Listener(lambda: self.render("insert")))
        dialog.getControl("New").addActionListener(_Listener(lambda: self.render("new")))
        toolkit = smgr.createInstanceWithContext("com.sun.star.awt.Toolkit", self.ctx)
        dialog.createPeer(toolkit, None)
        return dialog

    def execute(self):
        self.dialog.execute()
        self.dialog.dispose()

    def values(self) -> dict:
        return forms.values(self.fields, {f["name"]: self.dialog.getControl(f"F_{f['name']}").getModel().Text
                                          for f in self.fields})

    def fill_from_notes(self):
        notes = self.dialog.getControl("Notes").getModel().Text
        self.mode = "extract"
        runner.start(self.ctx, actions.ExtractFields(self.template["id"], notes), None, self)

    def render(self, mode):
        self.mode = mode
        runner.start(self.ctx, actions.InsertTemplate(self.template["id"], self.values(), mode=mode),
                     self.panel.document(), self)

    def progress(self, message):
        if self.alive:
            self.dialog.getControl("Status").getModel().Label = message

    def finished(self, ok, message, data):
        if not self.alive:
            return
        status = self.dialog.getControl("Status").getModel()
        status.Label = message
        if not ok:
            return
        if self.mode == "extract":
            found = data.get("values") or {}
            for field in self.fields:
                if field["name"] in found:
                    self.dialog.getControl(f"F_{field['name']}").getModel().Text = forms.to_text(
                        field, found[field["name"]])
            missing = data.get("missing") or []
            status.Label = i18n.text(self.language, "missing_fields", fields=", ".join(map(str, missing))) \
                if missing else i18n.text(self.language, "filled")
        else:
            self.dialog.endExecute()


class PanelElement(unohelper.Base, XUIElement):
    def __init__(self, url, frame, panel):
        self.ResourceURL, self.Frame, self.Type = url, frame, TOOLPANEL
        self.panel = panel

    def getRealInterface(self):
        return self.panel


PANELS = {"TextPanel": TextPanel, "TemplatesPanel": TemplatesPanel}


class PanelFactory(unohelper.Base, XUIElementFactory, XServiceInfo):
    def __init__(self, ctx, *args):
        self.ctx = ctx

    def createUIElement(self, url, args):
        values = {a.Name: a.Value for a in args}
        name = url.rsplit("/", 1)[-1]
        panel = PANELS[name](self.ctx, values.get("Frame"), values.get("ParentWindow"))
        return PanelElement(url, values.get("Frame"), panel)

    def getImplementationName(self):
        return IMPLEMENTATION

    def supportsService(self, name):
        return name in self.getSupportedServiceNames()

    def getSupportedServiceNames(self):
        return ("com.sun.star.ui.UIElementFactory",)

