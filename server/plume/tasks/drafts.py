"""What the two drafting tasks share (minutes, fact sheet): a text in, a structured draft out as JSON,
streamed while a model writes, or written into the task's letter template as .docx/.odt."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from plume.errors import InvalidRequest
from plume.language import breaks
from plume.tasks.base import Call, Engine, Job, Letter, Offer, TaskBase


class DraftIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: str
    format: Literal["text", "docx", "odt"] = "text"
    engine: Engine = "auto"

    def __post_init__(self) -> None:
        self.text = breaks.normalise(self.text)


class DraftTask(TaskBase):
    """A drafting task: `template_id` is its letter; `letter_values(result)` fills it."""

    request_type = DraftIn
    template_id = ""

    async def prepare(self, request: DraftIn, call: Call) -> Job:
        if not request.text.strip():
            raise InvalidRequest("Le texte est vide.")
        return Job(request, call, engine=request.engine)

    def streams(self, job: Job) -> bool:
        return job.request.format == "text"  # a letter is one file: nothing to stream

    async def letter(self, job: Job, result: dict[str, Any]) -> Letter | None:
        if job.request.format == "text":
            return None
        return Letter(self.template_id, self.letter_values(result), job.request.format)

    def letter_values(self, result: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def describe(self, offer: Offer) -> dict[str, Any]:
        return {**super().describe(offer), "formats": offer.formats(self.template_id)}
