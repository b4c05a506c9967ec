"""Proofreading and the commune's own actions.

POST /v1/text/proofread              French spelling, grammar, typography (Grammalecte, no model)
GET  /v1/actions                     the actions this user's role sees, and whether they can run now
PUT  /v1/actions/{id} · DELETE       an admin keeps the library (data folder, actions.toml)
POST /v1/actions/{id}/run            run one on a selection (needs an instruction model)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Litestar, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody

from plume.api.problems import Problem
from plume.api.task_support import check_size, inference_for, sse, task_errors, wants_stream
from plume.language.detect import detect
from plume.security.auth import requires
from plume.security.middleware import note
from plume.security.roles import Role
from plume.tasks import actions, proofread
from plume.tasks.freetext import final_text

Text = Annotated[str, msgspec.Meta(min_length=1)]
Language = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}\Z")]
UNCERTAIN = 0.5
NO_MODEL = "Les actions de la commune demandent un modèle de langue, qui n'est pas installé sur ce serveur."
NO_MODEL_DE = "Die Aktionen der Gemeinde brauchen ein Sprachmodell, das auf diesem Server nicht installiert ist."


class ProofreadRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Text
    language: Language | None = None  # detected when absent; only French is checked


class RunRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Text
    language: Language | None = None  # of the selection; detected when absent


class ActionInfo(msgspec.Struct, kw_only=True):
    id: str
    title: str
    title_de: str
    applies_to: str
    output_language: str
    available: bool
    reason: str = ""
    reason_de: str = ""


class ActionResult(msgspec.Struct, kw_only=True):
    text: str
    action: str
    engine: str
    warnings: list[str] = msgspec.field(default_factory=list)


# -- proofreading ----------------------------------------------------------------------------------------------


@post("/v1/text/proofread", summary="Correction : orthographe, grammaire et typographie (français)",
      tags=["textes"], status_code=200)
async def proofread_route(request: Request, data: JSONBody[ProofreadRequest]) -> proofread.ProofreadResult:
    check_size(request, data.text)
    note(request, task=proofread.TASK, model="grammalecte")
    language = data.language or await _language_of(data.text)
    try:
        return await anyio.to_thread.run_sync(proofread.proofread, data.text, language)
    except proofread.NotChecked:
        raise Problem(503, "La correction n'est pas disponible : le correcteur Grammalecte n'est pas installé sur "
                           "ce serveur.", code="proofread-unavailable") from None


async def _language_of(text: str) -> str:
    language, score = await anyio.to_thread.run_sync(detect, text)
    return language if language and score >= UNCERTAIN else "fr"  # a short or mixed text: the commune's language


# -- the commune's actions --------------------------------------------------------------------------------------


@get("/v1/actions", summary="Actions de la commune", tags=["actions"])
async def list_actions(request: Request) -> dict[str, list[ActionInfo]]:
    library: actions.ActionLibrary = request.app.state.actions
    inference = request.app.state.get("inference")
    ready = bool(inference and inference.has_model(actions.MODEL_TASK))
    shown = actions.listed(await anyio.to_thread.run_sync(library.all), request.user.role, ready)
    return {"actions": [
        ActionInfo(id=key, title=a.title, title_de=a.title_de or a.title, applies_to=a.applies_to,
                   output_language=a.output_language, available=ready,
                   reason="" if ready else NO_MODEL, reason_de="" if ready else NO_MODEL_DE)
        for key, a in shown.items()]}


@put("/v1/actions/{action_id:str}", guards=[requires(Role.ADMIN)], summary="Créer ou modifier une action",
     tags=["actions"])
async def put_action(request: Request, action_id: FromPath[str], data: JSONBody[actions.Action]) -> Response:
    _check_id(action_id)
    try:
        created = await anyio.to_thread.run_sync(request.app.state.actions.put, action_id, data)
    except actions.InvalidAction as exc:
        raise Problem(422, str(exc), code="invalid-action") from exc
    return Response({"id": action_id, **msgspec.to_builtins(data)}, status_code=201 if created else 200)


@delete("/v1/actions/{action_id:str}", guards=[requires(Role.ADMIN)], summary="Supprimer une action",
        tags=["actions"], status_code=204)
async def delete_action(request: Request, action_id: FromPath[str]) -> None:
    _check_id(action_id)
    if not await anyio.to_thread.run_sync(request.app.state.actions.delete, action_id):
        raise Problem(404, "Cette action n'existe pas.", code="not-found")


@post("/v1/actions/{action_id:str}/run", summary="Appliquer une action de la commune", tags=["actions"],
      status_code=200)
async def run_action(request: Request, action_id: FromPath[str], data: JSONBody[RunRequest]) -> Any:
    _check_id(action_id)
    action = actions.visible(await anyio.to_thread.run_sync(request.app.state.actions.all),
                             request.user.role).get(action_id)
    if action is None:
        raise Problem(404, "Cette action n'existe pas.", code="not-found")
    check_size(request, data.text)
    with task_errors():
        inference = inference_for(request, actions.MODEL_TASK, "model")
    note(request, task=f"action:{action_id}")  # each action counted on its own in the usage report
    language = data.language or await _language_of(data.text)
    model = inference.model_for(actions.MODEL_TASK) or "model"
    try:
        events = actions.run_events(inference, action, data.text, language, stream=wants_stream(request),
                                    user=request.user.name)
    except actions.InvalidAction as exc:  # a hand edit of actions.toml the PUT route would have refused
        raise Problem(422, f"Cette action est mal définie ; le service informatique peut la corriger. {exc}",
                      code="invalid-action") from None
    if wants_stream(request):
        async def finish(text: str) -> Any:
            return ActionResult(text=text, action=action_id, engine=model)
        return sse(request, events, finish)
    with task_errors():
        text = await final_text(events)
    return ActionResult(text=text, action=action_id, engine=model)


def _check_id(action_id: str) -> None:
    if not actions.valid_id(action_id):
        raise Problem(422, "L'identifiant d'une action s'écrit en minuscules, chiffres et tirets (40 caractères "
                           "au plus).", code="validation")


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    app.state.actions = actions.ActionLibrary(app.state.settings.data_dir)
    yield


ROUTES = [proofread_route, list_actions, put_action, delete_action, run_action]
LIFESPAN = lifespan
