"""The text tasks whose result is shown in the panel and inserted on request: summary, minutes, fact
sheet, acknowledgement of receipt."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plume_lo import writer
from plume_lo.actions.base import Action, OneText, stream, text_of, undo_title
from plume_lo.client import Client, PlumeError

# Each text task by its name (the dispatch URL vnd.plume:summarize…) and its route.
TEXT_TASKS = {
    "summarize": "/v1/text/summarize",
    "minutes": "/v1/text/minutes",
    "factsheet": "/v1/text/factsheet",
    "acknowledge": "/v1/mail/acknowledge",
}


@dataclass
class TextTask(OneText):
    kind: str
    insert: bool = False
    options: dict = field(default_factory=dict)

    def capture(self, doc):
        content = writer.selected_text(doc) or writer.document_text(doc)
        if not content.strip():
            raise PlumeError("no_selection")
        return content

    def work(self, client: Client, content, job):
        self.request_id = ""
        answer = stream(client, TEXT_TASKS[self.kind], {**self.body(content), **self.options}, job,
                        lambda text: self._wrote(client, text))
        self.request_id = client.last_request_id
        return answer

    def body(self, content: str) -> dict:
        if self.kind != "acknowledge":
            return {"text": content}
        # An e-mail pasted with its headers is sent raw, so the server reads sender, date and subject.
        looks_raw = re.match(r"(?im)^(from|de|von|subject|objet|date)\s*:", content.lstrip())
        return {"eml": content} if looks_raw else {"body": content}

    def apply(self, ctx, doc, content, answer):
        result = text_of(answer)
        if self.insert and result:
            with writer.undo_step(doc, undo_title(ctx, "undo_insert")):
                writer.insert_text(doc, result)
        inserted = bool(self.insert and result)
        return {"text": result, "inserted": inserted, "request_id": self.request_id,
                "usage": [self.request_id] if inserted else []}


@dataclass
class InsertResult(Action):
    """Insert a result the panel already shows (no server call but the usage report)."""
    content: str
    request_ids: list = field(default_factory=list)

    def apply(self, ctx, doc, snapshot, result):
        with writer.undo_step(doc, undo_title(ctx, "undo_insert")):
            writer.insert_text(doc, self.content)
        return {"inserted": True, "usage": list(self.request_ids)}
