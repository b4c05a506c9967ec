"""Deterministic readers for the facts French administrative text is made of: dates (written,
numeric, relative), deadlines, amounts in francs, times, number words.

Shared by triage, extraction, minutes and fact sheets (through plume.tasks.facts). Pure functions,
no model, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12,
    # German, for messages in German
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "april": 4, "juni": 6, "juli": 7, "august": 8,
    "oktober": 10, "dezember": 12,
}

_UNITS = {
    "zéro": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "septante": 70, "huitante": 80,
    "octante": 80, "nonante": 90, "cent": 100, "quatre-vingt": 80, "quatre-vingts": 80,
}
NUMBER_WORD = r"(?:(?:" + "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True)) + r")(?:[- ](?:et[- ])?)?)+"


def number_from_words(text: str) -> int | None:
    """'trente' → 30, 'trente et un' → 31, 'dix-neuf' → 19, '12' → 12; None if not a number."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for word in re.split(r"[- ]+", text.replace("quatre-vingt", "quatrevingt")):
        if word in ("et", ""):
            continue
        word = "quatre-vingt" if word.startswith("quatrevingt") else word
        value = _UNITS.get(word)
        if value is None:
            return None
        if value == 100:
            current = max(current, 1) * 100
        else:
            current += value
    total += current
    return total


_MONTH_RE = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
_DAY = r"(?P<day>[0-3]?\d)(?:er|re|\.)?"
WRITTEN_DATE = re.compile(rf"\b{_DAY}\s+(?P<month>{_MONTH_RE})(?:\s+(?P<year>(?:19|20)\d\d))?\b", re.IGNORECASE)
NUMERIC_DATE = re.compile(r"\b(?P<day>[0-3]?\d)\.(?P<month>[01]?\d(?=\.(?:19|20)?\d\d)|[01]\d)(?:\.(?P<year>(?:19|20)?\d\d))?\b(?![\d'])(?!\.\d)")
ISO_DATE = re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b")


@dataclass(frozen=True)
class Found:
    """A fact read in the text: its value and where it was (start, end) so callers can look around it."""

    value: object
    start: int
    end: int
    text: str


def _make_date(year: int | None, month: int, day: int, reference: date) -> date | None:
    try:
        if year is not None:
            return date(year + 2000 if year < 100 else year, month, day)
        # No year: the occurrence closest to the reference date ("du 3 septembre", written in November).
        candidates = [date(reference.year + k, month, day) for k in (-1, 0, 1)]
    except ValueError:
        return None
    return min(candidates, key=lambda d: abs((d - reference).days))


def find_dates(text: str, reference: date | None = None) -> list[Found]:
    """Every date in the text, in reading order: '1er mars 2019', '14.06.1987', '19.10', '2026-11-30'."""
    reference = reference or date.today()
    found: list[Found] = []
    taken: list[range] = []
    for pattern, written in ((WRITTEN_DATE, True), (ISO_DATE, False), (NUMERIC_DATE, False)):
        for m in pattern.finditer(text):
            if any(m.start() in r or m.end() - 1 in r for r in taken):
                continue
            month = MONTHS[m["month"].lower()] if written else int(m["month"])
            year = int(m["year"]) if m["year"] else None
            value = _make_date(year, month, int(m["day"]), reference)
            if value is not None:
                found.append(Found(value, m.start(), m.end(), m.group(0)))
                taken.append(range(m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


# Words that make the next date a deadline ("d'ici au 30 novembre", "avant le 30.11.2026").
DEADLINE_BEFORE = re.compile(
    r"(?:d'ici (?:au|le)|jusqu'(?:au|à)|avant le|au plus tard (?:le|au)?|délai (?:fixé |imparti )?(?:au|jusqu'au)|"
    r"échéance (?:au|le|du)?|dernier délai|bis (?:zum|am|spätestens)?|spätestens (?:am|bis)?|fin)\s*$",
    re.IGNORECASE,
)
RELATIVE_DEADLINE = re.compile(
    rf"\b(?:dans|sous|d'ici|en|dans un délai de|dans les|innert|binnen|within)\s+(?:un délai de\s+)?"
    rf"(?P<n>\d+|{NUMBER_WORD})\s*(?P<unit>jours?|semaines?|mois|heures?|Tagen|Tage|Wochen|days?|weeks?)\b",
    re.IGNORECASE,
)


def find_deadlines(text: str, sent: date | None = None) -> list[Found]:
    """Deadlines: a date introduced by a deadline phrase, or a delay counted from `sent`
    ('dans 10 jours' written on 16 November → 26 November)."""
    sent = sent or date.today()
    found = []
    for d in find_dates(text, sent):
        before = text[max(0, d.start - 40):d.start]
        if DEADLINE_BEFORE.search(before):
            found.append(d)
    for m in RELATIVE_DEADLINE.finditer(text):
        n = number_from_words(m["n"])
        if n is None:
            continue
        unit = m["unit"].lower()
        days = n * 7 if unit.startswith(("semaine", "woche", "week")) else n * 30 if unit == "mois" else \
            max(1, n // 24) if unit.startswith("heure") else n
        found.append(Found(sent + timedelta(days=days), m.start(), m.end(), m.group(0)))
    return sorted(found, key=lambda f: f.start)


# CHF 1'234.50 · CHF 450.– · 1'250'000.- · Fr. 100.- · 100 francs · 4-5 kCHF is left alone
_NUMBER = r"\d{1,3}(?:['’ ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_DASH_END = r"(?:[.,][-–—]+)"
AMOUNT = re.compile(
    rf"(?:(?:CHF|Fr\.|SFr\.)\s*(?P<a>{_NUMBER}){_DASH_END}?"
    rf"|(?P<b>{_NUMBER}){_DASH_END}(?!\d)"
    rf"|(?P<c>{_NUMBER})\s*(?:CHF|francs?|Fr\.)(?![A-Za-z]))",
)


def parse_number(text: str) -> float:
    return float(re.sub(r"['’ ]", "", text).replace(",", "."))


def find_amounts(text: str) -> list[Found]:
    """Amounts in Swiss francs, as floats."""
    found = []
    for m in AMOUNT.finditer(text):
        raw = m["a"] or m["b"] or m["c"]
        found.append(Found(parse_number(raw), m.start(), m.end(), m.group(0).strip()))
    return found


TIME = re.compile(r"\b(?P<h>[01]?\d|2[0-3])\s*(?:h|:|heures?\s*)(?P<m>[0-5]\d)?\b", re.IGNORECASE)


def find_times(text: str) -> list[Found]:
    """Clock times '19h30', '22h05', '7h', '19:30' as 'HH:MM'."""
    return [Found(f"{int(m['h']):02d}:{m['m'] or '00'}", m.start(), m.end(), m.group(0)) for m in TIME.finditer(text)]


def spoken_time(text: str) -> str | None:
    """'dix-neuf heures trente-deux' → '19:32'."""
    m = re.search(rf"(?P<h>{NUMBER_WORD})\s*heures?(?:\s+(?P<m>{NUMBER_WORD}))?", text, re.IGNORECASE)
    if not m:
        return None
    hours = number_from_words(m["h"])
    minutes = number_from_words(m["m"]) if m["m"] else 0
    if hours is None or minutes is None or hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"
