"""What the writing-task controllers (mail, extract, drafting) share: size limits, choosing between
the rules and a model, turning task errors into French problems, streaming with Server-Sent Events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import contextmanager
from typing import Any, Literal

from litestar import Request
from litestar.response import ServerSentEvent

from plume.api.problems import Problem
from plume.inference.base import Inference, ModelUnavailable, NoInference
from plume.security.middleware import note
from plume.tasks.common import InvalidModelOutput

# "auto": the model when one is installed, else the rules; "rules": never a model; "model": a model or 503.
Engine = Literal["auto", "rules", "model"]


def check_size(request: Request, *texts: str | None) -> None:
    limit = request.app.state.settings.max_text_chars
    if sum(len(t or "") for t in texts) > limit:
        raise Problem(413, f"Le texte dépasse la limite de {limit} caractères. Envoyez-le en plusieurs parties.",
                      code="text-too-long", max_text_chars=limit)


def inference_for(request: Request, task: str, engine: Engine) -> Inference | None:
    """The inference service to use for `task`, or None for the rules only."""
    inference: Inference = request.app.state.get("inference") or NoInference()
    if engine == "rules":
        return None
    if inference.has_model(task):
        note(request, task=task, model=inference.model_for(task))
        return inference
    if engine == "model":
        raise ModelUnavailable(task)
    note(request, task=task)
    return None


@contextmanager
def task_errors():
    """ModelUnavailable → 503 with the install command; invalid model output → 502, never half an answer."""
    try:
        yield
    except ModelUnavailable as exc:
        raise Problem(503, f"Aucun modèle n'est installé pour la tâche « {exc.task} ». Les règles sans modèle "
                           "restent disponibles (\"engine\": \"rules\").", code="model-unavailable",
                      install_command=exc.install_command, task=exc.task) from exc
    except InvalidModelOutput as exc:
        raise Problem(502, f"Le modèle n'a pas produit de réponse valide pour « {exc.task} », même après un "
                           "second essai. Réessayez ou utilisez les règles sans modèle (\"engine\": \"rules\").",
                      title="Réponse du modèle invalide", code="invalid-model-output", task=exc.task) from exc


MODEL_FAILED = ("Le modèle n'a pas produit de réponse valide, même après un second essai : résultat des règles "
                "sans modèle.")


async def model_or_rules(engine: Engine, inference: Inference | None,
                         run: Callable[[Inference | None], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """Run the task with the model; in "auto" mode an invalid model answer falls back to the rules'
    complete result, with a warning that says so. In "model" mode it is a 502 (see task_errors)."""
    with task_errors():
        if inference is None or engine == "model":
            return await run(inference)
        try:
            return await run(inference)
        except InvalidModelOutput:
            result = await run(None)
            result.setdefault("warnings", []).append(MODEL_FAILED)
            return result


def wants_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


def sse(deltas: AsyncIterator[str], finish: Callable[[str], Awaitable[dict[str, Any]]]) -> ServerSentEvent:
    """Stream `delta` events ({"text": piece}) as the model writes, then one `done` event with the whole
    result (the same JSON as without streaming); on failure one `error` event with the problem."""

    async def events() -> AsyncIterator[dict[str, str]]:
        pieces: list[str] = []
        try:
            with task_errors():
                async for piece in deltas:
                    if not piece:
                        continue
                    pieces.append(piece)
                    yield {"event": "delta", "data": json.dumps({"text": piece}, ensure_ascii=False)}
                result = await finish("".join(pieces))
            yield {"event": "done", "data": json.dumps(result, ensure_ascii=False, default=str)}
        except Problem as problem:
            body = {"status": problem.status, "title": problem.title, "detail": problem.detail, **problem.extensions}
            yield {"event": "error", "data": json.dumps(body, ensure_ascii=False)}

    return ServerSentEvent(events())
