"""Proofreading and the commune's own actions.

POST /v1/text/proofread              French spelling, grammar, typography (Grammalecte, no model)
GET  /v1/actions                     the actions this user's role sees, and whether they can run now
PUT  /v1/actions/{id} · DELETE       an admin keeps the library (data folder, actions.toml)
POST /v1/actions/{id}/run            run one on a selection (needs an instruction model)
"""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from plume.api.task_support import Runner, respond
from plume.security.auth import requires
from plume.security.roles import Role
from plume.services import InjectedInference
from plume.tasks.actions import (NO_MODEL, NO_MODEL_DE, Action, ActionLibrary, ActionRun, RunRequest, UnknownAction,
                                 check_id, listed)
from plume.tasks.proofread import ProofreadRequest, ProofreadResult
from plume.tasks.registry import ACTIONS, PROOFREAD


class ActionInfo(msgspec.Struct, kw_only=True):
    id: str
    title: str
    title_de: str
    applies_to: str
    output_language: str
    available: bool
    reason: str = ""
    reason_de: str = ""


@post("/v1/text/proofread", summary="Correction : orthographe, grammaire et typographie (français)",
      tags=["textes"], status_code=200)
async def proofread_route(data: JSONBody[ProofreadRequest], runner: Runner) -> ProofreadResult:
    return respond(await runner.run(PROOFREAD, data))


@get("/v1/actions", summary="Actions de la commune", tags=["actions"])
async def list_actions(request: Request, actions: NamedDependency[ActionLibrary],
                       inference: InjectedInference) -> dict[str, list[ActionInfo]]:
    ready = inference.has_model(ACTIONS.model_task)
    shown = listed(await anyio.to_thread.run_sync(actions.all), request.user.role, ready)
    no, no_de = ("", "") if ready else (NO_MODEL, NO_MODEL_DE)
    return {"actions": [
        ActionInfo(id=key, title=a.title, title_de=a.title_de or a.title, applies_to=a.applies_to,
                   output_language=a.output_language, available=ready, reason=no, reason_de=no_de)
        for key, a in shown.items()]}


@put("/v1/actions/{action_id:str}", guards=[requires(Role.ADMIN)], summary="Créer ou modifier une action",
     tags=["actions"])
async def put_action(action_id: FromPath[str], data: JSONBody[Action],
                     actions: NamedDependency[ActionLibrary]) -> Response:
    check_id(action_id)
    created = await anyio.to_thread.run_sync(actions.put, action_id, data)  # InvalidAction: a 422 naming the error
    return Response({"id": action_id, **msgspec.to_builtins(data)}, status_code=201 if created else 200)


@delete("/v1/actions/{action_id:str}", guards=[requires(Role.ADMIN)], summary="Supprimer une action",
        tags=["actions"], status_code=204)
async def delete_action(action_id: FromPath[str], actions: NamedDependency[ActionLibrary]) -> None:
    check_id(action_id)
    if not await anyio.to_thread.run_sync(actions.delete, action_id):
        raise UnknownAction()


@post("/v1/actions/{action_id:str}/run", summary="Appliquer une action de la commune", tags=["actions"],
      status_code=200)
async def run_action(action_id: FromPath[str], data: JSONBody[RunRequest], runner: Runner) -> Any:
    return respond(await runner.run(ACTIONS, ActionRun(action_id, data.text, data.language)))


ROUTES = [proofread_route, list_actions, put_action, delete_action, run_action]
