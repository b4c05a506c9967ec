"""Search in the commune's documents (docs/search.md).

POST   /v1/search                                   hits with their exact citation
POST   /v1/search/answer                            an answer whose every sentence cites a checked passage
GET    /v1/collections                              the collections the caller may read, with counts
PUT    /v1/collections/{id}/documents/{name}        an admin adds or replaces a document (raw body)
DELETE /v1/collections/{id}/documents/{name}        an admin removes one

A collection the caller may not read answers exactly as an unknown one (404, same words), and
never reaches hits, counts or errors. The audit line records the collections searched, the number
of hits and the query's length, never the query.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from plume.api.problems import Problem
from plume.api.task_support import Runner, respond
from plume.search.collections import COLLECTION_ID
from plume.search.service import (BROKEN, MAX_K, NOT_CONFIGURED, CollectionInfo, Hit, InvalidDocument, SearchService,
                                  UnknownCollection)
from plume.security.auth import requires
from plume.security.middleware import note
from plume.security.roles import Role
from plume.services import Services
from plume.tasks.answer import AnswerRequest
from plume.tasks.registry import ANSWER

MAX_QUERY_CHARS = 2000
UNKNOWN = "Cette collection n'existe pas."


class SearchRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_QUERY_CHARS)]
    collections: list[Annotated[str, msgspec.Meta(pattern=COLLECTION_ID)]] | None = None  # null: all readable
    k: Annotated[int, msgspec.Meta(ge=1, le=MAX_K)] = 5


class SearchResult(msgspec.Struct, kw_only=True):
    hits: list[Hit]


class DocumentAdded(msgspec.Struct, kw_only=True):
    collection: str
    document: str
    added: bool      # False: it replaced a document of the same name


def _service(services: Services) -> SearchService:
    if services.search is None:
        raise Problem(503, BROKEN if services.search_broken else NOT_CONFIGURED, code="search-unavailable")
    return services.search


def _readable(request: Request, service: SearchService, ids: list[str] | None):
    try:
        return service.readable(request.user.role, request.user.name, ids)
    except UnknownCollection:
        raise Problem(404, UNKNOWN, code="not-found") from None


@post("/v1/search", summary="Rechercher dans les documents de la commune", tags=["recherche"], status_code=200)
async def search(request: Request, services: NamedDependency[Services],
                 data: JSONBody[SearchRequest]) -> SearchResult:
    service = _service(services)
    if not data.query.strip():
        raise Problem(422, "La question est vide.", code="validation")
    collections = _readable(request, service, data.collections)
    hits = await anyio.to_thread.run_sync(service.search, data.query, collections, data.k) if collections else []
    note(request, task="search", collections=[c.id for c in collections], hits=len(hits), query_chars=len(data.query))
    return SearchResult(hits=hits)


@get("/v1/collections", summary="Collections de documents consultables", tags=["recherche"])
async def list_collections(request: Request, services: NamedDependency[Services]) -> dict[str, list[CollectionInfo]]:
    service = _service(services)
    listing = await anyio.to_thread.run_sync(service.listing, request.user.role, request.user.name)
    return {"collections": listing}


@put("/v1/collections/{collection_id:str}/documents/{name:str}", guards=[requires(Role.ADMIN)],
     summary="Ajouter ou remplacer un document d'une collection", tags=["recherche"])
async def put_document(request: Request, services: NamedDependency[Services], collection_id: FromPath[str],
                       name: FromPath[str]) -> Response:
    service = _service(services)
    (collection,) = _readable(request, service, [collection_id])
    data = await request.body()
    known = name in await anyio.to_thread.run_sync(service.store.documents, collection.id)
    try:
        await anyio.to_thread.run_sync(service.add_document, collection, name, data)
    except InvalidDocument as exc:
        raise Problem(413 if len(data) > service.max_bytes else 422, str(exc), code="invalid-document") from None
    note(request, collections=[collection.id])
    return Response(DocumentAdded(collection=collection.id, document=name, added=not known),
                    status_code=200 if known else 201)


@delete("/v1/collections/{collection_id:str}/documents/{name:str}", guards=[requires(Role.ADMIN)],
        summary="Retirer un document d'une collection", tags=["recherche"], status_code=204)
async def delete_document(request: Request, services: NamedDependency[Services], collection_id: FromPath[str],
                          name: FromPath[str]) -> None:
    service = _service(services)
    (collection,) = _readable(request, service, [collection_id])
    if not await anyio.to_thread.run_sync(service.delete_document, collection, name):
        raise Problem(404, "Ce document n'existe pas dans cette collection.", code="not-found")


@post("/v1/search/answer", summary="Répondre à une question depuis les documents de la commune, chaque phrase citée",
      tags=["recherche"], status_code=200)
async def answer(data: JSONBody[AnswerRequest], runner: Runner) -> Any:
    runner.stream = runner.stream or data.stream
    return respond(await runner.run(ANSWER, data))


ROUTES = [search, answer, list_collections, put_document, delete_document]
