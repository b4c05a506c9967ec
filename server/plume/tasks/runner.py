"""The one runner of the writing tasks: size limit, engine choice, the fallback to the rules, streaming,
letters and the usage record, the same for every task (`tasks/base.py` says what a task is).

Engine choice (`"engine"` of the request): "rules" never asks a model; "model" asks one or refuses
(503, the task's `model_missing`); "auto" asks the model when one serves the task, else the rules.
A model answer that fails the task's checks is retried once with the error named (`tasks/common.py`,
`tasks/freetext.py`); if the second fails too, "model" refuses (502, InvalidModelOutput) and "auto"
gives the rules' result with a warning, recorded as the rules' work: the usage report counts results
by the engine that wrote them.

Streaming (docs/writing-tasks.md): when the caller asks for it, the task streams and a model writes,
`run` hands back events — ("progress", {...}), ("delta", {"text"}), ("restart", {"reason"}), then
exactly one ("done", result) or ("error", the Refusal) — which the edge sends as Server-Sent Events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from plume.errors import Refusal
from plume.tasks.base import Call, Event, Job, Task, TextTooLong
from plume.tasks.common import InvalidModelOutput
from plume.tasks.letters import render_letter

STREAMED = ("progress", "delta", "restart")


@dataclass
class Outcome:
    """What a task run gives back: a result (plain data), events to stream, or a letter."""

    result: dict[str, Any] | None = None
    events: AsyncIterator[tuple[str, Any]] | None = None
    document: Any = None  # plume.documents.library.RenderedDocument
    reference: str | None = None  # the letter's reference (acknowledgements)


class TaskRunner:
    """Runs tasks for one caller; `stream`: the caller takes events when a model writes."""

    def __init__(self, call: Call, *, stream: bool = False) -> None:
        self.call = call
        self.stream = stream

    async def run(self, task: Task, request: Any) -> Outcome:
        self._check_size(task, request)
        job = await task.prepare(request, self.call)
        self.call.record(task=task.usage(job))
        if job.answer is not None:  # complete before any engine (e.g. a text already in the target language)
            return Outcome(result=job.answer)
        model = self._choose(task, job)
        if model is None:
            self.call.record(model=task.rules_engine)
            return await self._deliver(task, job, await task.rules(job))
        self.call.record(model=model)
        if self.stream and task.streams(job):
            return Outcome(events=self._events(task, job))
        return await self._deliver(task, job, await self._with_model(task, job))

    def _check_size(self, task: Task, request: Any) -> None:
        limit = self.call.services.settings.max_text_chars
        if sum(len(text or "") for text in task.texts(request)) > limit:
            raise TextTooLong(limit)

    @staticmethod
    def _choose(task: Task, job: Job) -> str | None:
        """The model that will write, or None for the rules; refuses when neither can."""
        model = task.model_id(job) if job.engine != "rules" else None
        if model is None and (job.engine == "model" or not task.rules_available(job)):
            raise task.model_missing(job)
        return model

    async def _with_model(self, task: Task, job: Job) -> dict[str, Any]:
        try:
            return await _result_of(task.model(job, stream=False))
        except InvalidModelOutput:
            if not _may_fall_back(task, job):
                raise
            return await self._rules_instead(task, job)

    async def _rules_instead(self, task: Task, job: Job) -> dict[str, Any]:
        """The rules' complete result after the model failed twice, with the warning that says so."""
        result = await task.rules(job)
        task.fell_back(job, result)
        self.call.record(model=task.rules_engine)
        return result

    async def _events(self, task: Task, job: Job) -> AsyncIterator[Event]:
        try:
            try:
                result = None
                async for kind, value in task.model(job, stream=True):
                    if kind == "result":
                        result = value
                    elif kind in STREAMED:
                        yield kind, _streamed(kind, value)
                if result is None:
                    raise RuntimeError(f"{task.name}: the model path ended without a result")
            except InvalidModelOutput:
                if not _may_fall_back(task, job):
                    raise
                result = await self._rules_instead(task, job)
            yield "done", result
        except Refusal as refused:  # the stream has begun: the refusal is its last event
            yield "error", refused

    async def _deliver(self, task: Task, job: Job, result: dict[str, Any]) -> Outcome:
        letter = await task.letter(job, result)
        if letter is None:
            return Outcome(result=result)
        self.call.record(template=letter.template_id)
        document = await render_letter(self.call.services.templates, letter)
        return Outcome(document=document, reference=letter.reference)


def _may_fall_back(task: Task, job: Job) -> bool:
    return job.engine == "auto" and task.rules_available(job)


def _streamed(kind: str, value: Any) -> Any:
    """The data of a streamed event: {"text"} for a delta, {"reason"} for a restart, as it is else."""
    if kind == "delta":
        return {"text": value}
    if kind == "restart":
        return {"reason": value}
    return value


async def _result_of(events: AsyncIterator[Event]) -> dict[str, Any]:
    result = None
    async for kind, value in events:
        if kind == "result":
            result = value
    if result is None:
        raise RuntimeError("the model path ended without a result")
    return result
