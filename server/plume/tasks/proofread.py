"""Proofreading (« Corriger »): French spelling, grammar and typography by Grammalecte, no model.

Offsets are those of the text as the client sent it, so a sidebar can select each error in the
document. A suggestion is "unambiguous" when it is the only one: « Tout corriger » applies only those.
"""

from __future__ import annotations

import msgspec

from plume.language.grammar import CHECKER, Finding, GrammarUnavailable

TASK = "proofread"
CHECKED_LANGUAGES = ("fr",)
ONLY_FRENCH = "Seul le français est vérifié : ce texte semble être en {language}, il n'a pas été corrigé."
# Stable codes beside the French warnings: a sidebar shows its own translation of a code it knows.
ONLY_FRENCH_CODE = "only-french"
LANGUAGE_NAMES = {"de": "allemand", "it": "italien", "en": "anglais", "es": "espagnol", "pt": "portugais"}


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


class NotChecked(Exception):
    """Grammalecte is missing: the route answers 503 with a sentence for the clerk."""


def proofread(text: str, language: str) -> ProofreadResult:
    if language not in CHECKED_LANGUAGES:
        name = LANGUAGE_NAMES.get(language, f"« {language} »")
        return ProofreadResult(errors=[], checked=None, warnings=[ONLY_FRENCH.format(language=name)],
                               warning_codes=[ONLY_FRENCH_CODE], language=language)
    try:
        findings = CHECKER.check(text)
    except GrammarUnavailable as exc:
        raise NotChecked(str(exc)) from exc
    return ProofreadResult(errors=[_error(f, text) for f in findings], checked="fr", language=language)


def available() -> bool:
    return CHECKER.available()


def _error(finding: Finding, text: str) -> ProofreadError:
    return ProofreadError(start=finding.start, end=finding.end, rule=finding.rule, kind=finding.kind,
                          message=finding.message, suggestions=finding.suggestions,
                          unambiguous=len(finding.suggestions) == 1, text=text[finding.start:finding.end])
