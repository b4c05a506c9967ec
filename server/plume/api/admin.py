"""Admin routes: the usage report. The audit log is purged past its retention period at start
and then once a day."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from litestar import Litestar, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from plume.api.problems import Problem
from plume.ops.usage import to_csv, to_html, to_json, usage_rows
from plume.security.auth import requires
from plume.security.roles import Role
from plume.services import Services

log = logging.getLogger("plume")


@get("/v1/admin/usage", guards=[requires(Role.ADMIN)], summary="Rapport d'utilisation", tags=["admin"])
async def usage(
    services: NamedDependency[Services],
    start: Annotated[str | None, QueryParameter(name="from", description="AAAA-MM-JJ")] = None,
    end: Annotated[str | None, QueryParameter(name="to", description="AAAA-MM-JJ")] = None,
    format: Annotated[str, QueryParameter(description="json, csv ou html")] = "json",
) -> Response:
    try:
        first = date.fromisoformat(start) if start else None
        last = date.fromisoformat(end) if end else None
    except ValueError:
        raise Problem(422, "Les dates « from » et « to » doivent être au format AAAA-MM-JJ.", code="validation")
    if format not in {"json", "csv", "html"}:
        raise Problem(422, "Le format doit être json, csv ou html.", code="validation")
    settings = services.settings
    rows = usage_rows(services.audit.read(), first, last, settings.minutes_saved)
    if format == "csv":
        return Response(to_csv(rows), media_type="text/csv; charset=utf-8")
    if format == "html":
        return Response(to_html(rows, first, last, minutes_saved=settings.minutes_saved),
                        media_type="text/html; charset=utf-8")
    return Response(to_json(rows, start, end, settings.minutes_saved))


@contextlib.asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    services = app.state.services

    async def purge_daily() -> None:
        while True:
            dropped = await asyncio.to_thread(services.audit.purge, services.settings.audit_retention_days)
            if dropped:
                log.info("audit: %d lines past retention purged", dropped)
            await asyncio.sleep(24 * 3600)

    task = asyncio.create_task(purge_daily())
    try:
        yield
    finally:
        task.cancel()


ROUTES = [usage]
LIFESPAN = lifespan
