"""POST /v1/text/plain-language, /v1/text/translate, /v1/text/summarize.

Each answers JSON, or Server-Sent Events when the client sends `Accept: text/event-stream` and a
model writes the answer (events: progress, delta, restart, done, error; see docs/writing-tasks.md).
The tasks and their runner are in plume.tasks; a route hands the request over and answers the outcome.
"""

from __future__ import annotations

from typing import Any

from litestar import post
from litestar.params import JSONBody

from plume.api.task_support import Runner, respond
from plume.tasks.plain_language import PlainLanguageRequest
from plume.tasks.registry import PLAIN_LANGUAGE, SUMMARIZE, TRANSLATE
from plume.tasks.summarize import SummarizeRequest
from plume.tasks.translate import TranslateRequest, TranslateResult


@post("/v1/text/plain-language", summary="Langage clair : mesures, diagnostics, réécriture", tags=["textes"],
      status_code=200)
async def plain_language_route(data: JSONBody[PlainLanguageRequest], runner: Runner) -> Any:
    return respond(await runner.run(PLAIN_LANGUAGE, data))


@post("/v1/text/translate", summary="Traduction (texte ou HTML avec balises de mise en forme)", tags=["textes"],
      status_code=200)
async def translate_route(data: JSONBody[TranslateRequest], runner: Runner) -> TranslateResult:
    return respond(await runner.run(TRANSLATE, data))


@post("/v1/text/summarize", summary="Résumé d'un rapport", tags=["textes"], status_code=200)
async def summarize_route(data: JSONBody[SummarizeRequest], runner: Runner) -> Any:
    return respond(await runner.run(SUMMARIZE, data))


ROUTES = [plain_language_route, translate_route, summarize_route]
