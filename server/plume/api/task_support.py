"""What the writing-task controllers (mail, extract, drafting) share: size limits, choosing between
the rules and a model, turning task errors into French problems, streaming with Server-Sent Events."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import contextmanager
from typing import Any, Literal

import anyio
import msgspec
from litestar import Request, Response
from litestar.response import ServerSentEvent

from plume.api.problems import Problem, as_problem
from plume.errors import Refusal
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
        command = getattr(inference, "install_command", None)
        raise ModelUnavailable(task, install_command=command(task)) if command else ModelUnavailable(task)
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


async def model_or_rules(request: Request, engine: Engine, inference: Inference | None,
                         run: Callable[[Inference | None], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """Run the task with the model; in "auto" mode an invalid model answer falls back to the rules'
    complete result, with a warning that says so. In "model" mode it is a 502 (see task_errors)."""
    with task_errors():
        if inference is None or engine == "model":
            return await run(inference)
        try:
            return await run(inference)
        except InvalidModelOutput:
            return await _rules_instead(request, run(None))


async def _rules_instead(request: Request, rules: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """The rules' result after a failed model, recorded as the rules' work: the usage report counts
    results by the engine that wrote them."""
    result = await rules
    result.setdefault("warnings", []).append(MODEL_FAILED)
    note(request, model="rules")
    return result


def wants_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


class EventStream(ServerSentEvent):
    """A ServerSentEvent whose Content-Type stays text/event-stream even from a handler whose declared
    media type is JSON (Litestar lets the handler's media type win otherwise)."""

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["media_type"] = "text/event-stream"
        return super().to_asgi_response(*args, **kwargs)


def sse(request: Request, events: AsyncIterator[tuple[str, Any]], finish: Callable[..., Awaitable[dict[str, Any]]],
        fallback: Callable[[], Awaitable[dict[str, Any]]] | None = None) -> EventStream:
    """The event format of docs/writing-tasks.md: `progress` {stage, part, parts} and `delta` {text} while
    the model writes, `restart` {reason} when a second attempt begins (drop the text so far), then
    `done` with the same JSON as without streaming, or `error` with the problem.

    `events` yields (kind, value) pairs; a last ("final", value) pair, if any, is handed to `finish`.
    With `fallback` ("auto" mode) a model that fails twice gives the rules' result with a warning."""

    def message(event: str, data: Any) -> dict[str, str]:
        return {"event": event, "data": json.dumps(msgspec.to_builtins(data), ensure_ascii=False, default=str)}

    async def stream() -> AsyncIterator[dict[str, str]]:
        try:
            with task_errors():  # turns ModelUnavailable and InvalidModelOutput into problems
                try:
                    final: tuple[Any, ...] = ()
                    async for kind, value in events:
                        if kind == "final":
                            final = (value,)
                        elif kind == "delta":
                            yield message("delta", {"text": value})
                        elif kind == "restart":
                            yield message("restart", {"reason": value})
                        else:
                            yield message(kind, value)
                    result = await finish(*final)
                except InvalidModelOutput:
                    if fallback is None:
                        raise
                    result = await _rules_instead(request, fallback())
            yield message("done", result)
        except (Problem, Refusal) as refused:
            problem = as_problem(refused)
            yield message("error", {"status": problem.status, "title": problem.title, "detail": problem.detail,
                                    **problem.extensions})

    return EventStream(stream())


async def render_document(request: Request, template_id: str, values: dict[str, Any], fmt: str,
                          language: str | None = None) -> Response:
    """The task's result through a letter template of the library, as a .docx/.odt download. Only the
    fields the template declares are sent, converted to their declared type. `language`: the
    template's version in that language, else French with a warning (header X-Plume-Warning)."""
    library = request.app.state.get("templates")
    if library is None:
        raise Problem(503, "La bibliothèque de modèles n'est pas disponible.", code="templates-unavailable")
    note(request, template=template_id)
    from plume.documents.library import FieldErrors, FormatUnavailable, RenderFailed, TemplateNotFound

    try:
        fields = {f.name: f for f in (await anyio.to_thread.run_sync(library.get, template_id)).fields}
        typed = {name: _as_type(value, fields[name].type) for name, value in values.items()
                 if name in fields and value not in (None, "")}
        document = await anyio.to_thread.run_sync(library.render, template_id, typed, fmt, language)  # off the loop
    except TemplateNotFound as exc:
        raise Problem(404, f"Le modèle « {template_id} » n'existe pas dans la bibliothèque.",
                      code="template-not-found") from exc
    except FormatUnavailable as exc:
        raise as_problem(exc) from exc
    except FieldErrors as exc:
        raise Problem(422, f"Il manque des valeurs pour le modèle « {template_id} » : complétez-les dans "
                           "« values ».", code="missing-values", errors=exc.errors, values=typed) from exc
    except RenderFailed as exc:  # e.g. a model's value that the template cannot take
        raise Problem(422, f"Le document n'a pas pu être produit avec le modèle « {template_id} ».",
                      code="render-failed") from exc
    return Response(document.content, media_type=document.media_type, headers=document.headers())


def _as_type(value: Any, kind: str) -> Any:
    if kind == "number" and isinstance(value, str):
        digits = re.match(r"\s*(\d+(?:[.,]\d+)?)", value)
        return float(digits[1].replace(",", ".")) if digits else value
    if kind == "text" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if kind == "text" and isinstance(value, list):
        return "\n".join(map(str, value))
    return value
