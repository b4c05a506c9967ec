"""One generation admitted to the scheduler, and what shapes it before it is: the prompt's fit in the
model's context, and stop strings cut out of the text as it streams."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from typing import Any

from plume.inference.base import Completion, Message
from plume.inference.engine import Engine, GenerationParams
from plume.inference.errors import InferenceRefusal, InputTooLong, InvalidOptions
from plume.inference.metrics import Metrics
from plume.inference.scheduler import Job, Scheduler


class Generation:
    """A generation admitted to the scheduler: iterate it for text; then read the counts."""

    def __init__(self, scheduler: Scheduler, metrics: Metrics, job: Job, model: str, prompt_tokens: int,
                 params: GenerationParams) -> None:
        self.scheduler = scheduler
        self.metrics = metrics
        self.job = job
        self.model = model
        self.prompt_tokens = prompt_tokens
        self.params = params
        self.completion_tokens = 0
        self.finish_reason = "stop"
        self._stop = StopFilter(params.stop)

    def cancel(self) -> None:
        """Stop generating (the engine stops at its next step) or leave the queue."""
        self.scheduler.abandon(self.job)

    async def __aiter__(self) -> AsyncIterator[str]:
        outcome = "error"
        try:
            async for chunk in self.scheduler.chunks(self.job):
                self.completion_tokens += chunk.tokens
                text, stopped = self._stop.feed(chunk.text)
                if text:
                    yield text
                if stopped:
                    break
            else:
                if tail := self._stop.flush():
                    yield tail
                if self.completion_tokens >= self.params.max_new_tokens:
                    self.finish_reason = "length"
            outcome = "ok"
        except InferenceRefusal as refused:
            outcome = refused.code
            raise
        except (asyncio.CancelledError, GeneratorExit):
            outcome = "cancelled"
            raise
        finally:
            self.metrics.requests.labels(self.job.task, self.model, outcome).inc()

    def completion(self, text: str) -> Completion:
        return Completion(text=text, model=self.model, prompt_tokens=self.prompt_tokens,
                          completion_tokens=self.completion_tokens, finish_reason=self.finish_reason)


class StopFilter:
    """Cuts the output at the first stop string, holding back text that could be the start of one."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self.hold = max((len(s) for s in self.stops), default=1) - 1
        self.buffer = ""

    def feed(self, text: str) -> tuple[str, bool]:
        if not self.stops:
            return text, False
        self.buffer += text
        cut = min((i for i in (self.buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            out, self.buffer = self.buffer[:cut], ""
            return out, True
        keep = len(self.buffer) - self.hold
        out, self.buffer = (self.buffer[:keep], self.buffer[keep:]) if keep > 0 else ("", self.buffer)
        return out, False

    def flush(self) -> str:
        out, self.buffer = self.buffer, ""
        return out


def fit(params: GenerationParams, prompt_tokens: int, engine: Engine, model_id: str, seq2seq: bool) -> GenerationParams:
    """413 when the input alone fills the model's context; otherwise clamp max_new_tokens to what is left."""
    limit = int(engine.context_length or 0)
    if params.max_new_tokens < 1:
        raise InvalidOptions("Le nombre maximal de jetons à générer (max_tokens) doit être au moins 1.")
    if not limit:
        return params
    if prompt_tokens >= limit or (not seq2seq and prompt_tokens + 1 > limit):
        raise InputTooLong(f"Le texte est trop long pour le modèle « {model_id} » : {prompt_tokens} jetons, pour une "
                           f"limite de {limit} jetons. Raccourcissez-le ou découpez-le en plusieurs parties.",
                           prompt_tokens=prompt_tokens, context_length=limit)
    room = limit if seq2seq else limit - prompt_tokens
    if params.max_new_tokens > room:
        params = GenerationParams(**{**_fields(params), "max_new_tokens": room})
    return params


def speaks_chat(engine: Engine) -> bool:
    """Upstream servers apply their own chat template: they take the messages, not a prompt."""
    return callable(getattr(engine, "generate_chat", None))


def takes_language_pair(engine: Engine) -> bool:
    """A multilingual translation model (NLLB) must be told the target language."""
    return "language_pair" in inspect.signature(engine.generate).parameters


def as_dicts(messages: list[Message] | list[dict[str, str]]) -> list[dict[str, str]]:
    return [m if isinstance(m, dict) else {"role": m.role, "content": m.content} for m in messages]


def _fields(params: GenerationParams) -> dict[str, Any]:
    return {name: getattr(params, name) for name in params.__struct_fields__}
