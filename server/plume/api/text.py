"""POST /v1/text/plain-language, /v1/text/translate, /v1/text/summarize.

Each answers JSON, or Server-Sent Events when the client sends `Accept: text/event-stream` and a
model writes the answer (events: progress, delta, restart, done, error; see docs/writing-tasks.md).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import anyio
import msgspec
from litestar import Litestar, Request, post
from litestar.params import JSONBody

from plume.api.problems import Problem
from plume.api.task_support import (Engine, check_size, inference_for, model_or_rules, sse,
                                    task_errors, wants_stream)
from plume.inference.base import ModelUnavailable, NoInference
from plume.language import apertium, breaks, lexicon, tags
from plume.language.detect import detect
from plume.security.middleware import note
from plume.tasks import plain_language, summarize, translate

Text = Annotated[str, msgspec.Meta(min_length=1)]
UNCERTAIN = 0.5  # detection confidence under which a text without `source` is taken as French


class PlainLanguageRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Text
    level: Literal["B1", "A2"] = "B1"
    engine: Engine = "auto"

    def __post_init__(self) -> None:
        self.text = breaks.normalise(self.text)


class TranslateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Text | None = None
    segments: Annotated[list[translate.Segment], msgspec.Meta(min_length=1)] | None = None  # instead of text
    # "$(?!\n)": Python's "$" also matches before a final newline ("es\n"); this form means the same
    # in the OpenAPI schema's regex dialect (ECMA-262), where \Z does not exist.
    target: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2}(?:[-_][A-Za-z]{2})?$(?!\n)")]
    source: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2}(?:[-_][A-Za-z]{2})?$(?!\n)")] | None = None
    format: Literal["text", "html"] = "text"
    engine: Engine = "auto"  # "rules" = Apertium

    def __post_init__(self) -> None:
        self.text = breaks.normalise(self.text)


class SummarizeRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Text
    length: Literal["short", "medium", "long"] = "medium"
    engine: Engine = "auto"

    def __post_init__(self) -> None:
        self.text = breaks.normalise(self.text)


# -- plain language ------------------------------------------------------------------------------------------


@post("/v1/text/plain-language", summary="Langage clair : mesures, diagnostics, réécriture", tags=["textes"],
      status_code=200)
async def plain_language_route(request: Request, data: JSONBody[PlainLanguageRequest]) -> Any:
    check_size(request, data.text)
    terms = lexicon.for_data_dir(request.app.state.settings.data_dir)
    with task_errors():
        inference = inference_for(request, plain_language.TASK, data.engine)
    user = request.user.name

    async def run(model: Any) -> dict[str, Any]:
        if model is None:
            result = await anyio.to_thread.run_sync(plain_language.with_rules, data.text, data.level, terms)
        else:
            result = await plain_language.with_model(model, data.text, data.level, terms, user=user)
        return msgspec.to_builtins(result)

    if inference is not None and wants_stream(request):
        model_id = inference.model_for(plain_language.TASK) or "model"
        generation = plain_language.rewrite_events(inference, data.text, data.level, terms, stream=True, user=user)

        async def finish(rewritten: str) -> Any:
            return await anyio.to_thread.run_sync(plain_language.finish_rewrite, data.text, rewritten, data.level,
                                                  terms, model_id)
        return sse(request, _prefixed({"stage": "rewrite"}, generation), finish,
                    fallback=(lambda: run(None)) if data.engine == "auto" else None)
    return await model_or_rules(request, data.engine, inference, run)


# -- translation ------------------------------------------------------------------------------------------------


@post("/v1/text/translate", summary="Traduction (texte ou HTML avec balises de mise en forme)", tags=["textes"],
      status_code=200)
async def translate_route(request: Request, data: JSONBody[TranslateRequest]) -> translate.TranslateResult:
    if (data.text is None) == (data.segments is None):
        raise Problem(422, "Envoyez soit « text », soit « segments ».", code="validation")
    check_size(request, data.text, *(seg.text for seg in data.segments or []))
    if data.segments is None:
        return await _translate(request, data.text, data, html=data.format == "html")
    # Segments travel as numbered spans through the tag-keeping path and come back one by one.
    if not "".join(seg.text for seg in data.segments).strip():
        raise Problem(422, "Les segments ne contiennent aucun texte.", code="validation")
    result = await _translate(request, translate.segments_to_html(data.segments), data, html=True)
    back = translate.html_to_segments(result.text, data.segments) if result.engine != "aucun" else data.segments
    return msgspec.structs.replace(result, text="".join(seg.text for seg in back), segments=back)


async def _translate(request: Request, text: str, data: TranslateRequest, *, html: bool) -> translate.TranslateResult:
    if html:
        try:
            tags.tokens(text)
        except tags.TagError as exc:
            raise Problem(422, str(exc), code="bad-tags") from exc
    target = _language(data.target)
    if target not in translate.TARGETS:
        raise Problem(422, f"La langue cible « {target} » n'est pas prise en charge. Langues possibles : "
                           f"{', '.join(translate.TARGETS)}.", code="unsupported-language", supported=list(translate.TARGETS))
    plain = tags.plain(text) if html else text
    if not any(ch.isalpha() for ch in plain):  # numbers, punctuation: nothing to translate
        return translate.TranslateResult(text=text, source=_language(data.source or target), target=target,
                                         engine="aucun", warnings=["Le texte ne contient aucun mot à traduire."])
    notes: list[str] = []
    source = _language(data.source) if data.source else await _detected(plain, notes)
    if source not in translate.LANGUAGES:  # a language no engine knows: the clerk's input, not a missing model
        raise Problem(422, f"La langue source « {source} » n'est pas prise en charge. Langues possibles : "
                           f"{', '.join(translate.LANGUAGES)}.", code="unsupported-language",
                      supported=list(translate.LANGUAGES))
    if source == target:
        return translate.TranslateResult(text=text, source=source, target=target, engine="aucun",
                                         warnings=[*notes, "Le texte est déjà dans la langue cible."])
    inference = request.app.state.get("inference") or NoInference()
    try:
        with task_errors():
            result = await translate.translate(inference, text, source, target, html=html, engine=data.engine,
                                               user=request.user.name)
    except translate.NoEngine:
        raise Problem(503, f"Plume ne peut pas traduire {translate.from_to(source, target)} sur ce serveur. "
                           "Le service informatique peut y ajouter un modèle de traduction pour ces langues.",
                      code="model-unavailable",
                      install_command=_install_command(inference), task=translate.TASK) from None
    except apertium.ApertiumError as exc:
        raise Problem(503, f"Le traducteur Apertium n'a pas pu traduire le texte ({exc}).", code="apertium") from exc
    note(request, task=translate.TASK, model=result.engine)
    result.warnings[:0] = notes
    return result


def _install_command(inference: Any) -> str:
    own = getattr(inference, "install_command", None)  # the service knows its catalog file
    return own(translate.TASK) if callable(own) else ModelUnavailable(translate.TASK).install_command


def _language(code: str) -> str:
    return re.split(r"[-_]", code)[0].lower()


async def _detected(text: str, notes: list[str]) -> str:
    """The detected language. A short text (a heading, « Madame, ») is often uncertain: then it is taken
    as French, the commune's language, and a warning says so."""
    language, score = await anyio.to_thread.run_sync(detect, text)
    if language is None or score < UNCERTAIN:
        notes.append("Langue du texte incertaine : français supposé. Indiquez la langue source si besoin.")
        return "fr"
    if language not in translate.LANGUAGES:
        raise Problem(422, f"La langue reconnue (« {language} ») n'est pas prise en charge. Indiquez la langue "
                           "source (« source »).", code="unsupported-language")
    return language


# -- summary ---------------------------------------------------------------------------------------------------------


@post("/v1/text/summarize", summary="Résumé d'un rapport", tags=["textes"], status_code=200)
async def summarize_route(request: Request, data: JSONBody[SummarizeRequest]) -> Any:
    check_size(request, data.text)
    with task_errors():
        inference = inference_for(request, summarize.TASK, data.engine)
    user = request.user.name

    async def run(model: Any) -> dict[str, Any]:
        if model is None:
            result = await anyio.to_thread.run_sync(summarize.with_rules, data.text, data.length)
        else:
            result = await summarize.with_model(model, data.text, data.length, user=user)
        return msgspec.to_builtins(result)

    if inference is not None and wants_stream(request):
        model = inference.model_for(summarize.TASK) or "model"
        parts = {"n": 1}

        async def generation() -> AsyncIterator[tuple[str, Any]]:
            async for kind, value in summarize.events(inference, data.text, data.length, stream=True, user=user):
                if kind == "parts":
                    parts["n"] = int(value)
                else:
                    yield kind, value

        async def finish(summary: str) -> Any:
            return summarize.SummaryResult(text=summary, length=data.length, engine=model, parts=parts["n"])
        return sse(request, generation(), finish, fallback=(lambda: run(None)) if data.engine == "auto" else None)
    return await model_or_rules(request, data.engine, inference, run)


# -- Server-Sent Events ------------------------------------------------------------------------------------------------


async def _prefixed(progress: dict, events: AsyncIterator[tuple[str, Any]]) -> AsyncIterator[tuple[str, Any]]:
    yield "progress", progress
    async for event in events:
        yield event


class LanguageTools:
    """What /health shows for these routes: Apertium's pairs and the size of the jargon lexicon."""

    def __init__(self, data_dir) -> None:
        self.data_dir = data_dir

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "apertium": sorted(f"{a}-{b}" for a, b in apertium.pairs()),
            "jargon_terms": len(lexicon.for_data_dir(self.data_dir)),
        }


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    app.state.health_sources["language"] = LanguageTools(app.state.settings.data_dir)
    yield


ROUTES = [plain_language_route, translate_route, summarize_route]
LIFESPAN = lifespan
