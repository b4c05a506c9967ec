"""The one base of the refusals raised below the API (inference, security…).

A lower layer says *what* went wrong, in French and without the user's text; the API edge
(`plume.api.problems`) alone decides the HTTP status and writes problem+json, from one table keyed by
the exception's class. Nothing here imports the web framework.
"""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A request refused for a reason the person using Plume can act on.

    `detail`: French, no user text. `code`: machine-readable kind (also a metrics label).
    `retry_after`: seconds after which trying again makes sense, or None. `fields`: plain data the
    answer may carry (e.g. the token counts of a too-long text)."""

    code = "error"

    def __init__(self, detail: str, *, retry_after: int | None = None, **fields: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        self.fields = fields
