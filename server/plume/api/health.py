"""GET /health: is the server up, which models are usable, how long is the queue."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from plume import __version__


@get("/health", summary="État du service", tags=["service"])
async def health(request: Request) -> dict[str, Any]:
    state = request.app.state
    body: dict[str, Any] = {"status": "ok", "version": __version__}
    for name, service in state.get("health_sources", {}).items():
        report = service.health()
        body[name] = report
        if report.get("status") == "degraded":
            body["status"] = "degraded"
    return body


ROUTES = [health]
