"""Searching the commune's documents (POST /v1/search, GET /v1/collections) and answering from them
(POST /v1/search/answer), and putting a citation or an answer in the text.

What goes in is the server's, word for word: a hit's `quotation` (« … » (Règlement …, art. 4 al. 2)),
an answer's `insert` (the answer, then its sources). The extension keeps no formatting of its own, so
Word and LibreOffice insert the same words (docs/search.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from plume_lo import writer
from plume_lo.actions.base import Action, Listing, check, stream, undo_title
from plume_lo.actions.review import outcome_of, review_mode
from plume_lo.client import Client, PlumeError

MAX_QUERY_CHARS = 2000  # the server's limit (api/search.py): a longer selection is not a question
HITS = 10


@dataclass
class ListCollections(Listing):
    """The collections this clerk may read (GET /v1/collections); those she may not are never listed."""

    def work(self, client: Client, snapshot, job):
        answer = client.get_json("/v1/collections")
        return answer.get("collections") or [] if isinstance(answer, dict) else []

    def apply(self, ctx, doc, snapshot, listing):
        return {"collections": [c for c in listing if isinstance(c, dict) and c.get("id")]}


def _body(query: str, collections) -> dict:
    query = query.strip()
    if not query:
        raise PlumeError("no_question")
    if len(query) > MAX_QUERY_CHARS:
        raise PlumeError("question_too_long", limit=MAX_QUERY_CHARS)
    return {"query": query, "collections": list(collections) if collections is not None else None}


@dataclass
class Search(Listing):
    """Hits for the question, best first, each with its citation (`reference`, `quotation`)."""
    query: str = ""
    collections: Optional[list] = None  # None: every collection she may read
    request_id = ""

    def capture(self, doc):
        return _body(self.query, self.collections)

    def work(self, client: Client, body, job):
        check(job)
        answer = client.post_json("/v1/search", {**body, "k": HITS})
        self.request_id = client.last_request_id
        return answer.get("hits") or [] if isinstance(answer, dict) else []

    def apply(self, ctx, doc, snapshot, hits):
        return {"hits": [h for h in hits if isinstance(h, dict)], "request_id": self.request_id}


@dataclass
class Answer(Listing):
    """An answer whose every sentence cites a passage the server checked, or the passages labelled as
    passages, or « Je n'ai rien trouvé… »: the server's AnswerResult as it is. Streamed, so the clerk
    sees the checked sentences come and may stop; Stop keeps nothing (an answer without its sources is
    not one to insert)."""
    query: str = ""
    collections: Optional[list] = None
    request_id = ""

    def capture(self, doc):
        return _body(self.query, self.collections)

    def work(self, client: Client, body, job):
        answer = stream(client, "/v1/search/answer", {**body, "k": 5}, job)
        self.request_id = client.last_request_id
        return answer

    def apply(self, ctx, doc, snapshot, answer):
        if not isinstance(answer, dict) or answer.get("kind") not in ("answer", "passages", "nothing"):
            raise PlumeError("bad_answer")
        return {"answer": answer, "request_id": self.request_id}


@dataclass
class PutText(Action):
    """A citation or an answer into the text through the review mode (tracked changes by « Plume », in
    place of the selection or at the cursor, or after the selection), in one undo step."""
    content: str = ""
    request_ids: list = field(default_factory=list)
    review: str = ""  # tracked | replace | after; empty: the ReviewMode setting
    undo_key = "undo_insert"

    def capture(self, doc):
        if not writer.is_text_document(doc):
            raise PlumeError("no_document")
        return None

    def apply(self, ctx, doc, snapshot, result):
        mode = review_mode(ctx, self.review)
        with writer.undo_step(doc, undo_title(ctx, self.undo_key)), writer.review(ctx, doc, mode):
            writer.put_text(doc, self.content, mode)
        return {**outcome_of(mode), "inserted": True, "usage": list(self.request_ids)}
