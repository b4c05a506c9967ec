"""What the task routes share: the task runner for this request (injected as `runner`), and its
outcome as an HTTP answer — JSON, Server-Sent Events, or a letter to download. Everything else
(engine choice, fallback, streaming, letters, the usage record) is the runner's (plume.tasks.runner).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.response import ServerSentEvent

from plume.api.problems import as_problem
from plume.security.middleware import note
from plume.services import Services
from plume.tasks.base import Call
from plume.tasks.runner import Outcome, TaskRunner

REFERENCE_HEADER = "X-Plume-Reference"
Runner = NamedDependency[TaskRunner]  # a task route's parameter `runner`: the runner for its request


def wants_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


def task_runner(request: Request, services: NamedDependency[Services]) -> TaskRunner:
    """The runner for this request: its user and role, the services, the audit line as usage record."""
    user = request.user
    call = Call(services, user=user.name, role=str(user.role), record=partial(note, request))
    return TaskRunner(call, stream=wants_stream(request))


def respond(outcome: Outcome) -> Any:
    """The outcome of a task run as the route's answer."""
    if outcome.events is not None:
        return EventStream(_messages(outcome.events))
    if outcome.document is not None:
        document = outcome.document
        headers = document.headers()
        if outcome.reference:
            headers[REFERENCE_HEADER] = outcome.reference
        return Response(document.content, media_type=document.media_type, headers=headers)
    return outcome.result


class EventStream(ServerSentEvent):
    """A ServerSentEvent whose Content-Type stays text/event-stream even from a handler whose declared
    media type is JSON (Litestar lets the handler's media type win otherwise)."""

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["media_type"] = "text/event-stream"
        return super().to_asgi_response(*args, **kwargs)


async def _messages(events: AsyncIterator[tuple[str, Any]]) -> AsyncIterator[dict[str, str]]:
    """The runner's events as SSE messages; a refusal becomes the `error` event with the problem."""
    async for event, data in events:
        if event == "error":
            problem = as_problem(data)
            data = {"status": problem.status, "title": problem.title, "detail": problem.detail, **problem.extensions}
        yield {"event": event, "data": json.dumps(msgspec.to_builtins(data), ensure_ascii=False, default=str)}
