"""GET /health: is the server up, and how long is the queue; the details for an administrator.

Public, because monitoring asks it without a token: `status` (`ok`, or `degraded` when a configured
model or the model catalog is broken or missing; a server with no model configured is `ok`) and
`queue_depth`. Nothing else: folder paths, the model list and the version help an attacker
more than a monitor. With an admin token (Authorization: Bearer …) it adds every component's report.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from plume import __version__
from plume.security.roles import Role


@get("/health", summary="État du service", tags=["service"],
     description="Public : `status` et `queue_depth`. Avec un jeton administrateur : le détail de chaque composant.")
async def health(request: Request) -> dict[str, Any]:
    sources = request.app.state.services.health_sources
    reports = {name: service.health() for name, service in sources.items()}
    body: dict[str, Any] = {
        "status": "degraded" if any(r.get("status") == "degraded" for r in reports.values()) else "ok",
        "queue_depth": reports.get("models", {}).get("queue_depth", 0),
    }
    if _is_admin(request):
        body.update(version=__version__, **reports)
    return body


def _is_admin(request: Request) -> bool:
    # /health is outside the authentication middleware (monitoring has no token): check it here.
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    user = request.app.state.services.users.authenticate(token.strip())
    return user is not None and user.role.allows(Role.ADMIN)


ROUTES = [health]
