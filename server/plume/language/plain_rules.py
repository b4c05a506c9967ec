"""Plain-language rules that need no model: sentence diagnostics and safe jargon substitutions.

Thresholds per level (words per sentence): B1 flags sentences over 25 words, A2 over 15.
"""

from __future__ import annotations

import re

import msgspec

from plume.language.lexicon import Lexicon, Match
from plume.language.sentences import Span, sentences, words

LONG_SENTENCE = {"B1": 25, "A2": 15}

_NEGATION = re.compile(r"\b(?:ne|n['’])\s*(?:\S+\s+){0,3}?(?:pas|plus|jamais|guère|point)\b", re.IGNORECASE)
_SECOND_NEGATIVE = re.compile(
    r"\b(?:sans|non|aucune?|nulle?|rien|personne|jamais|impossible|inutile|interdite?s?|illégale?s?|"
    r"irrégulière?s?|incomplète?s?|inexacte?s?|défavorables?|invalides?|inadmissibles?|non-\w+)\b",
    re.IGNORECASE,
)
_ELIDED_BEFORE = re.compile(r"\b(?:[ldjnsctm]|qu|jusqu|lorsqu|puisqu)['’]$", re.IGNORECASE)
_ELIDABLE_WORD = re.compile(r"\b(?:le|la|de|que|ne|se|ce|je|me|te|si)\s+$", re.IGNORECASE)
_VOWEL_START = re.compile(r"^[aeiouyhàâäéèêëîïôöùûüœæ]", re.IGNORECASE)


class Diagnostic(msgspec.Struct, kw_only=True):
    sentence_index: int
    start: int  # character offsets in the submitted text (the sentence, or the jargon term)
    end: int
    kind: str  # long_sentence | jargon | passive | double_negation
    message: str
    suggestion: str = ""


class Substitution(msgspec.Struct, kw_only=True):
    start: int  # offsets in the submitted text
    end: int
    original: str  # the lexicon term as found (never more than the term)
    replacement: str


def diagnose(text: str, level: str, lexicon: Lexicon, *, passives_by_sentence: list[int] | None = None) -> list[Diagnostic]:
    spans = sentences(text)
    limit = LONG_SENTENCE.get(level, LONG_SENTENCE["B1"])
    passives_by_sentence = passives_by_sentence if passives_by_sentence is not None else passive_counts(text, spans)
    found: list[Diagnostic] = []
    for index, span in enumerate(spans):
        n = len(words(span.text))
        if n > limit:
            found.append(Diagnostic(
                sentence_index=index, start=span.start, end=span.end, kind="long_sentence",
                message=f"Phrase de {n} mots (niveau {level} : {limit} mots au plus).",
                suggestion="Coupez-la en phrases courtes : une idée par phrase.",
            ))
        if passives_by_sentence[index]:
            found.append(Diagnostic(
                sentence_index=index, start=span.start, end=span.end, kind="passive",
                message="Tournure passive : on ne voit pas qui agit.",
                suggestion="Dites qui fait l'action : « la commune perçoit la taxe » plutôt que « la taxe est perçue ».",
            ))
        if double_negation(span.text):
            found.append(Diagnostic(
                sentence_index=index, start=span.start, end=span.end, kind="double_negation",
                message="Double négation : le lecteur doit inverser deux fois le sens.",
                suggestion="Dites-le à la forme affirmative.",
            ))
        for match in lexicon.find(span.text):
            term = span.text[match.start:match.end]
            found.append(Diagnostic(
                sentence_index=index, start=span.start + match.start, end=span.start + match.end, kind="jargon",
                message=f"« {term} » est du jargon administratif.",
                suggestion=match.term.simple,
            ))
    return sorted(found, key=lambda d: (d.sentence_index, d.start, d.kind))


def double_negation(sentence: str) -> bool:
    negation = _NEGATION.search(sentence)
    if not negation:
        return False
    # The second negative must sit close to the first (same clause): « n'est pas impossible ».
    near = sentence[max(0, negation.start() - 25):negation.start()] + " " + sentence[negation.end():negation.end() + 40]
    return bool(_SECOND_NEGATIVE.search(near) or _NEGATION.search(sentence[negation.end():negation.end() + 40]))


def passive_counts(text: str, spans: list[Span]) -> list[int]:
    """Passive auxiliaries (spaCy dependency aux:pass) per sentence."""
    from plume.language.nlp import parse

    counts = [0] * len(spans)
    for token in parse(text):
        if token.dep_ == "aux:pass":
            for i, span in enumerate(spans):
                if span.start <= token.idx < span.end:
                    counts[i] += 1
                    break
    return counts


def substitute(text: str, lexicon: Lexicon) -> tuple[str, list[Substitution]]:
    """Replace the jargon marked `auto` where the swap cannot break grammar (case kept, whole words)."""
    out, done, cursor = [], [], 0
    for match in lexicon.find(text):
        if not match.term.auto or not _safe(text, match):
            continue
        original = text[match.start:match.end]
        replacement = keep_case(original, match.term.simple)
        out += [text[cursor:match.start], replacement]
        done.append(Substitution(start=match.start, end=match.end, original=original, replacement=replacement))
        cursor = match.end
    out.append(text[cursor:])
    return "".join(out), done


def _safe(text: str, match: Match) -> bool:
    before, after = text[:match.start], text[match.end:]
    simple = match.term.simple
    if _ELIDED_BEFORE.search(before) and not _VOWEL_START.match(simple):
        return False  # « l'émolument » → « l'frais »
    if _ELIDABLE_WORD.search(before) and _VOWEL_START.match(simple):
        return False  # « de requête » → « de attribution »
    last = simple.split()[-1].lower()
    if last in {"le", "la", "de", "que", "ce", "ne", "se"} and _VOWEL_START.match(after.lstrip()):
        return False  # « dudit article » → « de ce article »
    return True


def keep_case(original: str, replacement: str) -> str:
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement
