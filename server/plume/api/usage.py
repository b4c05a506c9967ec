"""POST /v1/usage/inserted: the clerk inserted a result into her document.

The sidebars call it when she clicks Insert, with the id the task response carried (header
X-Plume-Request-Id). Only inserted results count as time saved in the usage report (ops/usage.py).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from plume.api.problems import Problem
from plume.ops.usage import RequestLedger
from plume.security.middleware import note


class Inserted(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    request_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{16}$")]


@post("/v1/usage/inserted", summary="Signaler qu'un résultat a été inséré dans le document", tags=["service"],
      status_code=204)
async def inserted(request: Request, data: JSONBody[Inserted], ledger: NamedDependency[RequestLedger]) -> None:
    # Unknown and someone else's ids get the same answer: an id says nothing about other people's work.
    if not ledger.belongs_to(data.request_id, request.user.name):
        raise Problem(404, "Ce résultat est inconnu : il n'a pas été produit par ce serveur pour vous.",
                      code="unknown-request")
    note(request, request_id=data.request_id)


ROUTES = [inserted]
