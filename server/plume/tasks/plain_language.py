"""Plain language: readability before/after, diagnostics, safe jargon substitutions (no model), and a
full rewrite at level B1 or A2 when a model is installed, checked for lost facts."""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import msgspec

from plume import workers
from plume.inference.base import Inference, Message
from plume.language import breaks, facts, grammar
from plume.language.lexicon import Lexicon, for_data_dir
from plume.language.plain_rules import LONG_SENTENCE, NOTHING_SAFE, Diagnostic, Substitution, diagnose, simplify
from plume.language.readability import Readability, measure
from plume.tasks.base import Call, Engine, Event, Job, Offer, TaskBase
from plume.tasks.common import fence
from plume.tasks.freetext import final_text, generate_checked

TASK = "plain-language"
# Stable code beside the French warning « aucune modification sûre »: a sidebar says it in its own
# language, and offers nothing to put in her document.
NOTHING_SAFE_CODE = "nothing-safe"
NEAR_COPY = 0.95  # word-level similarity above which a "rewrite" is the source again
MIN_GAIN = 1.0  # Kandel-Moles points, or words per sentence, a rewrite must gain at least

LEVEL_RULES = {
    "B1": "des phrases de 20 mots au plus, des mots courants, la voix active, une idée par phrase",
    "A2": "des phrases très courtes (12 mots au plus), uniquement des mots très courants, la voix active, "
          "une idée par phrase, aucun mot technique sans explication",
}


Text = Annotated[str, msgspec.Meta(min_length=1)]


class PlainLanguageRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Text
    level: Literal["B1", "A2"] = "B1"
    engine: Engine = "auto"

    def __post_init__(self) -> None:
        self.text = breaks.normalise(self.text)


class Missing(msgspec.Struct):
    kind: str  # date | montant | nombre | nom
    text: str


class PlainResult(msgspec.Struct, kw_only=True):
    text: str
    level: str
    engine: str  # "rules" or the model id
    before: Readability
    after: Readability
    diagnostics: list[Diagnostic]
    substitutions: list[Substitution]
    missing: list[Missing]
    warnings: list[str] = msgspec.field(default_factory=list)
    # Did the text change; and, rules only, what was checked on the text returned (facts kept,
    # readability not lower, no new grammar error). `checks` is empty for a model's rewrite (see `missing`).
    changed: bool = False
    checks: dict[str, bool] = msgspec.field(default_factory=dict)
    warning_codes: list[str] = msgspec.field(default_factory=list)  # one per warning, same order; "" if none


def with_rules(text: str, level: str, lexicon: Lexicon) -> PlainResult:
    """Diagnostics, safe substitutions and splits, checked against the input: what the secretary gets
    with no model. Where nothing safe can be done, the text comes back unchanged with a warning that
    says so, and the diagnostics. Blocking (spaCy)."""
    done = simplify(text, level, lexicon)
    return PlainResult(
        text=done.text, level=level, engine="rules",
        before=measure(text), after=measure(done.text),
        diagnostics=diagnose(text, level, lexicon), substitutions=done.changes, missing=[],
        warnings=done.warnings, changed=done.text != text, checks=done.checks,
        warning_codes=[NOTHING_SAFE_CODE if w == NOTHING_SAFE else "" for w in done.warnings],
    )


def prompt(text: str, level: str, lexicon: Lexicon) -> list[Message]:
    fenced, rule = fence(text)
    hints = sorted({f"« {m.term.jargon} » → « {m.term.simple} »" for m in lexicon.find(text)})
    system = (
        "Tu es rédacteur à l'administration communale du Locle (Suisse). Tu réécris des textes administratifs "
        f"en langage clair, niveau {level} du CECR : {LEVEL_RULES[level]}. Tu t'adresses directement au lecteur "
        "(« vous »). Tu gardes tous les faits : chaque nombre, date, montant, nom propre et référence légale "
        "reste dans le texte, tel quel. Tu n'ajoutes aucune information. Réponds uniquement par le texte "
        "réécrit, en français, sans titre ni commentaire. " + rule
    )
    user = f"Réécris ce texte en langage clair (niveau {level}).\n"
    if hints:
        user += "Termes à remplacer : " + " ; ".join(hints) + ".\n"
    return [Message("system", system), Message("user", user + fenced)]


def _check(source: str):
    def check(output: str) -> None:
        if len(output) > 3 * len(source) + 200:
            raise ValueError("le texte réécrit est beaucoup plus long que l'original")
        if len(output) < min(len(source) // 5, 200):
            raise ValueError("le texte réécrit est beaucoup plus court que l'original : des informations manquent")
    return check


def _is_better(source: str, before: Readability):
    """A rewrite handed to the clerk must be easier to read than its source: an answer that is
    (almost) the source again, or no easier to read, is refused (second try, then the rules)."""
    def check(output: str) -> None:
        if difflib.SequenceMatcher(None, source.split(), output.split(), autojunk=False).ratio() > NEAR_COPY:
            raise ValueError("le texte réécrit est presque identique à l'original : réécris-le vraiment")
        after = measure(output)
        if after.kandel_moles < before.kandel_moles + MIN_GAIN and \
                after.words_per_sentence > before.words_per_sentence - MIN_GAIN:
            raise ValueError(f"le texte réécrit n'est pas plus lisible que l'original (Kandel-Moles "
                             f"{before.kandel_moles:.0f} → {after.kandel_moles:.0f}, mots par phrase "
                             f"{before.words_per_sentence:.0f} → {after.words_per_sentence:.0f}) : "
                             "fais des phrases plus courtes avec des mots plus simples")
    return check


def _no_new_errors(source: str):
    """A rewrite must not bring a grammar or spelling error its source did not have (Grammalecte)."""
    def check(output: str) -> None:
        if new := grammar.new_errors(source, output):
            listed = " ; ".join(f"« {output[f.start:f.end]} » ({f.message})" for f in new[:5])
            raise ValueError(f"le texte réécrit contient des fautes que l'original n'avait pas : {listed}")
    return check


def max_tokens_for(text: str) -> int:
    return min(4096, len(text) // 2 + 128)  # a rewrite is about as long as its source; French ≈ 3-4 chars/token


def _keeps_facts(text: str, known: list[tuple[str, str]]):
    def check(output: str) -> None:
        if lost := facts.missing(text, output, known):
            listed = " ; ".join(item["text"] for item in lost[:20])
            raise ValueError(f"des faits du texte manquent ({len(lost)}) ; remets-les tels quels : {listed}")
    return check


async def rewrite_events(inference: Inference, text: str, level: str, lexicon: Lexicon, *, stream: bool,
                         user: str | None = None) -> AsyncIterator[tuple[str, str]]:
    """The rewrite; a first answer that lost a number, date, amount or name gets a second try that names them."""
    known = await workers.run("text", facts.facts, text)
    before = await workers.run("text", measure, text)
    checks = (_check(text), _is_better(text, before), _no_new_errors(text))

    def check(output: str) -> None:
        for one in checks:
            one(output)

    async for event in generate_checked(inference, TASK, prompt(text, level, lexicon), check, stream=stream,
                                        max_tokens=max_tokens_for(text), user=user,
                                        first_try_check=_keeps_facts(text, known)):
        yield event


def finish_rewrite(text: str, rewritten: str, level: str, lexicon: Lexicon, model: str) -> PlainResult:
    """Measures and the facts check on the model's rewrite. Blocking (spaCy)."""
    return PlainResult(
        text=rewritten, level=level, engine=model,
        before=measure(text), after=measure(rewritten),
        diagnostics=diagnose(text, level, lexicon), substitutions=[],
        missing=[Missing(**m) for m in facts.missing(text, rewritten)], changed=rewritten != text,
    )


async def with_model(inference: Inference, text: str, level: str, lexicon: Lexicon, *, user: str | None = None,
                     **_: Any) -> PlainResult:
    rewritten = await final_text(rewrite_events(inference, text, level, lexicon, stream=False, user=user))
    model = inference.model_for(TASK) or "model"
    return await workers.run("text", finish_rewrite, text, rewritten, level, lexicon, model)


class PlainLanguageTask(TaskBase):
    """POST /v1/text/plain-language: the rules' safe changes, or the model's checked rewrite (streamed)."""

    name = TASK
    request_type = PlainLanguageRequest

    async def prepare(self, request: PlainLanguageRequest, call: Call) -> Job:
        # The commune's own jargon list beside the shipped one, re-read when it changes.
        terms = for_data_dir(call.services.settings.data_dir)
        return Job(request, call, engine=request.engine, data=terms)

    def streams(self, job: Job) -> bool:
        return True

    def describe(self, offer: Offer) -> dict[str, Any]:
        return {**super().describe(offer), "levels": list(LEVEL_RULES)}

    async def rules(self, job: Job) -> dict[str, Any]:
        request = job.request
        return msgspec.to_builtins(await workers.run("text", with_rules, request.text, request.level, job.data))

    async def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        request, model = job.request, job.inference.model_for(TASK) or "model"
        yield "progress", {"stage": "rewrite"}
        async for kind, value in rewrite_events(job.inference, request.text, request.level, job.data, stream=stream,
                                                user=job.user):
            if kind != "final":
                yield kind, value
                continue
            result = await workers.run("text", finish_rewrite, request.text, value, request.level, job.data, model)
            yield "result", msgspec.to_builtins(result)


__all__ = ["PlainResult", "PlainLanguageRequest", "PlainLanguageTask", "with_rules", "with_model", "prompt",
           "rewrite_events", "finish_rewrite", "LONG_SENTENCE"]
