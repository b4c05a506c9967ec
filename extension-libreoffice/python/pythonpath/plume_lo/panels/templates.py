"""« Modèles de lettres »: the commune's letter templates, listed from the server; « Remplir… » opens
the letter form (letter_form.py) built from the chosen template's fields."""

from __future__ import annotations

from plume_lo.actions.templates import GetTemplate, ListTemplates
from plume_lo.panels.base import SidebarPanel, View
from plume_lo.panels.letter_form import TemplateForm


class TemplatesView(View):
    def show_templates(self, templates: list) -> None:
        self.fill("Template", [t.get("title") or t["id"] for t in templates])
        self.status("")


class TemplatesPanel(SidebarPanel):
    DIALOG = "dialogs/TemplatesPanel.xdl"
    VIEW = TemplatesView
    LABELS = {"LabelTemplate": "template", "Refresh": "refresh", "Fill": "fill_form"}

    def __init__(self, ctx, frame, parent):
        super().__init__(ctx, frame, parent)
        self.templates: list = []
        self.on("Refresh", self.refresh)
        self.on("Fill", self.open_form)
        self.refresh()

    def refresh(self):
        self.start("list", ListTemplates())

    def open_form(self):
        index = self.view.chosen("Template")
        if not 0 <= index < len(self.templates):
            self.view.status(self.view.say("no_template"))
            return
        self.start("fields", GetTemplate(self.templates[index]["id"]))

    def answered(self, pending, ok, message, data):
        if not ok:
            return
        if pending == "list":
            self.templates = list(data.get("templates") or [])
            self.view.show_templates(self.templates)
        elif pending == "fields":
            TemplateForm(self.ctx, self, data["template"]).execute()
