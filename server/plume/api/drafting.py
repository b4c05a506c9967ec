"""POST /v1/text/minutes and /v1/text/factsheet: notes → procès-verbal; regulation → public fact sheet.

JSON by default; the .docx/.odt through the PV and fact-sheet templates with "format"; Server-Sent
Events (`delta` … `done`) when the client sends `Accept: text/event-stream` and a model writes.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Request, post
from litestar.params import JSONBody

from plume.api.problems import Problem
from plume.language import breaks
from plume.api.task_support import (Engine, check_size, inference_for, model_or_rules, render_document, sse,
                                    task_errors, wants_stream)
from plume.tasks import factsheet as factsheet_task
from plume.tasks import minutes as minutes_task


class DraftIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: str
    format: Literal["text", "docx", "odt"] = "text"
    engine: Engine = "auto"

    def __post_init__(self) -> None:
        self.text = breaks.normalise(self.text)


def _checked(request: Request, data: DraftIn) -> None:
    check_size(request, data.text)
    if not data.text.strip():
        raise Problem(422, "Le texte est vide.", code="validation")


# ------------------------------------------------------------------------------------ minutes
@post("/v1/text/minutes", summary="Procès-verbal à partir de notes ou d'une transcription", tags=["texte"],
      status_code=200)
async def minutes(request: Request, data: JSONBody[DraftIn]) -> Any:
    _checked(request, data)
    with task_errors():
        inference = inference_for(request, minutes_task.TASK, data.engine)
    user = request.user.name

    def result_of(pv: minutes_task.Minutes, engine: str) -> dict[str, Any]:
        return {"text": minutes_task.minutes_text(pv), "minutes": msgspec.to_builtins(pv), "engine": engine}

    if inference is not None and wants_stream(request) and data.format == "text":
        pv = minutes_task.read_notes(data.text)

        async def finish() -> dict[str, Any]:
            return result_of(pv, inference.model_for(minutes_task.TASK) or "")

        async def fallback() -> dict[str, Any]:
            return result_of(minutes_task.read_notes(data.text), "rules")

        return sse(request, minutes_task.discussion_events(pv, inference, user), finish,
                   fallback if data.engine == "auto" else None)

    async def run(model):
        pv = minutes_task.read_notes(data.text)
        if model is not None:
            await minutes_task.write_discussions(pv, model, user)
        return result_of(pv, model.model_for(minutes_task.TASK) if model else "rules")

    result = await model_or_rules(request, data.engine, inference, run)
    if data.format == "text":
        return result
    pv = msgspec.convert(result["minutes"], minutes_task.Minutes)
    return await render_document(request, minutes_task.TEMPLATE_ID, minutes_task.template_values(pv), data.format)


# ---------------------------------------------------------------------------------- fact sheet
@post("/v1/text/factsheet", summary="Fiche explicative à partir d'un règlement", tags=["texte"], status_code=200)
async def factsheet(request: Request, data: JSONBody[DraftIn]) -> Any:
    _checked(request, data)
    with task_errors():
        inference = inference_for(request, factsheet_task.TASK, data.engine)
    user = request.user.name
    source = factsheet_task.read_facts(data.text)
    if not source.articles:
        raise Problem(422, "Aucun article trouvé : le texte doit contenir des articles (« Art. 3 … »).",
                      code="no-articles")

    def result_of(sheet: factsheet_task.FactSheet, engine: str) -> dict[str, Any]:
        return {"text": factsheet_task.sheet_text(sheet), "sheet": msgspec.to_builtins(sheet), "engine": engine}

    if inference is not None and wants_stream(request) and data.format == "text":
        async def progress():
            # The sheet is one checked JSON answer: nothing partial is shown; `done` carries it.
            yield "progress", {"stage": "rédaction", "part": 1, "parts": 1}

        async def finish() -> dict[str, Any]:
            sheet = await factsheet_task.write_sheet(data.text, source, inference, user)
            return result_of(sheet, inference.model_for(factsheet_task.TASK) or "")

        async def fallback() -> dict[str, Any]:
            return result_of(source, "rules")

        return sse(request, progress(), finish, fallback if data.engine == "auto" else None)

    async def run(model):
        sheet = await factsheet_task.write_sheet(data.text, source, model, user) if model else source
        return result_of(sheet, model.model_for(factsheet_task.TASK) if model else "rules")

    result = await model_or_rules(request, data.engine, inference, run)
    if data.format == "text":
        return result
    sheet = msgspec.convert(result["sheet"], factsheet_task.FactSheet)
    return await render_document(request, factsheet_task.TEMPLATE_ID, factsheet_task.template_values(sheet), data.format)


ROUTES = [minutes, factsheet]
