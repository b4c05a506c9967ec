"""POST /v1/templates/{template_id}/extract: case notes → values for the template's fields."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, post
from litestar.params import FromPath, JSONBody

from plume.api.problems import Problem
from plume.language import breaks
from plume.api.task_support import Engine, check_size, inference_for, model_or_rules, task_errors
from plume.tasks import extract as extract_task


class ExtractIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: str
    engine: Engine = "auto"

    def __post_init__(self) -> None:
        self.text = breaks.normalise(self.text)


def template_fields(request: Request, template_id: str) -> list[extract_task.FieldSpec]:
    library = request.app.state.get("templates")
    if library is None:
        raise Problem(503, "La bibliothèque de modèles de lettres n'est pas disponible.", code="templates-unavailable")
    from plume.documents.library import TemplateNotFound

    try:
        info = library.get(template_id)
    except TemplateNotFound as exc:
        raise Problem(404, f"Le modèle « {template_id} » n'existe pas.", code="template-not-found") from exc
    return [extract_task.FieldSpec(name=f.name, type=f.type, label=f.label, required=f.required,
                                   choices=list(f.choices or [])) for f in info.fields]


@post("/v1/templates/{template_id:str}/extract", summary="Remplir les champs d'un modèle à partir de notes",
      tags=["modèles"], status_code=200)
async def extract_fields(request: Request, template_id: FromPath[str], data: JSONBody[ExtractIn]) -> dict[str, Any]:
    check_size(request, data.text)
    if not data.text.strip():
        raise Problem(422, "Le texte des notes est vide.", code="validation")
    fields = template_fields(request, template_id)
    with task_errors():
        inference = inference_for(request, extract_task.TASK, data.engine)

    async def run(model):
        result = await extract_task.extract(data.text, fields, model, user=request.user.name,
                                            nlp=extract_task.french_pipeline)
        return msgspec.to_builtins(result)

    return await model_or_rules(request, data.engine, inference, run)


ROUTES = [extract_fields]
