"""The inference core over HTTP: GET /v1/models, POST /v1/chat/completions (OpenAI-compatible, so
other local tools can use the commune's models), GET /metrics (Prometheus, admin token).

The InferenceService (`inference`) is built and started by plume.services and injected here; it
reports to /health as "models".
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.response import Stream

from plume.api.problems import Problem, as_problem
from plume.errors import Refusal
from plume.inference.engine import GenerationParams
from plume.inference.service import Generation, InferenceService
from plume.services import InjectedInference, Services
from plume.security.auth import requires
from plume.security.middleware import note
from plume.security.roles import Role

CHAT_TASK = "chat"


# -- request shapes (OpenAI) ------------------------------------------------------------------------------


class ContentPart(msgspec.Struct):
    type: str
    text: str = ""


class ChatMessage(msgspec.Struct):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content if part.type == "text")
        return self.content or ""


class StreamOptions(msgspec.Struct):
    include_usage: bool = False


class ChatRequest(msgspec.Struct, kw_only=True):
    model: str
    messages: list[ChatMessage]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    seed: int | None = None
    n: int = 1
    user: str | None = None


# -- routes --------------------------------------------------------------------------------------------------


@get("/v1/models", summary="Modèles du catalogue et leur état", tags=["modèles"])
async def list_models(inference: InjectedInference) -> dict[str, Any]:
    return {"object": "list", "data": _service(inference).describe_models()}


@post("/v1/chat/completions", summary="Complétion de conversation (compatible OpenAI)", tags=["modèles"],
      status_code=200)
async def chat_completions(request: Request, data: JSONBody[ChatRequest], inference: InjectedInference) -> Response:
    service = _service(inference)
    messages, params = _validate(data, service)
    note(request, task=CHAT_TASK)
    slot = service.slot_for_model(data.model, task=CHAT_TASK)
    note(request, model=slot.id)  # only a catalog id: the request's own string may be anything
    generation = await service.open(slot, messages, params, user=request.user.name, task=CHAT_TASK)
    completion_id = f"chatcmpl-{secrets.token_hex(12)}"
    created = int(time.time())
    if data.stream:
        include_usage = bool(data.stream_options and data.stream_options.include_usage)
        return Stream(_sse(generation, completion_id, created, data.model, include_usage),
                      media_type="text/event-stream",
                      headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    text = await _collect_unless_gone(request, generation)
    return Response({
        "id": completion_id, "object": "chat.completion", "created": created, "model": data.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None,
                     "finish_reason": generation.finish_reason}],
        "usage": _usage(generation),
    })


@get("/metrics", summary="Métriques Prometheus (jeton administrateur)", tags=["service"],
     guards=[requires(Role.ADMIN)], include_in_schema=True)
async def metrics(services: NamedDependency[Services]) -> Response:
    registry = services.metrics
    return Response(registry.render(), media_type=registry.content_type)


ROUTES = [list_models, chat_completions, metrics]


# -- helpers --------------------------------------------------------------------------------------------------


def _service(inference: Any) -> InferenceService:
    """The chat and model routes speak to the InferenceService itself (slots, raw generations)."""
    service = inference
    if not isinstance(service, InferenceService):
        raise Problem(503, "Le moteur de modèles n'est pas démarré sur ce serveur.", code="no-inference")
    return service


def _validate(data: ChatRequest, service: InferenceService) -> tuple[list[dict[str, str]], GenerationParams]:
    if not data.messages:
        raise Problem(422, "La conversation (« messages ») est vide.", code="validation")
    if data.n != 1:
        raise Problem(422, "Plume ne génère qu'une réponse par requête (« n » doit valoir 1).", code="validation")
    # Settings left out take the model's defaults from the catalog ([models.generation]), as vLLM
    # takes them from the model's generation_config.
    defaults = _generation_defaults(service, data.model)
    temperature = defaults.temperature if data.temperature is None else data.temperature
    top_p = defaults.top_p if data.top_p is None else data.top_p
    if not 0.0 <= temperature <= 2.0:
        raise Problem(422, "« temperature » doit être comprise entre 0 et 2.", code="validation")
    if not 0.0 < top_p <= 1.0:
        raise Problem(422, "« top_p » doit être compris entre 0 (exclu) et 1.", code="validation")
    max_tokens = data.max_tokens if data.max_completion_tokens is None else data.max_completion_tokens
    if max_tokens is not None and max_tokens < 1:
        raise Problem(422, "« max_tokens » doit valoir au moins 1.", code="max-tokens")
    max_tokens = max_tokens or defaults.max_new_tokens  # the service clamps it to what the context leaves
    stop = [data.stop] if isinstance(data.stop, str) else list(data.stop or [])
    if len(stop) > 4:
        raise Problem(422, "Au plus 4 séquences d'arrêt (« stop »).", code="validation")
    messages = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()} for m in data.messages]
    params = GenerationParams(max_new_tokens=max_tokens, temperature=temperature, top_p=top_p, stop=stop,
                              seed=data.seed)
    return messages, params


def _generation_defaults(service: InferenceService, model: str) -> GenerationParams:
    slot = service.slots.get(model)
    generation = getattr(slot.entry, "generation", None) if slot else None
    return GenerationParams(max_new_tokens=int(getattr(generation, "max_new_tokens", 512) or 512),
                            temperature=float(getattr(generation, "temperature", 0.0) or 0.0),
                            top_p=float(getattr(generation, "top_p", 1.0) or 1.0))


def _usage(generation: Generation) -> dict[str, int]:
    return {"prompt_tokens": generation.prompt_tokens, "completion_tokens": generation.completion_tokens,
            "total_tokens": generation.prompt_tokens + generation.completion_tokens}


async def _collect_unless_gone(request: Request, generation: Generation) -> str:
    """Gather the whole answer; if the client hangs up meanwhile, stop the generation."""
    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        generation.cancel()

    watcher = asyncio.create_task(watch())
    try:
        return "".join([piece async for piece in generation])
    finally:
        generation.cancel()
        watcher.cancel()
        with suppress(asyncio.CancelledError):
            await watcher


async def _sse(generation: Generation, completion_id: str, created: int, model: str,
               include_usage: bool) -> AsyncIterator[bytes]:
    """OpenAI's streaming shape: a role chunk, content chunks, a finish chunk, optional usage, [DONE].
    If the client goes away, Litestar cancels this generator and the generation is cancelled with it."""
    base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": None}
    extra = {"usage": None} if include_usage else {}

    def frame(delta: dict[str, Any], finish: str | None) -> bytes:
        body = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra}
        return b"data: " + msgspec.json.encode(body) + b"\n\n"

    try:
        yield frame({"role": "assistant", "content": ""}, None)
        async for piece in generation:
            yield frame({"content": piece}, None)
    except (Problem, Refusal) as refused:  # headers are already sent: report the error in the stream, as OpenAI does
        problem = as_problem(refused)
        error = {"error": {"message": problem.detail, "type": problem.code or "error", "code": problem.status}}
        yield b"data: " + msgspec.json.encode(error) + b"\n\n"
        yield b"data: [DONE]\n\n"
        return
    finally:
        generation.cancel()  # a no-op when finished; stops the engine when the client went away
    yield frame({}, generation.finish_reason)
    if include_usage:
        yield b"data: " + msgspec.json.encode({**base, "choices": [], "usage": _usage(generation)}) + b"\n\n"
    yield b"data: [DONE]\n\n"
