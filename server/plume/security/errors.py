"""Why the security layer refuses a request; the API maps each class to 401/403/429
(`plume.api.problems.STATUS`). Raised from middleware too: Litestar's exception handlers apply there."""

from __future__ import annotations

from plume.errors import Refusal


class SecurityRefusal(Refusal):
    """Base of the security layer's refusals."""


class Unauthorized(SecurityRefusal):
    code = "unauthorized"


class Forbidden(SecurityRefusal):
    code = "forbidden"


class RateLimited(SecurityRefusal):
    code = "rate-limited"
