"""What tasks share to use the commune's documents (plume.search): the collections the caller may
read, a search run off the event loop, the relevance threshold, and one document's text.

A collection the caller may not read is refused exactly as an unknown one (404, same words), and
its title never appears in a message: « nothing found in … » names only the collections searched,
which are always ones she may read.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from plume.errors import NotFound, Unavailable
from plume.search.collections import Collection
from plume.search.passages import SEPARATOR
from plume.search.service import BROKEN, NOT_CONFIGURED, Hit, SearchService, UnknownCollection
from plume.tasks.base import Call

UNKNOWN_COLLECTION = "Cette collection n'existe pas."
UNKNOWN_DOCUMENT = "Ce document n'existe pas dans cette collection."
NOTHING_FOUND = {"fr": "Je n'ai rien trouvé à ce sujet dans : {titles}",
                 "de": "Ich habe dazu nichts gefunden in: {titles}"}


class SearchUnavailable(Unavailable):
    code = "search-unavailable"


class UnknownSource(NotFound):
    code = "not-found"


def search_service(call: Call) -> SearchService:
    services = call.services
    if services.search is None:
        raise SearchUnavailable(BROKEN if services.search_broken else NOT_CONFIGURED)
    return services.search


def readable(call: Call, ids: Sequence[str] | None) -> list[Collection]:
    """The collections this caller may read (all, or those of `ids`); an unknown or unreadable id: 404."""
    try:
        return search_service(call).readable(call.role, call.user, ids)
    except UnknownCollection:
        raise UnknownSource(UNKNOWN_COLLECTION) from None


async def find(call: Call, query: str, collections: Sequence[Collection], k: int) -> list[Hit]:
    """The hits of `query` over `collections`, searched in a worker thread (embedding is CPU work)."""
    if not collections:
        return []
    service = search_service(call)
    return await anyio.to_thread.run_sync(service.search, query, list(collections), k)


def relevant(call: Call, hits: Sequence[Hit]) -> list[Hit]:
    """The hits, when the methods agree enough on the first one to take it as an answer's source
    (`search_answer_min_score`, docs/search.md « Answers »); else none."""
    threshold = call.services.settings.search_answer_min_score
    return list(hits) if hits and hits[0].score >= threshold else []


def nothing_found(collections: Sequence[Collection], language: str = "fr") -> str:
    titles = ", ".join(c.title for c in collections) or "—"
    return NOTHING_FOUND.get(language, NOTHING_FOUND["fr"]).format(titles=titles)


APPLICABLE = {"fr": "Disposition applicable : {reference}{deadline}.", "de": "Massgebende Bestimmung: {reference}{deadline}.",
              "it": "Disposizione applicabile: {reference}{deadline}.", "en": "Applicable provision: {reference}{deadline}."}
DEADLINE = {"fr": " (délai : {d})", "de": " (Frist: {d})", "it": " (termine: {d})", "en": " (time limit: {d})"}


async def applicable(call: Call, query: str, ids: Sequence[str] | None) -> Hit | None:
    """The passage of a collection the caller may read that applies to `query`, when the methods agree
    on it enough to cite it (the answer route's threshold); else None, never a guess."""
    hits = relevant(call, await find(call, query, readable(call, ids), 3))
    return hits[0] if hits else None


def applicable_line(hit: Hit, language: str) -> str:
    """« Disposition applicable : Règlement …, art. 15 (délai : 30 jours). »: the reference, and the time
    limit the passage states, as it states it (the first one)."""
    from plume.language.citations import DURATION

    deadline = DURATION.search(hit.text)
    note = DEADLINE.get(language, DEADLINE["fr"]).format(d=deadline.group(0)) if deadline else ""
    return APPLICABLE.get(language, APPLICABLE["fr"]).format(reference=hit.reference, deadline=note)


async def document_text(call: Call, collection_id: str, name: str) -> tuple[str, str]:
    """(title, text) of one indexed document the caller may read, rebuilt from its passages: each
    heading line once (an article cut between its alinéas is one article again), then its text."""
    (collection,) = readable(call, [collection_id])
    service = search_service(call)
    passages = await anyio.to_thread.run_sync(service.document, collection, name)
    if not passages:
        raise UnknownSource(UNKNOWN_DOCUMENT)
    lines: list[str] = []
    heading = None
    for passage in passages:
        if passage.heading and passage.heading != heading:
            lines += ["", passage.heading.split(SEPARATOR)[-1].strip()]
            heading = passage.heading
        lines.append(passage.text)
    title = passages[0].title or name
    return title, "\n".join([title, *lines]).strip() + "\n"
