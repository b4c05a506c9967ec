"""Per-user rate limit: a token bucket per authenticated user, in memory.

Litestar's RateLimitMiddleware keys on the client address; behind a reverse proxy every secretary
would share one address, so Plume keys on the user behind the token instead.
"""

from __future__ import annotations

import time

from litestar.types import ASGIApp, Receive, Scope, Send

from plume.security.errors import RateLimited


def rate_limit_middleware(app: ASGIApp) -> ASGIApp:
    buckets: dict[str, tuple[float, float]] = {}  # user -> (tokens left, last refill time)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        per_minute = scope["app"].state.services.settings.rate_limit_per_minute
        if scope["type"] != "http" or user is None or per_minute <= 0:
            await app(scope, receive, send)
            return
        now = time.monotonic()
        tokens, last = buckets.get(user.name, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - last) * per_minute / 60.0)
        if tokens < 1.0:
            wait = max(1, int((1.0 - tokens) * 60.0 / per_minute) + 1)
            buckets[user.name] = (tokens, now)
            # Raised, not sent: Litestar's exception handlers turn it into problem+json (429 + Retry-After).
            raise RateLimited(f"Trop de requêtes : limite de {per_minute} par minute. Réessayez dans {wait} s.",
                              retry_after=wait)
        buckets[user.name] = (tokens - 1.0, now)
        await app(scope, receive, send)

    return middleware
