"""« Corriger »: French spelling and grammar of the selection (POST /v1/text/proofread), the errors
located in the document and their suggestions applied through the review mode."""

from __future__ import annotations

from dataclasses import dataclass, field

from plume_lo import writer
from plume_lo.actions.base import Action, check, undo_title
from plume_lo.actions.review import review_mode
from plume_lo.client import Client, PlumeError


@dataclass
class Proofread(Action):
    """« Corriger »: the server lists the errors of the selection (POST /v1/text/proofread).

    Nothing changes in the document then. The action keeps a cursor at the start of the checked text,
    from which the errors' offsets are counted: `locate` selects an error, `fix` applies suggestions.
    With `fix_all` (a dispatch URL), the unambiguous ones are applied at once."""
    fix_all: bool = False
    review: str = ""
    errors: list = field(default_factory=list)

    def capture(self, doc):
        content, self.anchor = writer.checked_range(doc)
        if not content.strip():
            raise PlumeError("no_selection")
        return content

    def work(self, client: Client, content, job):
        check(job)
        return client.post_json("/v1/text/proofread", {"text": content})

    def apply(self, ctx, doc, content, answer):
        self.errors = [e for e in answer.get("errors") or [] if _valid_error(e, len(content))]
        outcome = {"checked": answer.get("checked"), "warnings": list(answer.get("warnings") or []),
                   "warning_codes": list(answer.get("warning_codes") or []), "language": answer.get("language")}
        if self.fix_all:
            outcome["fixed"] = self.fix(ctx, doc, self.sure_fixes())
        return {**outcome, "errors": list(self.errors)}

    def locate(self, error):
        """A cursor over the error in the document, or None when the text there is no longer the same."""
        cursor = writer.span_at(self.anchor, error["start"], error["end"])
        found = cursor.getString().replace("\r\n", "\n").replace("\r", "\n")
        return cursor if found == error.get("text", found) else None

    def sure_fixes(self) -> list:
        """The unambiguous errors (one suggestion), without overlaps."""
        chosen, end = [], -1
        for error in sorted(self.errors, key=lambda e: e["start"]):
            if error.get("unambiguous") and error.get("suggestions") and error["start"] >= end:
                chosen.append((error, error["suggestions"][0]))
                end = error["end"]
        return chosen

    def fix(self, ctx, doc, fixes) -> int:
        """Apply (error, suggestion) pairs in one undo step, from the end of the text backwards so
        that the offsets of those before stay valid. Each replacement keeps the format of the
        characters it replaces. Tracked changes unless the setting says « replace »."""
        if not fixes:
            return 0
        mode = review_mode(ctx, self.review, in_place=True)
        with writer.undo_step(doc, undo_title(ctx, "undo_proofread")), writer.review(ctx, doc, mode):
            for error, suggestion in sorted(fixes, key=lambda f: f[0]["start"], reverse=True):
                cursor = self.locate(error)
                if cursor is None:
                    raise PlumeError("proof_changed")
                writer.replace_range(cursor.getText(), cursor, suggestion)
        tracked = mode == writer.TRACKED  # the old characters stay in the text, struck through
        self.errors = _after_fixes(self.errors, [(e, len(new) - (0 if tracked else e["end"] - e["start"]))
                                                 for e, new in fixes])
        return len(fixes)


def _after_fixes(errors, fixed) -> list:
    """The errors still to show once `fixed` (error, characters added) are in: the fixed ones and
    those they overlapped leave the list; those after them move by what the fixes added."""
    kept = []
    for error in errors:
        if any(error is done or error["start"] < done["end"] and error["end"] > done["start"] for done, _ in fixed):
            continue
        delta = sum(added for done, added in fixed if done["end"] <= error["start"])
        kept.append({**error, "start": error["start"] + delta, "end": error["end"] + delta})
    return kept


def _valid_error(error, length: int) -> bool:
    try:
        return 0 <= int(error["start"]) <= int(error["end"]) <= length \
            and isinstance(error.get("suggestions", []), list)
    except (KeyError, TypeError, ValueError):
        return False
