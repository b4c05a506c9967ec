"""Sentence and word splitting used by every measure, so the numbers are reproducible by hand.

Rules (documented in docs/writing-tasks.md):
- a sentence ends at `.`, `!`, `?` or `…` followed by a space and an upper-case letter, a digit or a
  quote, and at every line break (headings and list items are sentences of their own);
- a full stop after a known abbreviation (art., al., M., Mme, cf., ch., etc.) ends nothing;
- a word is a run of letters or digits; an apostrophe or a hyphen inside a run joins it
  (« l'autorité », « peut-être » and « 1'234.50 » are one word each).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ABBREVIATIONS = {
    "art", "al", "ch", "cf", "let", "m", "mm", "mme", "mmes", "mlle", "dr", "pr", "me", "st", "ste", "no", "n°",
    "etc", "env", "p", "ex", "resp", "vol", "fr", "chf", "tél", "tel", "av", "bd", "réf", "ref", "lit", "cst",
}

WORD = re.compile(r"[^\W_]+(?:['’\-.][^\W_]+)*")
_END = re.compile(r"([.!?…]+)[\"»)\]]*\s+(?=[\"«(\[]?[A-ZÀ-ÖØ-Þ0-9])")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def words(text: str) -> list[str]:
    # A dot joins only digits (1'234.50), not words: "fin.Suite" stays two words.
    return [w for m in WORD.finditer(text) for w in _split_dotted(m.group(0))]


def _split_dotted(token: str) -> list[str]:
    if "." not in token or re.fullmatch(r"[\d'’.]+", token):
        return [token]
    return [p for p in token.split(".") if p]


def sentences(text: str) -> list[Span]:
    """Sentences with their character offsets in `text`."""
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for m in _END.finditer(line.group(0)):
            if m.group(1) == "." and _before_is_abbreviation(line.group(0), m.start()):
                continue
            spans.append(_span(text, start, line.start() + m.end()))
            start = line.start() + m.end()
        spans.append(_span(text, start, line.end()))
    return [s for s in spans if words(s.text)]


_LAST_WORD = re.compile(r"([^\W\d_]+|n°)$")


def _before_is_abbreviation(line: str, dot: int) -> bool:
    # Only the few characters before the dot: searching the whole line at every dot made a long
    # paragraph quadratic (190'000 characters took minutes). An abbreviation is a short word, and a
    # word cut by the window is longer than any of them.
    previous = _LAST_WORD.search(line, max(0, dot - 40), dot)
    return bool(previous) and previous.group(1).lower() in ABBREVIATIONS


def _span(text: str, start: int, end: int) -> Span:
    segment = text[start:end]
    lead = len(segment) - len(segment.lstrip())
    trail = len(segment) - len(segment.rstrip())
    return Span(start + lead, end - trail, segment.strip())
