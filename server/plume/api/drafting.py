"""POST /v1/text/minutes and /v1/text/factsheet: notes → procès-verbal; regulation → public fact sheet.

JSON by default; the .docx/.odt through the PV and fact-sheet templates with "format"; Server-Sent
Events (`delta` … `done`) when the client sends `Accept: text/event-stream` and a model writes.
"""

from __future__ import annotations

from typing import Any

from litestar import post
from litestar.params import JSONBody

from plume.api.task_support import Runner, respond
from plume.tasks.drafts import DraftIn
from plume.tasks.factsheet import FactSheetIn
from plume.tasks.registry import FACTSHEET, MINUTES


@post("/v1/text/minutes", summary="Procès-verbal à partir de notes ou d'une transcription", tags=["texte"],
      status_code=200)
async def minutes(data: JSONBody[DraftIn], runner: Runner) -> Any:
    return respond(await runner.run(MINUTES, data))


@post("/v1/text/factsheet", summary="Fiche explicative à partir d'un règlement", tags=["texte"], status_code=200)
async def factsheet(data: JSONBody[FactSheetIn], runner: Runner) -> Any:
    return respond(await runner.run(FACTSHEET, data))


ROUTES = [minutes, factsheet]
