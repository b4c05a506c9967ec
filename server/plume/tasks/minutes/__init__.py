"""Meeting notes or a timestamped transcript → procès-verbal of a Swiss communal council.

Without a model the rules read the notes (`notes.py`); with a model each point's discussion is
rewritten in indirect speech (`discussion.py`); `text.py` writes the PV out, as text or as the values
of the proces-verbal letter template.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec

from plume.tasks.base import Event, Job
from plume.tasks.drafts import DraftTask
from plume.tasks.minutes.discussion import TASK, discussion_events, discussion_messages, write_discussions
from plume.tasks.minutes.notes import AgendaItem, Minutes, Vote, read_notes, read_transcript, read_vote
from plume.tasks.minutes.text import minutes_text, template_values, vote_sentence

TEMPLATE_ID = "proces-verbal"


class MinutesTask(DraftTask):
    """POST /v1/text/minutes: the notes read by rules, the discussions written by a model (streamed)."""

    name = TASK
    template_id = TEMPLATE_ID

    async def rules(self, job: Job) -> dict[str, Any]:
        return _result(read_notes(job.request.text), "rules")

    async def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        minutes = read_notes(job.request.text)
        async for event in discussion_events(minutes, job.inference, job.user):
            yield event
        yield "result", _result(minutes, job.inference.model_for(TASK) or "")

    def letter_values(self, result: dict[str, Any]) -> dict[str, Any]:
        return template_values(msgspec.convert(result["minutes"], Minutes))


def _result(minutes: Minutes, engine: str) -> dict[str, Any]:
    return {"text": minutes_text(minutes), "minutes": msgspec.to_builtins(minutes), "engine": engine}


__all__ = ["TASK", "TEMPLATE_ID", "AgendaItem", "Minutes", "MinutesTask", "Vote", "discussion_events",
           "discussion_messages", "minutes_text", "read_notes", "read_transcript", "read_vote", "template_values",
           "vote_sentence", "write_discussions"]
