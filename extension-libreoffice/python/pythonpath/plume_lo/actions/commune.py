"""The commune's own actions (GET /v1/actions, POST /v1/actions/{id}/run), listed for this user and
run on the selection or the whole document."""

from __future__ import annotations

from dataclasses import dataclass

from plume_lo import richtext, writer
from plume_lo.actions.base import Listing, OnSelectedParagraphs, OneText, stream, text_of
from plume_lo.actions.review import outcome_of, review_mode, rewrite
from plume_lo.client import Client, PlumeError, quote


@dataclass
class ListActions(Listing):
    """The commune's actions for this user (GET /v1/actions), read again each time the panel asks."""

    def work(self, client: Client, snapshot, job):
        answer = client.get_json("/v1/actions")
        return answer.get("actions") or [] if isinstance(answer, dict) else []

    def apply(self, ctx, doc, snapshot, listing):
        return {"actions": [a for a in listing if isinstance(a, dict) and a.get("id")]}


@dataclass
class RunAction(OneText, OnSelectedParagraphs):
    """One of the commune's actions on the selection (POST /v1/actions/{id}/run), through the review
    mode. An action that applies to the whole document reads all of it and inserts its result after
    the selection."""
    action_id: str = ""
    applies_to: str = "selection"
    review: str = ""
    undo_key = "undo_action"

    def capture(self, doc):
        if self.applies_to == "document":
            content = writer.document_text(doc)
            if not content.strip():
                raise PlumeError("no_selection")
            return content
        return super().capture(doc)

    def work(self, client: Client, snapshot, job):
        self.request_id = ""
        content = snapshot if isinstance(snapshot, str) else "\n".join(p.text for p in snapshot)
        answer = stream(client, f"/v1/actions/{quote(self.action_id)}/run", {"text": content}, job,
                        lambda text: self._wrote(client, text))
        self.request_id = client.last_request_id
        return answer

    def apply(self, ctx, doc, snapshot, answer):
        result = text_of(answer).strip("\n")
        if isinstance(snapshot, str):  # the whole document was read: the result goes after the selection
            mode = writer.AFTER
            with writer.undo_step(doc, self._title(ctx)), writer.review(ctx, doc, review_mode(ctx, self.review)):
                writer.insert_text(doc, result)
        else:
            mode = review_mode(ctx, self.review)
            lines = result.split("\n")
            if len(lines) == len(snapshot):  # paragraph for paragraph: formatting kept where words are
                rewrite(ctx, doc, self._title(ctx), snapshot,
                        [richtext.reformat(p.runs, line) for p, line in zip(snapshot, lines)], mode)
            else:
                with writer.undo_step(doc, self._title(ctx)), writer.review(ctx, doc, mode):
                    writer.replace_paragraphs(doc, snapshot, result, mode)
        return {"text": result, "action": self.action_id, "warnings": list(answer.get("warnings") or []),
                "usage": [self.request_id], **outcome_of(mode)}
