"""Translation: plain text or text with inline formatting tags (format "html").

Engine choice for a pair: the catalog's translation model (encoder-decoder) for that pair, else the
LLM, else Apertium for the pairs it has installed (fr↔es). Tags: an MT model or Apertium in HTML
mode keep them; the LLM is asked to, and its output is checked; when tags come back wrong, the task
repairs by translating the text between tags run by run and putting the original tags back.
"""

from __future__ import annotations

import html
import re
from typing import Any

import anyio
import msgspec

from plume.inference.base import Inference, Message, ModelUnavailable
from plume.language import apertium, grammar, tags
from plume.tasks.common import InvalidModelOutput, fence
from plume.tasks.freetext import final_text, generate_checked

TASK = "translate"
LANGUAGES = {"fr": "français", "de": "allemand", "it": "italien", "en": "anglais", "pt": "portugais",
             "es": "espagnol", "ca": "catalan", "rm": "romanche"}
TARGETS = ("fr", "de", "it", "en", "pt", "es", "ca")


def from_to(source: str, target: str) -> str:
    """« de l'allemand vers le français »."""
    def name(code: str) -> str:
        return LANGUAGES.get(code, code)
    start = f"de l'{name(source)}" if name(source)[0] in "aeiou" else f"du {name(source)}"
    end = f"l'{name(target)}" if name(target)[0] in "aeiou" else f"le {name(target)}"
    return f"{start} vers {end}"


class Segment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A run of text with one formatting, as word processors hold it (a Writer text portion, a Word run)."""

    text: str
    bold: bool = False
    italic: bool = False
    underline: bool = False
    link: str | None = None


class TranslateResult(msgspec.Struct, kw_only=True):
    text: str
    source: str
    target: str
    engine: str  # model id or "apertium"
    warnings: list[str] = msgspec.field(default_factory=list)
    segments: list[Segment] | None = None  # when the request sent segments: the same runs, translated


def segments_to_html(segments: list[Segment]) -> str:
    """Each segment in its own numbered span: the translators keep spans in order, so each translated
    run comes back to its segment."""
    return "".join(f'<span data-s="{k}">{html.escape(seg.text, quote=False)}</span>' for k, seg in enumerate(segments))


def html_to_segments(translated: str, segments: list[Segment]) -> list[Segment]:
    texts = [""] * len(segments)
    current = None
    for piece in tags.tokens(translated):
        if isinstance(piece, tags.Tag):
            found = re.search(r'data-s="(\d+)"', piece.raw) if not piece.closing else None
            current = int(found.group(1)) if found else None
        elif current is not None and current < len(texts):
            texts[current] += html.unescape(piece)
    return [msgspec.structs.replace(seg, text=texts[k]) for k, seg in enumerate(segments)]


class NoEngine(Exception):
    """No model and no Apertium pair for this language pair."""


def translation_model(inference: Inference, source: str, target: str) -> tuple[str | None, str | None]:
    """(encoder-decoder model id for the pair, LLM id for the pair) from the catalog, either may be None."""
    describe = getattr(inference, "describe_models", None)
    if describe is None:
        return None, inference.model_for(TASK)
    mt = llm = None
    for model in describe():
        if TASK not in model.get("tasks", []) or model.get("status") == "unavailable":
            continue
        languages = set(model.get("languages") or [])
        if "encoder" in str(model.get("kind")):
            if f"{source}-{target}" in languages and mt is None:
                mt = model["id"]
        elif llm is None and (not languages or {source, target} <= languages):
            llm = model["id"]
    return mt, llm


def engines_for(inference: Inference | None, source: str, target: str) -> list[str]:
    """The engines that can translate this pair now, in the order `choose` tries them (model ids, "apertium")."""
    found: list[str] = []
    if inference is not None:
        found += [m for m in translation_model(inference, source, target) if m]
    if apertium.has_pair(source, target):
        found.append("apertium")
    return found


def choose(inference: Inference | None, source: str, target: str, engine: str) -> tuple[str, str | None]:
    """("model", id) | ("llm", id) | ("apertium", None). engine: auto | model | rules."""
    if engine != "rules" and inference is not None:
        mt, llm = translation_model(inference, source, target)
        if mt:
            return "model", mt
        if llm:
            return "llm", llm
    if engine != "model" and apertium.has_pair(source, target):
        return "apertium", None
    if engine == "model" or inference is not None and inference.has_model(TASK):
        raise ModelUnavailable(TASK, f"Aucun modèle du catalogue ne traduit {from_to(source, target)}.")
    raise NoEngine()


# -- engines ------------------------------------------------------------------------------------------------------


def llm_prompt(text: str, source: str, target: str, html: bool) -> list[Message]:
    fenced, rule = fence(text)
    keep = (" Le texte contient des balises HTML de mise en forme (<b>, <i>, <a href=…>…) : garde chaque balise, "
            "dans le même ordre, autour des mots traduits correspondants, sans en ajouter ni en retirer.") if html else ""
    system = (f"Tu es traducteur à l'administration communale du Locle (Suisse). Tu traduis "
              f"{from_to(source, target)}, fidèlement, dans un style administratif clair. Les nombres, dates, montants et noms propres restent exacts.{keep} Réponds "
              "uniquement par la traduction, sans commentaire. " + rule)
    return [Message("system", system), Message("user", f"Traduis ce texte.\n{fenced}")]


def _length_check(source: str):
    def check(output: str) -> None:
        if len(output) > 3 * len(source) + 200:
            raise ValueError("la traduction est beaucoup plus longue que le texte")
    return check


def _tags_check(source: str):
    length = _length_check(source)

    def check(output: str) -> None:
        length(output)
        if found := tags.problems(source, output):
            raise ValueError(found[0])
    return check


async def _by_model(inference: Inference, text: str, source: str, target: str, model: str, kind: str,
                    html: bool, user: str | None) -> str:
    options: dict[str, Any] = {"model": model, "language_pair": (source, target)}
    # About twice the source's tokens (French: 3.5-4.5 characters per token): room for any target language.
    max_tokens = min(4096, len(text) // 2 + (16 if kind == "model" else 64))
    if kind == "model":  # an MT model translates exactly what it is given: no prompt, no fence
        messages = [Message("user", text)]
        check = _length_check(text)
    else:
        messages = llm_prompt(text, source, target, html)
        check = _tags_check(text) if html else _length_check(text)
    return await final_text(generate_checked(inference, TASK, messages, check, stream=False,
                                             max_tokens=max_tokens, user=user, **options))


async def _by_runs(translate_one, text: str) -> str:
    """The repair: translate each text run between tags alone, keep the original tags."""
    pieces = []
    for piece in tags.runs(text):
        if isinstance(piece, str) and piece.strip():
            lead, core, trail = re.match(r"(\s*)(.*?)(\s*)$", piece, re.DOTALL).groups()
            pieces.append(lead + await translate_one(core) + trail)
        else:
            pieces.append(piece)
    return tags.join(pieces)


REPAIRED = "Mise en forme réparée : chaque passage entre balises a été traduit séparément."
MODEL_FAILED = "Le modèle n'a pas produit de traduction valide, même après un second essai : traduction d'Apertium."


async def translate(inference: Inference | None, text: str, source: str, target: str, *, html: bool,
                    engine: str = "auto", user: str | None = None) -> TranslateResult:
    """Raises NoEngine, ModelUnavailable, InvalidModelOutput (engine "model", or no Apertium pair), ApertiumError."""
    how, model = choose(inference, source, target, engine)
    if how == "apertium":
        return await _checked(await _with_apertium(text, source, target, html), html)
    try:
        return await _checked(await _with_model(inference, text, source, target, how, model, html, user), html)
    except InvalidModelOutput:
        if engine != "auto" or not apertium.has_pair(source, target):
            raise
        result = await _with_apertium(text, source, target, html)
        result.warnings.insert(0, MODEL_FAILED)
        return await _checked(result, html)


async def _checked(result: TranslateResult, html: bool) -> TranslateResult:
    """A translation into French is proofread (Grammalecte): the clerk is told how many possible
    errors it holds before she inserts it."""
    if result.target != "fr":
        return result
    plain = tags.plain(result.text) if html else result.text
    found = await anyio.to_thread.run_sync(grammar.errors_in, plain)
    if found:
        result.warnings.append(f"La traduction contient {len(found)} faute(s) possible(s) de grammaire ou "
                               "d'orthographe : relisez-la (« Corriger » les montre une à une).")
    return result


async def _with_apertium(text: str, source: str, target: str, html: bool) -> TranslateResult:
    warnings: list[str] = []
    unknown: list[str] = []

    async def one(run: str, as_html: bool = False) -> str:
        done = await anyio.to_thread.run_sync(lambda: apertium.run(run, source, target, html=as_html))
        unknown.extend(w for w in done.unknown if w not in unknown)
        return done.text

    out = await one(text, html)
    if html and (found := tags.problems(text, out)):
        warnings += found + [REPAIRED]
        unknown.clear()
        out = await _by_runs(one, text)
    if note := apertium.unknown_warning(unknown):
        warnings.append(note)
    return TranslateResult(text=out, source=source, target=target, engine="apertium", warnings=warnings)


async def _with_model(inference: Inference, text: str, source: str, target: str, how: str, model: str, html: bool,
                      user: str | None) -> TranslateResult:
    warnings: list[str] = []

    async def one(run: str) -> str:
        return await _by_model(inference, run, source, target, model, how, False, user)

    if html and how == "model":
        out = await _by_runs(one, text)  # MT models do not know tags: translate between them
    elif html:
        try:
            out = await _by_model(inference, text, source, target, model, how, True, user)
        except InvalidModelOutput:  # tags still wrong after the retry
            warnings.append(REPAIRED)
            out = await _by_runs(one, text)
    else:
        out = await _by_model(inference, text, source, target, model, how, False, user)
    return TranslateResult(text=out, source=source, target=target, engine=model or how, warnings=warnings)
