"""POST /v1/templates/{template_id}/extract: case notes → values for the template's fields."""

from __future__ import annotations

from typing import Any

from litestar import post
from litestar.params import FromPath, JSONBody

from plume.api.task_support import Runner, respond
from plume.tasks.extract import ExtractIn, ExtractRequest
from plume.tasks.registry import EXTRACT


@post("/v1/templates/{template_id:str}/extract", summary="Remplir les champs d'un modèle à partir de notes",
      tags=["modèles"], status_code=200)
async def extract_fields(template_id: FromPath[str], data: JSONBody[ExtractIn], runner: Runner) -> dict[str, Any]:
    return respond(await runner.run(EXTRACT, ExtractRequest(template_id, data.text, data.engine, data.cite, data.collections)))


ROUTES = [extract_fields]
