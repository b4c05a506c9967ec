"""Checking an answer written from numbered passages: every sentence ends with its citations
([1], [2] or [1, 2]), every citation points to a passage, and every amount, date, time, time limit,
article number and other figure a sentence states is written in a passage it cites — and, when it
cites several, each of them holds at least one of its figures.

What it can verify: that the figures of a sentence come from its own sources (values compared, not
spellings: « CHF 120.– » = « 120 francs », « 22h » = « 22 heures », « trente jours » = « 30 jours »,
« 1'000 » = « 1000 »). What it cannot: the meaning around them — a negation, a condition, who
must do what, or a figure of the passage attached to the wrong subject. A sentence with no figure
passes on its citation alone. Pure functions, no model: used by the answer task, `plume search faq`
and `plume eval --tasks answer`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from plume.language.readers import find_amounts, find_dates, find_times, number_from_words
from plume.language.sentences import sentences

CITATION = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")
_LEADING_CITATIONS = re.compile(r"^(?:\s*\[\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*\])+[\s.]*")
_NUMBER_WORDS = r"(?:\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|" \
                r"quarante|cinquante|soixante|nonante|cent)"
# A time limit: a count and its unit, in the languages answers are written in.
DURATION = re.compile(rf"\b(?P<n>{_NUMBER_WORDS}(?:[- ](?:et[- ])?{_NUMBER_WORDS})*)\s+(?P<unit>jours?|semaines?|mois|"
                      r"ans?|années?|heures?|Tagen?|Wochen?|Monaten?|Monate|Jahren?|Jahre|Stunden?|giorni|giorno|"
                      r"settimane?|mesi|mese|anni|anno|ore|days?|weeks?|months?|years?|hours?)\b", re.IGNORECASE)
UNITS = {"jour": "d", "tag": "d", "giorn": "d", "day": "d", "semaine": "w", "woche": "w", "settiman": "w", "week": "w",
         "mois": "m", "monat": "m", "mes": "m", "month": "m", "an": "y", "année": "y", "jahr": "y", "ann": "y",
         "year": "y", "heure": "h", "stunde": "h", "or": "h", "hour": "h"}
ARTICLE = re.compile(r"\b(?:art\.|article|artikel|articolo)\s*(\d+[a-z]{0,6})\b", re.IGNORECASE)
DIGITS = re.compile(r"\d+(?:['’\u202f ]\d{3})*(?:[.,]\d+)?")


@dataclass
class Sentence:
    text: str                 # as written, citations included
    citations: list[int]      # the passage numbers it cites, in order, without repeats


@dataclass
class Problem:
    sentence: int             # index in the answer's sentences
    kind: str                 # "no-citation" | "unknown-citation" | "amount" | "date" | "time" | "deadline" | "article"
    #                           | "number" | "idle-citation" (cites a passage holding none of the sentence's figures)
    public: str               # French, for the person: names the kind and the citation, never a value
    for_model: str            # French, for the retry prompt: may quote the model's own words


@dataclass
class Checked:
    sentences: list[Sentence]
    problems: list[Problem] = field(default_factory=list)

    @property
    def supported(self) -> list[Sentence]:
        wrong = {p.sentence for p in self.problems}
        return [s for i, s in enumerate(self.sentences) if i not in wrong]


def split_sentences(answer: str) -> list[Sentence]:
    """The answer's sentences, each with the citations that end it. A citation group written after the
    full stop (« … CHF 120.–. [1] Le … ») belongs to the sentence before it."""
    pieces: list[str] = []
    for span in sentences(answer):
        text = span.text
        lead = _LEADING_CITATIONS.match(text)
        if lead and pieces:
            pieces[-1] += " " + lead.group(0).strip()
            text = text[lead.end():].strip()
        if text and re.search(r"\w", CITATION.sub("", text)):
            pieces.append(text)
        elif text and pieces:
            pieces[-1] += " " + text
    return [Sentence(text=p, citations=cited(p)) for p in pieces]


def cited(text: str) -> list[int]:
    numbers = [int(n) for group in CITATION.findall(text) for n in re.split(r"\s*[,;]\s*", group)]
    return list(dict.fromkeys(numbers))


def without_citations(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", CITATION.sub("", text)).strip()


def check_answer(answer: str | list[Sentence], passages: list[str]) -> Checked:
    """`passages[0]` is passage [1]. Each passage should carry what may be cited of it: its reference
    (« art. 12 al. 2 ») and heading, then its text."""
    found = split_sentences(answer) if isinstance(answer, str) else answer
    checked = Checked(found)
    for index, sentence in enumerate(found):
        checked.problems += sentence_problems(index, sentence, passages)
    return checked


def sentence_problems(index: int, sentence: Sentence, passages: list[str]) -> list[Problem]:
    if not sentence.citations:
        return [Problem(index, "no-citation", "une phrase sans citation",
                        f"la phrase « {_short(sentence.text)} » ne cite aucun passage : termine-la par [n]")]
    unknown = [n for n in sentence.citations if not 1 <= n <= len(passages)]
    if unknown:
        return [Problem(index, "unknown-citation", f"une citation [{unknown[0]}] qui ne renvoie à aucun passage",
                        f"la citation [{unknown[0]}] ne renvoie à aucun passage (il y en a {len(passages)})")]
    sources = " ".join(passages[n - 1] for n in sentence.citations)
    marks = "".join(f"[{n}]" for n in sentence.citations)
    text = without_citations(sentence.text)
    problems = []
    for kind, written in unsupported_facts(text, sources):
        problems.append(Problem(index, kind, f"{WHAT[kind]} absent du passage cité {marks}",
                                f"{WHAT[kind]} « {written} » n'est pas dans le passage cité {marks}"))
    if not problems and len(sentence.citations) > 1:
        problems += [Problem(index, "idle-citation", f"une citation [{n}] qui n'appuie aucun chiffre de sa phrase",
                             f"la phrase « {_short(sentence.text)} » cite [{n}], qui ne contient aucun de ses "
                             "chiffres : ne cite que les passages qui les contiennent")
                     for n in idle_citations(text, sentence.citations, passages)]
    return problems


def idle_citations(text: str, citations: list[int], passages: list[str]) -> list[int]:
    """The citations of a sentence with figures whose passage holds none of them (a sentence citing
    every passage would otherwise pass on their union). A sentence without figures: none."""
    idle = []
    for n in citations:
        found = figures(text, passages[n - 1])
        if found and not any(ok for _, _, ok in found):
            idle.append(n)
    return idle


WHAT = {"amount": "un montant", "date": "une date", "time": "une heure", "deadline": "un délai",
        "article": "un numéro d'article", "number": "un nombre"}


def unsupported_facts(sentence: str, sources: str) -> list[tuple[str, str]]:
    """(kind, as written) for each figure of `sentence` that `sources` does not state."""
    return [(kind, written) for kind, written, ok in figures(sentence, sources) if not ok]


def figures(sentence: str, sources: str) -> list[tuple[str, str, bool]]:
    """(kind, as written, stated by `sources`) for each figure of `sentence`. Each figure is looked at
    once, by the first reader that claims it (an amount's digits are not also a number)."""
    found: list[tuple[str, str, bool]] = []
    claimed: list[range] = []

    def claim(kind: str, start: int, end: int, written: str, ok: bool) -> None:
        if any(start in r for r in claimed):
            return
        claimed.append(range(start, end))
        found.append((kind, written, ok))

    known_amounts = {round(a.value, 2) for a in find_amounts(sources)}
    for amount in find_amounts(sentence):
        claim("amount", amount.start, amount.end, amount.text, round(amount.value, 2) in known_amounts)
    known_dates = [_day(d.value, d.text) for d in find_dates(sources)]
    for d in find_dates(sentence):
        claim("date", d.start, d.end, d.text, _same_day(_day(d.value, d.text), known_dates))
    known_times = {t.value for t in find_times(sources)}
    for t in find_times(sentence):  # before time limits: « 22 heures » is the hour of « 22h »
        claim("time", t.start, t.end, t.text, t.value in known_times)
    known_durations = {duration for m in DURATION.finditer(sources) if (duration := _duration(m))}
    for m in DURATION.finditer(sentence):
        claim("deadline", m.start(), m.end(), m.group(0), _duration(m) in known_durations)
    known_articles = {a.lower() for a in ARTICLE.findall(sources)}
    for m in ARTICLE.finditer(sentence):
        claim("article", m.start(), m.end(), m.group(0), m.group(1).lower() in known_articles)
    known_numbers = {_digits(m.group(0)) for m in DIGITS.finditer(sources)}
    for m in DIGITS.finditer(sentence):
        claim("number", m.start(), m.end(), m.group(0), _digits(m.group(0)) in known_numbers)
    return found


def _day(value: date, written: str) -> tuple[int, int, int | None]:
    """A date as day, month, and its year only when written (« 1er avril » matches « 1er avril 2026 »)."""
    has_year = bool(re.search(r"(?:19|20)\d\d|\.\d\d$", written))
    return value.day, value.month, value.year if has_year else None


def _same_day(day: tuple[int, int, int | None], known: list[tuple[int, int, int | None]]) -> bool:
    return any(day[:2] == other[:2] and None in (day[2], other[2]) or day == other for other in known)


def _duration(m: re.Match) -> tuple[int, str] | None:
    n = number_from_words(m["n"].replace(" et ", "-"))
    unit = m["unit"].lower()
    key = next((UNITS[stem] for stem in sorted(UNITS, key=len, reverse=True) if unit.startswith(stem)), None)
    return (n, key) if n is not None and key else None


def _digits(text: str) -> str:
    value = re.sub(r"['’\u202f ]", "", text).replace(",", ".")
    return value[:-3] if value.endswith((".00", ".-")) else value


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


__all__ = ["CITATION", "DURATION", "Checked", "Problem", "Sentence", "check_answer", "cited", "figures",
           "idle_citations", "split_sentences", "unsupported_facts", "without_citations"]
