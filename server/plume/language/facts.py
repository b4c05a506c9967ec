"""The facts a rewrite must keep: numbers, dates, amounts and proper names.

`missing(before, after)` lists those of `before` that `after` lost. Numbers are compared without
their thousands separators (1'234 = 1234 = 1 234); names are spaCy PER/LOC/ORG entities, compared
without case.
"""

from __future__ import annotations

import re

MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
_DATE = re.compile(rf"\b(?:[0-3]?\d(?:er)?\s+(?:{MONTHS})(?:\s+(?:19|20)\d\d)?|[0-3]?\d\.[01]?\d\.(?:19|20)?\d\d)\b",
                   re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:['’\u202f ]\d{3})*(?:[.,]\d+)?")
_AMOUNT = re.compile(rf"(?:CHF|Fr\.)\s*{_NUMBER.pattern}(?:\.[-–])?|{_NUMBER.pattern}\s*(?:CHF|francs?)\b")
_CIVILITY = {"m", "mme", "mlle", "monsieur", "madame", "mademoiselle", "me", "dr"}


def _digits(text: str) -> str:
    return re.sub(r"['’\u202f ]", "", text).replace(",", ".")


def facts(text: str) -> list[tuple[str, str]]:
    """(kind, as written) for each date, amount, number and proper name, in reading order, no repeats."""
    found = _figures(text)
    taken = [range(start, start + len(written)) for start, _, written in found]
    names = [(start, "nom", name) for start, name in _names(text) if not any(start in r for r in taken)]
    return _ordered(found + names)


def figures(text: str) -> list[tuple[str, str]]:
    """Dates, amounts and numbers only (no spaCy)."""
    return _ordered(_figures(text))


def _figures(text: str) -> list[tuple[int, str, str]]:
    found: list[tuple[int, str, str]] = []
    taken: list[range] = []
    for kind, pattern in (("date", _DATE), ("montant", _AMOUNT), ("nombre", _NUMBER)):
        for m in pattern.finditer(text):
            if any(m.start() in r for r in taken):
                continue
            taken.append(range(m.start(), m.end()))
            found.append((m.start(), kind, m.group(0).strip()))
    return found


def _ordered(found: list[tuple[int, str, str]]) -> list[tuple[str, str]]:
    seen, ordered = set(), []
    for _, kind, written in sorted(found):
        if (kind, written.lower()) not in seen:
            seen.add((kind, written.lower()))
            ordered.append((kind, written))
    return ordered


def _names(text: str) -> list[tuple[int, str]]:
    from plume.language.nlp import parse

    names = []
    for entity in parse(text).ents:
        capitalised = _capitalised(entity.text)
        if entity.label_ in {"PER", "LOC", "ORG"} and capitalised and not entity.text.isupper():
            names.append((entity.start_char, " ".join(capitalised)))
    return names


def _capitalised(name: str) -> list[str]:
    """The words of a name that carry it: « Mme Sophie Rochat du Locle » → Sophie, Rochat, Locle."""
    return [w for w in re.findall(r"[^\W\d_][\w\-'’]*", name) if w[0].isupper() and w.lower().rstrip(".") not in _CIVILITY]


def missing(before: str, after: str, known: list[tuple[str, str]] | None = None) -> list[dict[str, str]]:
    """The facts of `before` (or `known`, its facts already read) that `after` lost. Only `before`
    needs spaCy: with `known` the check is regular expressions alone, cheap enough for the event loop."""
    after_numbers = {_digits(m.group(0)) for m in _NUMBER.finditer(after)}
    after_lower = after.lower()
    lost = []
    for kind, written in (known if known is not None else facts(before)):
        numbers = [_digits(m.group(0)) for m in _NUMBER.finditer(written)]
        if numbers:
            kept = all(n in after_numbers for n in numbers) and _month_kept(written, after_lower)
        else:
            kept = all(re.search(rf"(?<!\w){re.escape(w.lower())}(?!\w)", after_lower) for w in written.split())
        if not kept:
            lost.append({"kind": kind, "text": written})
    return lost


def _month_kept(written: str, after_lower: str) -> bool:
    month = re.search(MONTHS, written, re.IGNORECASE)
    return month is None or month.group(0).lower() in after_lower
