"""« Texte sélectionné »: plain language (previewed), translation, summary, minutes, fact sheet,
acknowledgement of receipt.

The buttons the server cannot serve now are greyed out with its one-sentence reason; the levels
and target languages are those the server offers (GET /v1/capabilities), none kept here. A
plain-language proposal or a task's result is shown first; the clerk then replaces, inserts after
or discards it.
"""

from __future__ import annotations

from plume_lo import i18n, wording
from plume_lo.actions.capabilities import Capabilities
from plume_lo.actions.drafting import InsertResult, TextTask
from plume_lo.actions.plain_language import ApplyPlainLanguage, PlainLanguage
from plume_lo.actions.translation import Translate
from plume_lo.panels.base import SidebarPanel, View

# The panel's buttons and the /v1/capabilities task each one needs.
TASKS = {"Plain": "plain-language", "Translate": "translate", "Summarize": "summarize", "Minutes": "minutes",
         "Factsheet": "factsheet", "Acknowledge": "acknowledge"}
DRAFTING = ("Summarize", "Minutes", "Factsheet", "Acknowledge")  # a TextTask each, of the task's kind
RESULT_BUTTONS = ("Replace", "Insert", "Discard", "Details")


class TextView(View):
    """What the text panel shows: the choices the server offers, the proposal and its scores."""

    def __init__(self, window, language: str) -> None:
        super().__init__(window, language)
        self.details = self.remarks = ""  # what « détails » shows and hides

    def show_capabilities(self, tasks: dict, targets: list, levels: list) -> None:
        """Offer only what works: greyed-out buttons with the server's one-sentence reason."""
        reasons = []
        for button, task in TASKS.items():
            info = tasks.get(task)
            available = bool(info and info.get("available"))
            self.model(button).Enabled = available
            if not available:
                reasons.append(wording.labelled(self.language, self.model(button).Label,
                                                wording.reason_unavailable(self.language, info)))
        self.fill("Target", [i18n.language_name(self.language, code) for code in targets])
        self.model("Target").Enabled = bool(targets)
        self.fill("Level", [i18n.level_name(self.language, code) for code in levels])
        self.model("Notice").Text = "\n".join(reasons)  # wraps and scrolls: never cut off

    def writing(self, text: str) -> None:
        """The text as the model writes it, where the result will be shown."""
        self.model("Result").Text = text

    def show_result(self, text: str) -> None:
        """A task's result, to insert on request."""
        self.model("Result").Text = text
        self.enable(True, "Insert", "Discard")

    def show_plain(self, data: dict) -> None:
        """A plain-language proposal: readability in words, the remarks, and the text to put in."""
        before, after = wording.first_scores(data.get("before")), wording.first_scores(data.get("after"))
        self.model("Scores").Label = wording.readability_line(self.language, before, after)
        self.details = wording.indices_text(self.language, before, after)
        self.remarks = wording.remarks_text(self.language, data)
        self.enable(bool(self.details), "Details")
        self.model("Remarks").Text = self.remarks
        self.enable(True, "Discard")
        offered = not data.get("unchanged") or data.get("partial")
        # Nothing safe to change: said, with the remarks; her own text is not offered to put in again.
        self.model("Result").Text = (data.get("text") or "") if offered else ""
        self.enable(bool(offered), "Replace", "Insert")
        if not offered:
            self.status(wording.nothing_safe_sentence(self.language, data))
        elif not data.get("partial"):  # Stop: the status says it is only part of the text
            self.status(self.say("preview_ready"))

    def clear_result(self) -> None:
        self.details = self.remarks = ""
        for name in ("Result", "Remarks"):
            self.model(name).Text = ""
        self.model("Scores").Label = ""
        self.model("Details").Label = self.say("details")
        self.enable(False, *RESULT_BUTTONS)

    def toggle_details(self) -> None:
        """The readability indices above the remarks, or the remarks alone again."""
        showing = self.model("Details").Label != self.say("details")
        self.model("Remarks").Text = self.remarks if showing else self.details + "\n\n" + self.remarks
        self.model("Details").Label = self.say("details" if showing else "hide_details")

    def translated(self, message: str, warnings) -> None:
        if warnings:
            self.status(message + "\n" + "\n".join(str(w) for w in warnings))


class TextPanel(SidebarPanel):
    DIALOG = "dialogs/TextPanel.xdl"
    VIEW = TextView
    LABELS = {"LabelLevel": "level", "Plain": "plain", "LabelTarget": "target", "Translate": "translate",
              "Summarize": "summarize", "Minutes": "minutes", "Factsheet": "factsheet",
              "Acknowledge": "acknowledge", "Cancel": "cancel", "LabelResult": "result", "Insert": "insert",
              "Replace": "replace", "Discard": "discard", "Details": "details"}

    def __init__(self, ctx, frame, parent):
        super().__init__(ctx, frame, parent)
        self.targets, self.levels = [], []  # as the server offers them
        self.result = None  # what the clerk may insert: {"request_ids", and "text" or a preview's "plain"}
        self.on("Plain", self.plain)
        self.on("Translate", self.translate)
        for button in DRAFTING:
            self.on(button, lambda kind=TASKS[button]: self.start("task", TextTask(kind)))
        self.on("Cancel", self.stop)
        self.on("Insert", lambda: self.accept("after"))
        self.on("Replace", lambda: self.accept("replace"))
        self.on("Discard", self.discard)
        self.on("Details", self.view.toggle_details)
        self.start("capabilities", Capabilities())

    def start(self, pending, action, quiet=False):
        if pending in ("plain", "task") and not self.running():
            self.clear_result()  # a new request: the old result must not stay insertable
        return super().start(pending, action, quiet)

    def plain(self):
        index = self.view.chosen("Level")
        level = self.levels[index] if 0 <= index < len(self.levels) else ""  # empty: the server's default
        self.start("plain", PlainLanguage(level=level, preview=True))

    def translate(self):
        index = self.view.chosen("Target")
        if 0 <= index < len(self.targets):
            self.start("translate", Translate(target=self.targets[index]))
        elif not self.targets:  # the server has not said which languages work yet: ask it again
            self.start("capabilities", Capabilities())

    def accept(self, mode):
        if not self.result:
            return
        plain = self.result.get("plain")
        if plain:
            action = ApplyPlainLanguage(plain.get("originals") or [], plain.get("texts") or [],
                                        self.result["request_ids"], mode=mode)
        else:
            action = InsertResult(self.result["text"], self.result["request_ids"])
        self.start("apply", action)

    def discard(self):
        self.clear_result()
        self.view.status(self.view.say("discarded"))

    def clear_result(self):
        self.result = None
        self.view.clear_result()

    # -- answers ----------------------------------------------------------------------------------

    def writing(self, text):
        if self.alive and self.pending in ("plain", "task"):
            self.view.writing(text)

    def answered(self, pending, ok, message, data):
        if pending == "capabilities":
            if ok:
                self.view.status("")
                self.offer(data.get("capabilities") or {})
        elif not ok:
            self.clear_result()  # never leave an earlier result insertable after an error
        elif pending == "plain":
            self.result = {"request_ids": data.get("request_ids") or [], "plain": data}
            self.view.show_plain(data)
        elif pending == "task" and data.get("text"):
            self.result = {"text": data["text"], "request_ids": [data.get("request_id") or ""]}
            self.view.show_result(data["text"])
        elif pending == "translate":
            self.view.translated(message, data.get("warnings"))
        elif pending == "apply":
            self.clear_result()

    def offer(self, tasks: dict) -> None:
        """The levels and target languages the server offers now, and which buttons work."""
        translate = tasks.get("translate") or {}
        self.targets = list(translate.get("targets") or []) if translate.get("available") else []
        self.levels = list((tasks.get("plain-language") or {}).get("levels") or [])
        self.view.show_capabilities(tasks, self.targets, self.levels)
