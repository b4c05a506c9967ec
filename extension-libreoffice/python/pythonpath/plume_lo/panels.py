"""The Plume sidebar deck's panels (registry/Sidebar.xcu, dialogs/*Panel.xdl).

Panels only collect choices and show outcomes: every button starts an action from actions.py
through runner.start, exactly as the dispatch URLs do. While a request runs, the progress bar
moves and Cancel is enabled; the rest of LibreOffice stays usable.
"""

from __future__ import annotations

import traceback

import unohelper
from com.sun.star.awt import XActionListener, XItemListener, XWindowListener
from com.sun.star.lang import XEventListener
from com.sun.star.ui import LayoutSize, XSidebarPanel, XToolPanel, XUIElement, XUIElementFactory
from com.sun.star.ui.UIElementType import TOOLPANEL
from com.sun.star.lang import XServiceInfo

from plume_lo import actions, forms, i18n, runner, settings
from plume_lo.client import PlumeError

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


class _ItemListener(unohelper.Base, XItemListener):
    def __init__(self, fn):
        self.fn = fn

    def itemStateChanged(self, event):
        self.fn()

    def disposing(self, event):
        pass


class _Shown(unohelper.Base, XWindowListener):
    """Calls back each time the panel is shown again (the deck reopened, the panel expanded)."""

    def __init__(self, fn):
        self.fn = fn

    def windowShown(self, event):
        self.fn()

    def windowResized(self, event):
        pass

    def windowMoved(self, event):
        pass

    def windowHidden(self, event):
        pass

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
        self.model("Status").Text = message  # a read-only text box that wraps and scrolls: never cut off

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
              "Acknowledge": "acknowledge", "Cancel": "cancel", "LabelResult": "result", "Insert": "insert",
              "Replace": "replace", "Discard": "discard", "Details": "details"}
    # The panel's buttons and the /v1/capabilities task each one needs.
    TASKS = {"Plain": "plain-language", "Translate": "translate", "Summarize": "summarize", "Minutes": "minutes",
             "Factsheet": "factsheet", "Acknowledge": "acknowledge"}

    def __init__(self, ctx, frame, parent):
        super().__init__(ctx, frame, parent)
        self.targets = list(i18n.TARGET_LANGUAGES)  # until the server says which work
        self._fill_targets(self.targets)
        self.levels = ["B1", "A2"]
        self._fill_levels(self.levels)
        self.pending = None  # what the running request is for: capabilities, plain, task, apply
        self.result = None  # what the clerk may insert: {"text", "request_ids", and for a preview "plain"}
        self.details = ""
        self.on("Plain", self.plain)
        self.on("Translate", self.translate)
        for name, kind in (("Summarize", "summarize"), ("Minutes", "minutes"), ("Factsheet", "factsheet"),
                           ("Acknowledge", "acknowledge")):
            self.on(name, lambda kind=kind: self.start("task", actions.TextTask(kind)))
        self.on("Cancel", lambda: self.job and self.job.cancel())
        self.on("Insert", lambda: self.accept("after"))
        self.on("Replace", lambda: self.accept("replace"))
        self.on("Discard", self.discard)
        self.on("Details", self.toggle_details)
        self.start("capabilities", actions.Capabilities())

    def start(self, pending, action):
        if self.job is not None and not self.job.done:
            self.status(i18n.text(self.language, "busy"))
            return
        self.pending = pending
        if pending in ("plain", "task"):
            self.clear_result()  # a new request: the old result must not stay insertable
        self.run(action)

    def plain(self):
        index = self.control("Level").getSelectedItemPos()
        level = self.levels[index] if 0 <= index < len(self.levels) else "B1"
        self.start("plain", actions.PlainLanguage(level=level, preview=True))

    def translate(self):
        index = self.control("Target").getSelectedItemPos()
        if 0 <= index < len(self.targets):
            self.start("translate", actions.Translate(target=self.targets[index]))

    # -- what the server can do -------------------------------------------------------------------

    def _fill_levels(self, codes):
        """« B1 (simple) », « A2 (très simple) »: the level and what it means."""
        listbox = self.control("Level")
        listbox.removeItems(0, listbox.getItemCount())
        listbox.addItems(tuple(i18n.STRINGS.get(self.language, i18n.STRINGS["fr"]).get(f"level_{c}") or c
                               for c in codes), 0)
        if codes:
            listbox.selectItemPos(0, True)

    def _fill_targets(self, codes):
        listbox = self.control("Target")
        listbox.removeItems(0, listbox.getItemCount())
        listbox.addItems(tuple(i18n.language_name(self.language, code) for code in codes), 0)
        if codes:
            listbox.selectItemPos(0, True)

    def apply_capabilities(self, tasks: dict) -> None:
        """Offer only what works: greyed-out buttons with the server's one-sentence reason."""
        if not tasks:
            return  # an older server: keep every choice, its errors will say what is missing
        reasons = []
        for button, task in self.TASKS.items():
            info = tasks.get(task)
            available = bool(info and info.get("available"))
            self.model(button).Enabled = available
            if not available:
                reason = (info or {}).get("reason_de" if self.language == "de" else "reason") or \
                    i18n.text(self.language, "unavailable")
                reasons.append(f"{self.model(button).Label} : {reason}" if self.language == "fr"
                               else f"{self.model(button).Label}: {reason}")
        translate = tasks.get("translate") or {}
        self.targets = list(translate.get("targets") or _targets_of(translate.get("pairs") or [])) \
            if translate.get("available") else []
        self._fill_targets(self.targets)
        self.model("Target").Enabled = bool(self.targets)
        levels = (tasks.get("plain-language") or {}).get("levels") or []
        if levels:
            self.levels = list(levels)
            self._fill_levels(self.levels)
        self.model("Notice").Text = "\n".join(reasons)  # wraps and scrolls: never cut off

    # -- results ----------------------------------------------------------------------------------

    def finished(self, ok, message, data):
        if not self.alive:  # an answer that arrives after the deck was closed is dropped
            return
        pending, self.pending = self.pending, None
        self.busy(False)
        self.status(message)
        if pending == "capabilities":
            self.status("" if ok else message)
            if ok:
                self.apply_capabilities(data.get("capabilities") or {})
            return
        if not ok:
            self.clear_result()  # never leave an earlier result insertable after an error
            return
        if pending == "plain":
            self.show_plain(data)
            if data.get("partial"):  # Stop: the clerk must see it is only part of the text
                self.status(message)
        elif pending == "task" and data.get("text"):
            self.result = {"text": data["text"], "request_ids": [data.get("request_id") or ""]}
            self.model("Result").Text = data["text"]
            self.model("Insert").Enabled = self.model("Discard").Enabled = True
        elif pending == "translate" and data.get("warnings"):
            self.status(message + "\n" + "\n".join(str(w) for w in data["warnings"]))
        elif pending == "apply":
            self.clear_result()

    def writing(self, text):
        """The text as the model writes it, where the result will be shown."""
        if self.alive and self.pending in ("plain", "task"):
            self.model("Result").Text = text

    def show_plain(self, data):
        self.result = {"text": data.get("text") or "", "request_ids": data.get("request_ids") or [],
                       "plain": data}
        before, after = _merged(data.get("before")), _merged(data.get("after"))
        self.model("Scores").Label = readability_line(self.language, before, after)
        self.details = indices_text(self.language, before, after)
        self.model("Details").Enabled = bool(self.details)
        self.model("Remarks").Text = remarks_text(self.language, data)
        self.model("Discard").Enabled = True
        if data.get("unchanged") and not data.get("partial"):
            # Nothing safe to change: said, with the remarks; her own text is not offered to put in again.
            self.result["text"] = self.model("Result").Text = ""
            self.model("Replace").Enabled = self.model("Insert").Enabled = False
            self.status(actions.nothing_safe_sentence(self.language, data))
            return
        self.model("Result").Text = self.result["text"]
        self.model("Replace").Enabled = self.model("Insert").Enabled = True
        self.status(i18n.text(self.language, "preview_ready"))

    def clear_result(self):
        self.result, self.details = None, ""
        for name in ("Result", "Remarks"):
            self.model(name).Text = ""
        self.model("Scores").Label = ""
        self.model("Details").Label = i18n.text(self.language, "details")
        for name in ("Replace", "Insert", "Discard", "Details"):
            self.model(name).Enabled = False

    def toggle_details(self):
        remarks = remarks_text(self.language, (self.result or {}).get("plain") or {})
        showing = self.model("Details").Label != i18n.text(self.language, "details")
        self.model("Remarks").Text = remarks if showing else self.details + "\n\n" + remarks
        self.model("Details").Label = i18n.text(self.language, "details" if showing else "hide_details")

    def accept(self, mode):
        if not self.result:
            return
        plain = self.result.get("plain")
        if plain:
            action = actions.ApplyPlainLanguage(plain.get("originals") or [], plain.get("texts") or [],
                                                self.result["request_ids"], mode=mode)
        else:
            action = actions.InsertResult(self.result["text"], self.result["request_ids"])
        self.start("apply", action)

    def discard(self):
        self.clear_result()
        self.status(i18n.text(self.language, "discarded"))


def _targets_of(pairs) -> list:
    """["fr-es", "de-fr"] -> ["es", "fr"], in order, without repeats."""
    out = []
    for pair in pairs:
        target = str(pair).split("-", 1)[-1]
        if target not in out:
            out.append(target)
    return out


def _merged(scores):
    """The panel shows one line for the whole selection: the first paragraph's scores when several."""
    if isinstance(scores, list):
        scores = next((s for s in scores if s), None)
    return scores or {}


# Kandel-Moles (French Flesch) bands, for a server that does not send `band` itself.
_BANDS = ((30, "very-hard"), (50, "hard"), (60, "fairly-hard"), (70, "medium"), (80, "fairly-easy"))


def band_of(scores: dict) -> str:
    if scores.get("band"):
        return str(scores["band"])
    value = scores.get("kandel_moles")
    if not isinstance(value, (int, float)):
        return ""
    return next((band for limit, band in _BANDS if value < limit), "easy")


def readability_line(language: str, before: dict, after: dict) -> str:
    """« Lisibilité : difficile → assez facile », in the words a secretary uses."""
    names = [i18n.text(language, f"band_{band_of(s)}") if band_of(s) else "" for s in (before, after)]
    if not names[0]:
        return ""
    if not names[1]:
        return i18n.text(language, "readability_one", before=names[0])
    return i18n.text(language, "readability", before=names[0], after=names[1])


def _number(language, value) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "fr" else text


def indices_text(language: str, before: dict, after: dict) -> str:
    if not before:
        return ""
    values = {key: f"{_number(language, before.get(key))} → {_number(language, after.get(key))}"
              for key in ("kandel_moles", "lix", "rix", "words_per_sentence")}
    return i18n.text(language, "indices", **values)


def remarks_text(language: str, data: dict) -> str:
    lines = []
    for item in data.get("diagnostics") or []:
        if isinstance(item, str):
            lines.append("• " + item)
            continue
        line = str(item.get("message") or "")
        better = item.get("suggestion") or ""
        if better and better not in line:
            line += f" → {better}"
        if line:
            lines.append("• " + line)
    for warning in data.get("warnings") or []:
        lines.append("• " + str(warning.get("message") if isinstance(warning, dict) else warning))
    return i18n.text(language, "remarks") + "\n" + ("\n".join(lines) or i18n.text(language, "no_remarks"))


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
        # The languages the letter exists in as .odt (French first); a choice only when there are several.
        formats = template.get("language_formats") or {}
        self.languages = [code for code in template.get("languages") or ["fr"] if "odt" in formats.get(code, ["odt"])]
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
        if len(self.languages) > 1:
            names = tuple(i18n.language_name(self.language, code) for code in self.languages)
            self._add(model, "FixedText", "LabelLanguage", 6, y + 2, 100, 10, Label=text("letter_language"))
            self._add(model, "ListBox", "Language", 110, y, 164, 12, Dropdown=True, StringItemList=names,
                      SelectedItems=(0,))
            y += 16
        for field in self.fields:
            label = forms.label(field) + (" *" if field.get("required") else "")
            tip = forms.hint(field, self.language)
            height = 30 if forms.is_multiline(field) else 12
            self._add(model, "FixedText", f"L_{field['name']}", 6, y + 2, 100, 10, Label=label, HelpText=tip,
                      MultiLine=True)
            if field.get("choices"):
                self._add(model, "ComboBox", f"F_{field['name']}", 110, y, 164, 12, HelpText=tip, Dropdown=True,
                          StringItemList=tuple(field["choices"]))
            elif field.get("type") == "bool":
                self._add(model, "ComboBox", f"F_{field['name']}", 110, y, 164, 12, HelpText=tip, Dropdown=True,
                          StringItemList=("oui", "non"))
            else:
                self._add(model, "Edit", f"F_{field['name']}", 110, y, 164, height, HelpText=tip,
                          MultiLine=forms.is_multiline(field), VScroll=forms.is_multiline(field))
            y += height + 1
            if tip:  # the help is shown, not only as a tooltip: about 48 characters a line at this width
                lines = sum(max(1, -(-len(part) // 48)) for part in tip.split("\n"))
                self._add(model, "FixedText", f"H_{field['name']}", 110, y, 164, 8 * lines, Label=tip,
                          MultiLine=True, TextColor=0x555555)
                y += 8 * lines
            y += 3
        # Messages wrap and scroll: a long one is never cut off.
        self._add(model, "Edit", "Status", 6, y + 2, 268, 30, MultiLine=True, VScroll=True, ReadOnly=True,
                  Border=0)
        y += 36
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
                                          for f in self.fields}, self.language)

    def say(self, message: str) -> None:
        self.dialog.getControl("Status").getModel().Text = message

    def fill_from_notes(self):
        notes = self.dialog.getControl("Notes").getModel().Text
        self.mode = "extract"
        runner.start(self.ctx, actions.ExtractFields(self.template["id"], notes), None, self)

    def render(self, mode):
        try:
            values = self.values()
        except forms.FieldError as error:  # the clerk's typing mistake, named by the field's label
            self.say(error.message)
            return
        self.mode = mode
        runner.start(self.ctx, actions.InsertTemplate(self.template["id"], values, mode=mode,
                                                      language=self.chosen_language()),
                     self.panel.document(), self)

    def chosen_language(self) -> str:
        """The letter's language chosen in the form; empty (French) when the template has only French."""
        if len(self.languages) < 2:
            return ""
        chosen = self.dialog.getControl("Language").getSelectedItemPos()
        return self.languages[chosen] if 0 < chosen < len(self.languages) else ""

    def progress(self, message):
        if self.alive:
            self.say(message)

    def finished(self, ok, message, data):
        if not self.alive:
            return
        self.say(message)
        if not ok:
            return
        if self.mode == "extract":
            found = data.get("values") or {}
            for field in self.fields:
                if field["name"] in found:
                    self.dialog.getControl(f"F_{field['name']}").getModel().Text = forms.to_text(
                        field, found[field["name"]])
            missing = forms.labels(self.fields, data.get("missing") or [])
            self.say(i18n.text(self.language, "missing_fields", fields=", ".join(missing))
                     if missing else i18n.text(self.language, "filled"))
        elif not data.get("warning"):  # a French letter instead of the language chosen: said, form kept
            self.dialog.endExecute()


class ReviewPanel(_Panel):
    """« Corriger » (proofreading of the selection) and the commune's own actions.

    The errors are listed; choosing one selects it in the document and lists its suggestions;
    « Appliquer » puts the chosen one in, « Tout corriger » the unambiguous ones, in one undo step,
    through the review mode. The actions are read again from the server whenever the panel is
    shown or « Actualiser » is pressed, so an action an admin adds appears without a restart."""
    DIALOG = "dialogs/ReviewPanel.xdl"
    LABELS = {"Proofread": "proofread", "FixAll": "fix_all", "LabelSuggestions": "suggestions", "Fix": "fix",
              "LabelActions": "commune_actions", "RefreshActions": "refresh", "RunAction": "run_action",
              "Cancel": "cancel"}

    def __init__(self, ctx, frame, parent):
        super().__init__(ctx, frame, parent)
        self.pending = None
        self.checking = None  # the Proofread action running
        self.proof = None  # the last one that answered: its errors, and where they are in the document
        self.actions: list = []
        self.on("Proofread", self.check)
        self.on("Fix", self.fix_chosen)
        self.on("FixAll", self.fix_all)
        self.on("RefreshActions", self.refresh_actions)
        self.on("RunAction", self.run_action)
        self.on("Cancel", lambda: self.job and self.job.cancel())
        self.control("Errors").addItemListener(_ItemListener(self.show_error))
        self.control("Actions").addItemListener(_ItemListener(self.show_action))
        self.window.addWindowListener(_Shown(self.refresh_actions))
        self.refresh_actions()

    def start(self, pending, action):
        if self.job is not None and not self.job.done:
            if pending != "actions":  # a refresh while something runs is simply skipped
                self.status(i18n.text(self.language, "busy"))
            return
        self.pending = pending
        self.run(action)

    def writing(self, text):
        """An action's text as the model writes it: the clerk can stop when she has enough."""
        if self.alive and self.pending == "action":
            self.status(i18n.text(self.language, "working") + "\n" + text)

    def finished(self, ok, message, data):
        if not self.alive:
            return
        pending, self.pending = self.pending, None
        self.busy(False)
        self.status(message)
        if not ok:
            return
        if pending == "actions":
            self.fill_actions(data.get("actions") or [])
        elif pending == "proofread":
            self.proof = self.checking
            self.fill_errors()
            codes, found = list(data.get("warning_codes") or []), data.get("language") or ""
            said = [i18n.warning(self.language, str(w), codes[i] if i < len(codes) else "", found)
                    for i, w in enumerate(data.get("warnings") or [])]  # « Seul le français est vérifié… »
            if not said:
                said = [i18n.text(self.language, "proof_found", count=len(self.proof.errors))
                        if self.proof.errors else i18n.text(self.language, "proof_none")]
            self.status("\n".join(said))

    # -- proofreading -----------------------------------------------------------------------------

    def check(self):
        self.checking = actions.Proofread()
        self.start("proofread", self.checking)

    def fill_errors(self):
        errors = self.proof.errors if self.proof else []
        listbox = self.control("Errors")
        listbox.removeItems(0, listbox.getItemCount())
        colon = " : " if self.language == "fr" else ": "
        listbox.addItems(tuple(f"« {e.get('text', '')} »{colon}{e.get('message', '')}" for e in errors), 0)
        suggestions = self.control("Suggestions")
        suggestions.removeItems(0, suggestions.getItemCount())
        self.model("Fix").Enabled = False
        self.model("FixAll").Enabled = bool(self.proof and self.proof.sure_fixes())

    def chosen_error(self):
        index = self.control("Errors").getSelectedItemPos()
        errors = self.proof.errors if self.proof else []
        return errors[index] if 0 <= index < len(errors) else None

    def show_error(self):
        """The chosen error is selected in the document; its suggestions are listed."""
        error = self.chosen_error()
        if error is None:
            return
        suggestions = self.control("Suggestions")
        suggestions.removeItems(0, suggestions.getItemCount())
        suggestions.addItems(tuple(_visible(s) for s in error.get("suggestions") or []), 0)
        if suggestions.getItemCount():
            suggestions.selectItemPos(0, True)
        self.model("Fix").Enabled = bool(error.get("suggestions"))
        cursor = self.proof.locate(error)
        doc = self.document()
        if cursor is None:
            self.status(i18n.text(self.language, "proof_changed"))
        elif doc is not None:
            doc.getCurrentController().select(cursor)

    def fix_chosen(self):
        error = self.chosen_error()
        index = self.control("Suggestions").getSelectedItemPos()
        if error is None or not 0 <= index < len(error.get("suggestions") or []):
            self.status(i18n.text(self.language, "proof_pick"))
            return
        self.apply_fixes([(error, error["suggestions"][index])])

    def fix_all(self):
        fixes = self.proof.sure_fixes() if self.proof else []
        if not fixes:
            self.status(i18n.text(self.language, "proof_no_sure"))
            return
        self.apply_fixes(fixes)

    def apply_fixes(self, fixes):
        """No server call: the suggestions are already here, so the change is made at once."""
        if self.job is not None and not self.job.done:
            self.status(i18n.text(self.language, "busy"))
            return
        try:
            count = self.proof.fix(self.ctx, self.document(), fixes)
        except PlumeError as error:
            self.status(error.message(self.language))
            return
        except Exception:
            traceback.print_exc()
            self.status(i18n.text(self.language, "internal"))
            return
        self.fill_errors()
        self.status(i18n.text(self.language, "proof_applied", count=count))

    # -- the commune's actions --------------------------------------------------------------------

    def refresh_actions(self):
        self.start("actions", actions.ListActions())

    def fill_actions(self, listing):
        chosen = self.chosen_action()
        self.actions = listing
        listbox = self.control("Actions")
        listbox.removeItems(0, listbox.getItemCount())
        title = "title_de" if self.language == "de" else "title"
        listbox.addItems(tuple(str(a.get(title) or a.get("title") or a["id"]) for a in listing), 0)
        ids = [a["id"] for a in listing]
        if listing:
            listbox.selectItemPos(ids.index(chosen["id"]) if chosen and chosen["id"] in ids else 0, True)
        self.show_action()
        self.status(i18n.text(self.language, "actions_listed", count=len(listing)) if listing
                    else i18n.text(self.language, "no_actions"))

    def chosen_action(self):
        index = self.control("Actions").getSelectedItemPos()
        return self.actions[index] if 0 <= index < len(self.actions) else None

    def show_action(self):
        """An action the server cannot run now is greyed out, with its one-sentence reason."""
        action = self.chosen_action()
        available = bool(action and action.get("available", True))
        self.model("RunAction").Enabled = available
        reason = ""
        if action and not available:
            reason = action.get("reason_de" if self.language == "de" else "reason") or \
                i18n.text(self.language, "unavailable")
        self.model("Notice").Text = reason  # wraps and scrolls: never cut off

    def run_action(self):
        action = self.chosen_action()
        if action and action.get("available", True):
            self.start("action", actions.RunAction(action["id"], applies_to=action.get("applies_to") or "selection"))


def _visible(suggestion: str) -> str:
    """A non-breaking space shown as such, so the clerk sees what the suggestion changes."""
    return suggestion.replace("\u00a0", "\u2423").replace("\u202f", "\u2423")


class PanelElement(unohelper.Base, XUIElement):
    def __init__(self, url, frame, panel):
        self.ResourceURL, self.Frame, self.Type = url, frame, TOOLPANEL
        self.panel = panel

    def getRealInterface(self):
        return self.panel


PANELS = {"TextPanel": TextPanel, "TemplatesPanel": TemplatesPanel, "ReviewPanel": ReviewPanel}


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

