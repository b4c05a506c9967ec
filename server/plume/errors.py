"""The one base of the refusals raised below the API (tasks, inference, security…).

A lower layer says *what* went wrong, in French and without the user's text; the API edge
(`plume.api.problems`) alone decides the HTTP status and writes problem+json, from one table keyed by
the exception's class. Nothing here imports the web framework.

Besides each layer's own refusals, four kinds any layer may raise (each a row of that table):
`InvalidRequest` (the request cannot be served as sent), `NotFound`, `TooLarge` and `Unavailable`
(the server lacks what the request needs), and `Misconfigured` (a file IT keeps is broken).
"""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A request refused for a reason the person using Plume can act on.

    `detail`: French, no user text. `code`: machine-readable kind (also a metrics label).
    `title`: a French title for the answer, when the status's own does not say enough.
    `retry_after`: seconds after which trying again makes sense, or None. `fields`: plain data the
    answer may carry (e.g. the token counts of a too-long text)."""

    code = "error"
    title: str | None = None

    def __init__(self, detail: str, *, retry_after: int | None = None, **fields: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        self.fields = fields


class InvalidRequest(Refusal):
    """The request is well formed but cannot be served as sent (an unknown language, no articles…)."""

    code = "validation"


class NotFound(Refusal):
    code = "not-found"


class TooLarge(Refusal):
    code = "too-large"


class Unavailable(Refusal):
    """Something the request needs is not installed or not running on this server."""

    code = "unavailable"


class Misconfigured(Refusal):
    """A file IT keeps (rules, settings) cannot be used: the request fails until it is fixed."""

    code = "misconfigured"
