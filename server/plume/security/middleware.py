"""Audit middleware: one line per request with sizes, duration and status — never content."""

from __future__ import annotations

import re
import time
from typing import Any

from litestar._asgi.utils import wrap_in_exception_handler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

AUDIT_KEY = "plume.audit"
TEMPLATE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def note(scope_or_request: Any, **fields: Any) -> None:
    """Let a handler add task/template/model to its request's audit line."""
    scope = getattr(scope_or_request, "scope", scope_or_request)
    scope.setdefault(AUDIT_KEY, {}).update({k: v for k, v in fields.items() if v is not None})


def audit_middleware(app: ASGIApp) -> ASGIApp:
    # The middlewares inside this one (authentication, rate limit) refuse a request by raising; the
    # route's own exception handler is inside them, so their 401/429 would only become a response in
    # the application's outer handler, after this line was written (as 500). Handling exceptions
    # here, with the same handlers Litestar uses at every layer, makes the line carry the status the
    # client really receives. (tests/test_audit_status.py)
    app = wrap_in_exception_handler(app)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        state = {"status": 500, "bytes": 0}

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message = _with_request_id(scope, message)
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await app(scope, receive, counting_send)
        finally:
            _write(scope, state, time.perf_counter() - started)

    return middleware


def _with_request_id(scope: Scope, message: Message) -> Message:
    """A successful task response gets an id (header X-Plume-Request-Id, also in its audit line): the
    sidebar sends it back to /v1/usage/inserted when the clerk inserts the result (ops/usage.py)."""
    from plume.ops.usage import REQUEST_ID_HEADER, route_task

    extra = scope.setdefault(AUDIT_KEY, {})
    route = scope.get("path_template") or scope["path"]
    if scope.get("method") != "POST" or not 200 <= message["status"] < 300 or not route_task(route, extra.get("task")):
        return message
    ledger = scope["app"].state.services.ledger
    extra["request_id"] = ledger.issue(getattr(scope.get("user"), "name", None))
    headers = [*message.get("headers", []), (REQUEST_ID_HEADER.lower().encode(), extra["request_id"].encode())]
    return {**message, "headers": headers}


def _write(scope: Scope, state: dict, elapsed: float) -> None:
    if scope["path"] == "/health":
        return
    audit = scope["app"].state.services.audit
    user = scope.get("user")
    headers = dict(scope.get("headers") or [])
    extra = dict(scope.get(AUDIT_KEY) or {})
    path_params = scope.get("path_params") or {}
    if "template_id" in path_params:
        extra.setdefault("template", str(path_params["template_id"]))
    if "template" in extra and not TEMPLATE_ID.fullmatch(str(extra["template"])):
        extra["template"] = "(invalide)"  # only a well-formed id is recorded: anything else is the caller's text
    route = scope.get("path_template") or scope["path"]
    audit.write(
        user=getattr(user, "name", None),
        service=getattr(user, "service", None),
        method=scope.get("method", ""),
        route=route,
        status=state["status"],
        duration_ms=round(elapsed * 1000, 2),
        request_bytes=int(headers.get(b"content-length", b"0") or 0),
        response_bytes=state["bytes"],
        **extra,
    )
