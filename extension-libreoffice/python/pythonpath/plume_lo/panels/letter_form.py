"""The letter form: a dialog built from a template's fields (the template panel opens it).

The clerk types the values, or has them found in her case notes (« Remplir depuis les notes »),
then inserts the letter at the cursor or opens it as a new document, in one of the languages the
template exists in. FormView builds and shows the dialog; TemplateForm binds its buttons and runs
the actions.
"""

from __future__ import annotations

from plume_lo import forms, i18n, runner
from plume_lo.actions.templates import ExtractFields, InsertTemplate
from plume_lo.panels import listeners

HELP_CHARACTERS_PER_LINE = 48  # about what a help line holds at the form's width


class FormView:
    """The dialog: notes, the letter's language when there are several, one row per field (its label,
    a text box or a list, its help shown under it), a status line and the buttons."""

    def __init__(self, ctx, template: dict, fields: list, languages: list, language: str) -> None:
        self.ctx, self.template, self.fields = ctx, template, fields
        self.languages, self.language = languages, language
        self.dialog = self._build()

    def _add(self, model, kind, name, x, y, w, h, **props):
        control = model.createInstance(f"com.sun.star.awt.UnoControl{kind}Model")
        control.PositionX, control.PositionY, control.Width, control.Height = x, y, w, h
        for key, value in props.items():
            setattr(control, key, value)
        model.insertByName(name, control)

    def _text(self, key: str) -> str:
        return i18n.text(self.language, key)

    def _build(self):
        smgr = self.ctx.ServiceManager
        model = smgr.createInstanceWithContext("com.sun.star.awt.UnoControlDialogModel", self.ctx)
        model.Title = self.template.get("title") or self.template.get("id", "Plume")
        self._add(model, "FixedText", "LabelNotes", 6, 6, 268, 10, Label=self._text("notes"))
        self._add(model, "Edit", "Notes", 6, 18, 268, 40, MultiLine=True, VScroll=True)
        self._add(model, "Button", "FillNotes", 6, 62, 120, 14, Label=self._text("fill_from_notes"))
        y = self._add_languages(model, 82)
        for field in self.fields:
            y = self._add_field(model, field, y)
        # Messages wrap and scroll: a long one is never cut off.
        self._add(model, "Edit", "Status", 6, y + 2, 268, 30, MultiLine=True, VScroll=True, ReadOnly=True,
                  Border=0)
        y += 36
        self._add(model, "Button", "Insert", 6, y, 86, 14, Label=self._text("insert_here"), PushButtonType=0)
        self._add(model, "Button", "New", 96, y, 86, 14, Label=self._text("new_document"))
        self._add(model, "Button", "Close", 188, y, 86, 14, Label=self._text("close"), PushButtonType=2)
        model.Width, model.Height = 280, y + 20
        dialog = smgr.createInstanceWithContext("com.sun.star.awt.UnoControlDialog", self.ctx)
        dialog.setModel(model)
        toolkit = smgr.createInstanceWithContext("com.sun.star.awt.Toolkit", self.ctx)
        dialog.createPeer(toolkit, None)
        return dialog

    def _add_languages(self, model, y: int) -> int:
        """The letter's language, offered only when the template exists in several."""
        if len(self.languages) < 2:
            return y
        names = tuple(i18n.language_name(self.language, code) for code in self.languages)
        self._add(model, "FixedText", "LabelLanguage", 6, y + 2, 100, 10, Label=self._text("letter_language"))
        self._add(model, "ListBox", "Language", 110, y, 164, 12, Dropdown=True, StringItemList=names,
                  SelectedItems=(0,))
        return y + 16

    def _add_field(self, model, field: dict, y: int) -> int:
        name = field["name"]
        label = forms.label(field) + (" *" if field.get("required") else "")
        tip = forms.hint(field, self.language)
        height = 30 if forms.is_multiline(field) else 12
        self._add(model, "FixedText", f"L_{name}", 6, y + 2, 100, 10, Label=label, HelpText=tip, MultiLine=True)
        choices = tuple(field["choices"]) if field.get("choices") else ("oui", "non") \
            if field.get("type") == "bool" else None
        if choices:
            self._add(model, "ComboBox", f"F_{name}", 110, y, 164, 12, HelpText=tip, Dropdown=True,
                      StringItemList=choices)
        else:
            self._add(model, "Edit", f"F_{name}", 110, y, 164, height, HelpText=tip,
                      MultiLine=forms.is_multiline(field), VScroll=forms.is_multiline(field))
        y += height + 1
        if tip:  # the help is shown, not only as a tooltip
            lines = sum(max(1, -(-len(part) // HELP_CHARACTERS_PER_LINE)) for part in tip.split("\n"))
            self._add(model, "FixedText", f"H_{name}", 110, y, 164, 8 * lines, Label=tip, MultiLine=True,
                      TextColor=0x555555)
            y += 8 * lines
        return y + 3

    def field_model(self, field: dict):
        return self.dialog.getControl(f"F_{field['name']}").getModel()

    def typed(self) -> dict:
        """What the clerk typed, field by field."""
        return {f["name"]: self.field_model(f).Text for f in self.fields}

    def notes(self) -> str:
        return self.dialog.getControl("Notes").getModel().Text

    def chosen_language(self) -> int:
        return self.dialog.getControl("Language").getSelectedItemPos() if len(self.languages) > 1 else 0

    def say(self, message: str) -> None:
        self.dialog.getControl("Status").getModel().Text = message

    def show_found(self, found: dict, missing: list) -> None:
        """Values found in the case notes put in their fields; the required ones still missing named."""
        for field in self.fields:
            if field["name"] in found:
                self.field_model(field).Text = forms.to_text(field, found[field["name"]])
        labels = forms.labels(self.fields, missing)
        self.say(i18n.text(self.language, "missing_fields", fields=", ".join(labels))
                 if labels else i18n.text(self.language, "filled"))


class TemplateForm(runner.Reporter):
    """The form's buttons: notes -> values, then insert at the cursor or open as a new document."""

    def __init__(self, ctx, panel, template: dict):
        self.ctx, self.panel, self.template = ctx, panel, template
        self.language = panel.language
        self.fields = list(template.get("fields") or [])
        # The languages the letter exists in as .odt (French first); a choice only when there are several.
        formats = template.get("language_formats") or {}
        self.languages = [code for code in template.get("languages") or ["fr"] if "odt" in formats.get(code, ["odt"])]
        self.mode = ""  # what the running request is for: "extract", "insert" or "new"
        self.alive = True
        self.view = FormView(ctx, template, self.fields, self.languages, self.language)
        self.dialog = self.view.dialog
        self.dialog.addEventListener(listeners.Disposed(self))
        self._on("FillNotes", self.fill_from_notes)
        self._on("Insert", lambda: self.render("insert"))
        self._on("New", lambda: self.render("new"))

    def _on(self, name: str, fn) -> None:
        self.dialog.getControl(name).addActionListener(listeners.Pressed(fn))

    def execute(self):
        self.dialog.execute()
        self.dialog.dispose()

    def fill_from_notes(self):
        self.mode = "extract"
        runner.start(self.ctx, ExtractFields(self.template["id"], self.view.notes()), None, self)

    def render(self, mode):
        try:
            values = forms.values(self.fields, self.view.typed(), self.language)
        except forms.FieldError as error:  # the clerk's typing mistake, named by the field's label
            self.view.say(error.message)
            return
        self.mode = mode
        runner.start(self.ctx, InsertTemplate(self.template["id"], values, mode=mode, language=self.chosen_language()),
                     self.panel.document(), self)

    def chosen_language(self) -> str:
        """The letter's language chosen in the form; empty (French) when the template has only French."""
        chosen = self.view.chosen_language()
        return self.languages[chosen] if 0 < chosen < len(self.languages) else ""

    def progress(self, message):
        if self.alive:
            self.view.say(message)

    def finished(self, ok, message, data):
        if not self.alive:
            return
        self.view.say(message)
        if not ok:
            return
        if self.mode == "extract":
            self.view.show_found(data.get("values") or {}, data.get("missing") or [])
        elif not data.get("warning"):  # a French letter instead of the language chosen: said, form kept
            self.dialog.endExecute()
