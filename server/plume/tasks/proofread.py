"""Proofreading (« Corriger »): French spelling, grammar and typography by Grammalecte, no model.

Offsets are those of the text as the client sent it, so a sidebar can select each error in the
document. A suggestion is "unambiguous" when it is the only one: « Tout corriger » applies only those.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from plume import workers
from plume.errors import Unavailable
from plume.inference.base import Inference
from plume.language.detect import language_or_french
from plume.language.grammar import CHECKER, Finding, GrammarUnavailable
from plume.tasks.base import Call, Job, Offer, TaskBase, capability

TASK = "proofread"
CHECKED_LANGUAGES = ("fr",)
ONLY_FRENCH = "Seul le français est vérifié : ce texte semble être en {language}, il n'a pas été corrigé."
# Stable codes beside the French warnings: a sidebar shows its own translation of a code it knows.
ONLY_FRENCH_CODE = "only-french"
LANGUAGE_NAMES = {"de": "allemand", "it": "italien", "en": "anglais", "es": "espagnol", "pt": "portugais"}


NO_PROOFREAD = ("La correction n'est pas disponible sur ce serveur : le correcteur Grammalecte n'y est pas installé. "
                "Le service informatique peut l'ajouter.")
NO_PROOFREAD_DE = ("Die Korrektur ist auf diesem Server nicht verfügbar: Grammalecte ist nicht installiert. "
                   "Die Informatik kann es hinzufügen.")


class ProofreadRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1)]
    language: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}\Z")] | None = None  # detected when absent


class ProofreadError(msgspec.Struct, kw_only=True):
    start: int
    end: int
    rule: str
    kind: str
    message: str
    suggestions: list[str]
    unambiguous: bool  # exactly one suggestion: safe for « Tout corriger »
    text: str  # the characters the error covers, so a client can check its offsets still match


class ProofreadResult(msgspec.Struct, kw_only=True):
    errors: list[ProofreadError]
    checked: str | None  # the language checked, None when the text was not checked
    engine: str = "grammalecte"
    warnings: list[str] = msgspec.field(default_factory=list)
    warning_codes: list[str] = msgspec.field(default_factory=list)  # one per warning, same order
    language: str | None = None  # of the text: as sent, or detected


class NotChecked(Unavailable):
    """Grammalecte is missing: a 503 with a sentence for the clerk."""

    code = "proofread-unavailable"

    def __init__(self) -> None:
        super().__init__("La correction n'est pas disponible : le correcteur Grammalecte n'est pas installé sur "
                         "ce serveur.")


def proofread(text: str, language: str) -> ProofreadResult:
    if language not in CHECKED_LANGUAGES:
        name = LANGUAGE_NAMES.get(language, f"« {language} »")
        return ProofreadResult(errors=[], checked=None, warnings=[ONLY_FRENCH.format(language=name)],
                               warning_codes=[ONLY_FRENCH_CODE], language=language)
    try:
        findings = CHECKER.check(text)
    except GrammarUnavailable as exc:
        raise NotChecked() from exc
    return ProofreadResult(errors=[_error(f, text) for f in findings], checked="fr", language=language)


def available() -> bool:
    return CHECKER.available()


def _error(finding: Finding, text: str) -> ProofreadError:
    return ProofreadError(start=finding.start, end=finding.end, rule=finding.rule, kind=finding.kind,
                          message=finding.message, suggestions=finding.suggestions,
                          unambiguous=len(finding.suggestions) == 1, text=text[finding.start:finding.end])


class ProofreadTask(TaskBase):
    """POST /v1/text/proofread: Grammalecte only, never a model; a text not in French is not checked."""

    name = TASK
    request_type = ProofreadRequest
    rules_engine = "grammalecte"

    async def prepare(self, request: ProofreadRequest, call: Call) -> Job:
        language = request.language or await workers.run("text", language_or_french, request.text)
        return Job(request, call, engine="rules", data=language)

    async def rules(self, job: Job) -> dict[str, Any]:
        return msgspec.to_builtins(await workers.run("text", proofread, job.request.text, job.data))

    def describe(self, offer: Offer) -> dict[str, Any]:
        return capability(available(), ["grammalecte"], NO_PROOFREAD, NO_PROOFREAD_DE,
                          languages=list(CHECKED_LANGUAGES))

    def install(self, inference: Inference) -> str | None:
        return "apt-get install python3-grammalecte"  # a Debian package, no model
