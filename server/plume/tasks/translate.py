"""Translation: plain text or text with inline formatting tags (format "html"), or the runs of a
selection (segments).

Engine choice for a pair: the catalog's translation model (encoder-decoder) for that pair, else the
LLM, else Apertium for the pairs it has installed (fr↔es): Apertium is this task's rules. Tags: an MT
model or Apertium in HTML mode keep them; the LLM is asked to, and its output is checked; when tags
come back wrong, the task repairs by translating the text between tags run by run and putting the
original tags back. A text without `source` is detected; uncertain means French (language/detect.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec

from plume import workers
from plume.errors import InvalidRequest, Unavailable
from plume.inference.base import Inference, Message, ModelUnavailable
from plume.language import apertium, breaks, grammar, tags
from plume.language.detect import sure_language
from plume.tasks.base import RULES_REMAIN, Call, Engine, Event, Job, Offer, TaskBase, capability
from plume.tasks.common import InvalidModelOutput, fence
from plume.tasks.freetext import final_text, generate_checked
from plume.tasks.segments import Segment, html_to_segments, segments_to_html

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


# "$(?!\n)": Python's "$" also matches before a final newline ("es\n"); this form means the same in the
# OpenAPI schema's regex dialect (ECMA-262), where \Z does not exist.
LanguageCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2}(?:[-_][A-Za-z]{2})?$(?!\n)")]


class TranslateRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1)] | None = None
    segments: Annotated[list[Segment], msgspec.Meta(min_length=1)] | None = None  # instead of text
    target: LanguageCode
    source: LanguageCode | None = None
    format: Literal["text", "html"] = "text"
    engine: Engine = "auto"  # "rules" = Apertium

    def __post_init__(self) -> None:
        self.text = breaks.normalise(self.text)


class TranslateResult(msgspec.Struct, kw_only=True):
    text: str
    source: str
    target: str
    engine: str  # model id or "apertium"
    warnings: list[str] = msgspec.field(default_factory=list)
    segments: list[Segment] | None = None  # when the request sent segments: the same runs, translated


def translation_model(inference: Inference, source: str, target: str) -> tuple[str | None, str | None]:
    """(encoder-decoder model id for the pair, LLM id for the pair) from the catalog, either may be None."""
    found = inference.models_for_pair(TASK, source, target)
    return found.translation, found.instruction


def engines_for(inference: Inference | None, source: str, target: str) -> list[str]:
    """The engines that can translate this pair now, in the order the task tries them (model ids, "apertium")."""
    found: list[str] = []
    if inference is not None:
        found += [m for m in translation_model(inference, source, target) if m]
    if apertium.has_pair(source, target):
        found.append("apertium")
    return found


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


async def translate(inference: Inference, text: str, source: str, target: str, *, html: bool,
                    engine: str = "auto", user: str | None = None) -> TranslateResult:
    """One translation outside the runner (plume eval): the pair's model unless `engine` is "rules",
    else Apertium. Raises ModelUnavailable, InvalidModelOutput, TranslatorFailed."""
    mt, llm = translation_model(inference, source, target) if engine != "rules" else (None, None)
    if mt or llm:
        how = "model" if mt else "llm"
        return await _checked(await _with_model(inference, text, source, target, how, mt or llm, html, user), html)
    if engine == "model" or not apertium.has_pair(source, target):
        raise ModelUnavailable(TASK, f"Aucun modèle du catalogue ne traduit {from_to(source, target)}.",
                               install_command=inference.install_command(TASK))
    return await _checked(await _with_apertium(text, source, target, html), html)


async def _checked(result: TranslateResult, html: bool) -> TranslateResult:
    """A translation into French is proofread (Grammalecte): the clerk is told how many possible
    errors it holds before she inserts it."""
    if result.target != "fr":
        return result
    plain = tags.plain(result.text) if html else result.text
    found = await workers.run("text", grammar.errors_in, plain)
    if found:
        result.warnings.append(f"La traduction contient {len(found)} faute(s) possible(s) de grammaire ou "
                               "d'orthographe : relisez-la (« Corriger » les montre une à une).")
    return result


class TranslatorFailed(Unavailable):
    code = "apertium"


async def _with_apertium(text: str, source: str, target: str, html: bool) -> TranslateResult:
    warnings: list[str] = []
    unknown: list[str] = []

    async def one(run: str, as_html: bool = False) -> str:
        try:
            done = await workers.run("text", lambda: apertium.run(run, source, target, html=as_html))
        except apertium.ApertiumError as exc:  # its message names the failure, never the text
            raise TranslatorFailed(f"Le traducteur Apertium n'a pas pu traduire le texte ({exc}).") from exc
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


# -- the task ---------------------------------------------------------------------------------------------------

UNCERTAIN = "Langue du texte incertaine : français supposé. Indiquez la langue source si besoin."
CANNOT = ("Plume ne peut pas traduire {from_to} sur ce serveur. Le service informatique peut y ajouter un modèle de "
          "traduction pour ces langues.")
NO_TRANSLATION = ("La traduction n'est pas disponible sur ce serveur : aucun traducteur n'y est installé. "
                  "Le service informatique peut en ajouter un.")
NO_TRANSLATION_DE = ("Die Übersetzung ist auf diesem Server nicht verfügbar: Es ist kein Übersetzer installiert. "
                     "Die Informatik kann einen hinzufügen.")
LANGUAGE_NAMES_DE = {"fr": "Französisch", "de": "Deutsch", "it": "Italienisch", "en": "Englisch",
                     "pt": "Portugiesisch", "es": "Spanisch", "ca": "Katalanisch", "rm": "Rätoromanisch"}


class UnsupportedLanguage(InvalidRequest):
    code = "unsupported-language"


class BadTags(InvalidRequest):
    code = "bad-tags"


@dataclass
class Source:
    """A request, checked: the text to translate (segments as numbered spans), its languages, and
    the warnings found on the way (an uncertain language)."""

    text: str
    html: bool
    source: str
    target: str
    notes: list[str] = field(default_factory=list)


class TranslationTask(TaskBase):
    """POST /v1/text/translate: the catalog's models for the pair, else Apertium (the rules)."""

    name = TASK
    request_type = TranslateRequest
    rules_engine = "apertium"

    def texts(self, request: TranslateRequest) -> Iterable[str | None]:
        return (request.text, *(seg.text for seg in request.segments or []))

    async def prepare(self, request: TranslateRequest, call: Call) -> Job:
        text, html = _input(request)
        target = _code(request.target)
        if target not in TARGETS:
            raise UnsupportedLanguage(f"La langue cible « {target} » n'est pas prise en charge. Langues possibles : "
                                      f"{', '.join(TARGETS)}.", supported=list(TARGETS))
        job = Job(request, call, engine=request.engine)
        plain = tags.plain(text) if html else text
        if not any(ch.isalpha() for ch in plain):  # numbers, punctuation: nothing to translate
            job.answer = _answer(request, TranslateResult(text=text, source=_code(request.source or target),
                                                          target=target, engine="aucun",
                                                          warnings=["Le texte ne contient aucun mot à traduire."]))
            return job
        job.data = found = Source(text, html, "", target)
        found.source = _code(request.source) if request.source else await _detected(plain, found.notes)
        if found.source not in LANGUAGES:  # a language no engine knows: the clerk's input, not a missing model
            raise UnsupportedLanguage(f"La langue source « {found.source} » n'est pas prise en charge. Langues "
                                      f"possibles : {', '.join(LANGUAGES)}.", supported=list(LANGUAGES))
        if found.source == target:
            same = TranslateResult(text=text, source=target, target=target, engine="aucun",
                                   warnings=[*found.notes, "Le texte est déjà dans la langue cible."])
            job.answer = _answer(request, same)
        return job

    def model_id(self, job: Job) -> str | None:
        mt, llm = translation_model(job.inference, job.data.source, job.data.target)
        return mt or llm

    def rules_available(self, job: Job) -> bool:
        return apertium.has_pair(job.data.source, job.data.target)

    def model_missing(self, job: Job) -> ModelUnavailable:
        """With Apertium for the pair, only "engine": "model" gets here: the rules remain."""
        source = job.data
        detail = RULES_REMAIN.format(task=TASK) if self.rules_available(job) else \
            CANNOT.format(from_to=from_to(source.source, source.target))
        return ModelUnavailable(TASK, install_command=job.inference.install_command(TASK), detail=detail)

    async def rules(self, job: Job) -> dict[str, Any]:
        found = job.data
        result = await _with_apertium(found.text, found.source, found.target, found.html)
        return _answer(job.request, await _checked(result, found.html), found.notes)

    async def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        found, (mt, llm) = job.data, translation_model(job.inference, job.data.source, job.data.target)
        how, model = ("model", mt) if mt else ("llm", llm)
        result = await _with_model(job.inference, found.text, found.source, found.target, how, model, found.html,
                                   job.user)
        yield "result", _answer(job.request, await _checked(result, found.html), found.notes)

    def fell_back(self, job: Job, result: dict[str, Any]) -> None:
        result["warnings"].insert(len(job.data.notes), MODEL_FAILED)  # after the language's, before Apertium's

    def describe(self, offer: Offer) -> dict[str, Any]:
        """Every working (source, target) pair, the targets in the order the sidebars offer them: those
        reachable from French (the commune's language) first; `default_target` is the first of them."""
        pairs: dict[str, list[str]] = {}
        for source in LANGUAGES:
            for target in TARGETS:
                if source != target and (found := engines_for(offer.inference, source, target)):
                    pairs[f"{source}-{target}"] = found
        from_french = [t for t in TARGETS if f"fr-{t}" in pairs]
        others = [t for t in TARGETS if t not in from_french and any(p.endswith(f"-{t}") for p in pairs)]
        targets = from_french + others
        engines = list(dict.fromkeys(e for found in pairs.values() for e in found))
        return capability(bool(pairs), engines, NO_TRANSLATION, NO_TRANSLATION_DE, pairs=sorted(pairs),
                          targets=targets, default_target=targets[0] if targets else None,
                          languages=dict(LANGUAGES), languages_de=dict(LANGUAGE_NAMES_DE))


def _input(request: TranslateRequest) -> tuple[str, bool]:
    """The text to translate and whether it carries tags: segments travel as numbered spans through
    the tag-keeping path and come back one by one (`_answer`)."""
    if (request.text is None) == (request.segments is None):
        raise InvalidRequest("Envoyez soit « text », soit « segments ».")
    if request.segments is not None and not "".join(seg.text for seg in request.segments).strip():
        raise InvalidRequest("Les segments ne contiennent aucun texte.")
    text = request.text if request.segments is None else segments_to_html(request.segments)
    html = request.segments is not None or request.format == "html"
    if html:
        try:
            tags.tokens(text)
        except tags.TagError as exc:
            raise BadTags(str(exc)) from exc
    return text, html


def _answer(request: TranslateRequest, result: TranslateResult, notes: list[str] = ()) -> dict[str, Any]:
    """The result as the route answers it: the language's warnings first, the segments back in their runs."""
    result.warnings[:0] = notes
    if request.segments is not None:
        back = html_to_segments(result.text, request.segments) if result.engine != "aucun" else request.segments
        result = msgspec.structs.replace(result, text="".join(seg.text for seg in back), segments=back)
    return msgspec.to_builtins(result)


def _code(language: str) -> str:
    return re.split(r"[-_]", language)[0].lower()


async def _detected(text: str, notes: list[str]) -> str:
    """The detected language. A short text (a heading, « Madame, ») is often uncertain: then it is taken
    as French, the commune's language, and a warning says so."""
    language = await workers.run("text", sure_language, text)
    if language is None:
        notes.append(UNCERTAIN)
        return "fr"
    if language not in LANGUAGES:
        raise UnsupportedLanguage(f"La langue reconnue (« {language} ») n'est pas prise en charge. Indiquez la "
                                  "langue source (« source »).")
    return language
