"""« Relecture et actions »: proofreading of the selection (« Corriger ») and the commune's own actions.

The errors are listed; choosing one selects it in the document and lists its suggestions;
« Appliquer » puts the chosen one in, « Tout corriger » the unambiguous ones, in one undo step,
through the review mode. The actions are read again from the server whenever the panel is shown or
« Actualiser » is pressed, so an action an admin adds appears without a restart.
"""

from __future__ import annotations

import traceback

from plume_lo import i18n, wording
from plume_lo.actions.commune import ListActions, RunAction
from plume_lo.actions.proofreading import Proofread
from plume_lo.client import PlumeError
from plume_lo.panels.base import SidebarPanel, View


class ReviewView(View):
    """What the review panel shows: the errors and their suggestions, the commune's actions."""

    def show_errors(self, proof) -> None:
        errors = proof.errors if proof else []
        self.fill("Errors", [wording.error_line(self.language, e) for e in errors], chosen=None)
        self.fill("Suggestions", [], chosen=None)
        self.enable(False, "Fix")
        self.enable(bool(proof and proof.sure_fixes()), "FixAll")

    def show_suggestions(self, error: dict) -> None:
        self.fill("Suggestions", [wording.visible(s) for s in error.get("suggestions") or []])
        self.enable(bool(error.get("suggestions")), "Fix")

    def proofread(self, data: dict, found: int) -> None:
        """What the check found, or why it checked nothing (« Seul le français est vérifié… »)."""
        codes, language = list(data.get("warning_codes") or []), data.get("language") or ""
        said = [i18n.warning(self.language, str(w), codes[i] if i < len(codes) else "", language)
                for i, w in enumerate(data.get("warnings") or [])]
        if not said:
            said = [self.say("proof_found", count=found) if found else self.say("proof_none")]
        self.status("\n".join(said))

    def show_actions(self, listing: list, chosen: int) -> None:
        title = "title_de" if self.language == "de" else "title"
        self.fill("Actions", [str(a.get(title) or a.get("title") or a["id"]) for a in listing], chosen)
        self.status(self.say("actions_listed", count=len(listing)) if listing else self.say("no_actions"))

    def show_action(self, action) -> None:
        """An action the server cannot run now is greyed out, with its one-sentence reason."""
        available = bool(action and action.get("available", True))
        self.enable(available, "RunAction")
        reason = wording.reason_unavailable(self.language, action) if action and not available else ""
        self.model("Notice").Text = reason  # wraps and scrolls: never cut off

    def working(self, text: str) -> None:
        """An action's text as the model writes it: the clerk can stop when she has enough."""
        self.status(self.say("working") + "\n" + text)


class ReviewPanel(SidebarPanel):
    DIALOG = "dialogs/ReviewPanel.xdl"
    VIEW = ReviewView
    LABELS = {"Proofread": "proofread", "FixAll": "fix_all", "LabelSuggestions": "suggestions", "Fix": "fix",
              "LabelActions": "commune_actions", "RefreshActions": "refresh", "RunAction": "run_action",
              "Cancel": "cancel"}

    def __init__(self, ctx, frame, parent):
        super().__init__(ctx, frame, parent)
        self.checking = None  # the Proofread action running
        self.proof = None  # the last one that answered: its errors, and where they are in the document
        self.actions: list = []
        self.on("Proofread", self.check)
        self.on("Fix", self.fix_chosen)
        self.on("FixAll", self.fix_all)
        self.on("RefreshActions", self.refresh_actions)
        self.on("RunAction", self.run_action)
        self.on("Cancel", self.stop)
        self.on_choice("Errors", self.show_error)
        self.on_choice("Actions", lambda: self.view.show_action(self.chosen_action()))
        self.on_shown(self.refresh_actions)
        self.refresh_actions()

    def writing(self, text):
        if self.alive and self.pending == "action":
            self.view.working(text)

    def answered(self, pending, ok, message, data):
        if not ok:
            return
        if pending == "actions":
            self.list_actions(data.get("actions") or [])
        elif pending == "proofread":
            self.proof = self.checking
            self.view.show_errors(self.proof)
            self.view.proofread(data, len(self.proof.errors))

    # -- proofreading -----------------------------------------------------------------------------

    def check(self):
        self.checking = Proofread()
        self.start("proofread", self.checking)

    def chosen_error(self):
        index = self.view.chosen("Errors")
        errors = self.proof.errors if self.proof else []
        return errors[index] if 0 <= index < len(errors) else None

    def show_error(self):
        """The chosen error is selected in the document; its suggestions are listed."""
        error = self.chosen_error()
        if error is None:
            return
        self.view.show_suggestions(error)
        cursor = self.proof.locate(error)
        doc = self.document()
        if cursor is None:
            self.view.status(self.view.say("proof_changed"))
        elif doc is not None:
            doc.getCurrentController().select(cursor)

    def fix_chosen(self):
        error = self.chosen_error()
        index = self.view.chosen("Suggestions")
        if error is None or not 0 <= index < len(error.get("suggestions") or []):
            self.view.status(self.view.say("proof_pick"))
            return
        self.apply_fixes([(error, error["suggestions"][index])])

    def fix_all(self):
        fixes = self.proof.sure_fixes() if self.proof else []
        if not fixes:
            self.view.status(self.view.say("proof_no_sure"))
            return
        self.apply_fixes(fixes)

    def apply_fixes(self, fixes):
        """No server call: the suggestions are already here, so the change is made at once."""
        if self.running():
            self.view.status(self.view.say("busy"))
            return
        try:
            count = self.proof.fix(self.ctx, self.document(), fixes)
        except PlumeError as error:
            self.view.status(error.message(self.language))
            return
        except Exception:
            traceback.print_exc()
            self.view.status(self.view.say("internal"))
            return
        self.view.show_errors(self.proof)
        self.view.status(self.view.say("proof_applied", count=count))

    # -- the commune's actions --------------------------------------------------------------------

    def refresh_actions(self):
        self.start("actions", ListActions(), quiet=True)  # a refresh while something runs is simply skipped

    def list_actions(self, listing):
        """The actions listed again, the one chosen before still chosen."""
        chosen = self.chosen_action()
        self.actions = listing
        ids = [a["id"] for a in listing]
        self.view.show_actions(listing, ids.index(chosen["id"]) if chosen and chosen["id"] in ids else 0)
        self.view.show_action(self.chosen_action())

    def chosen_action(self):
        index = self.view.chosen("Actions")
        return self.actions[index] if 0 <= index < len(self.actions) else None

    def run_action(self):
        action = self.chosen_action()
        if action and action.get("available", True):
            self.start("action", RunAction(action["id"], applies_to=action.get("applies_to") or "selection"))
