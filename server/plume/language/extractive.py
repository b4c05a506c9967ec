"""Extractive summary without a model: the best sentences, in their original order.

A sentence scores by the frequency of its content words in the whole text (stop words removed),
plus bonuses for what a reader of a report needs: key figures (numbers, amounts, dates,
percentages), decisions (décide, adopte, refuse, accorde, vote…), deadlines, and the first sentence
of a paragraph. Headings are never picked.

What a reader must not get: a summary without the text's amounts (one sentence with an amount is
always kept when the text has one); a sentence opening with a pronoun (« Il est réduit à CHF 50.– »)
without the sentence before it that names what it stands for (kept together, or left out); a vote
without what was voted (a list item « vote : accepté … » gets its item's heading); fillers of
spoken transcripts (« euh »); the same sentence twice; a regulation's paragraph numbers.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from plume.language.sentences import Span, sentences, words

SHARE = {"short": 0.15, "medium": 0.3, "long": 0.5}
MAX_SENTENCES = {"short": 3, "medium": 6, "long": 12}

DECISION = re.compile(
    r"\b(?:décid\w*|adopt\w*|approuv\w*|accept\w*|refus\w*|rejet\w*|accord\w*|octro\w*|vot\w*|arrêt[eé]\w*|"
    r"valid\w*|crédit\w*|ratifi\w*|recommand\w*|propos\w*|doit|doivent|obligatoire|interdit\w*|recours|délai)\b",
    re.IGNORECASE,
)
FIGURE = re.compile(r"\d|\b(?:CHF|francs?|pour ?cent|%)\b", re.IGNORECASE)
AMOUNT = re.compile(r"\b(?:CHF|Fr\.)\s*\d|\d\s*(?:CHF|francs?)\b|\d\.[-–]|%", re.IGNORECASE)
PRONOUN_START = re.compile(r"^(?:Il|Elle|Ils|Elles|Leur|Leurs|Celui-ci|Celle-ci|Ceux-ci|Celles-ci|Ce|Cela|Ceci|"
                           r"En|Y|Sa|Son|Ses|Lui|Eux)\b")
_FILLER_WORDS = r"(?:euh|heu|hum|bah|ben|hein)"
FILLER = re.compile(rf"(?:(?<=,)\s*{_FILLER_WORDS}\s*,|\b{_FILLER_WORDS}\b\s*,?)\s*", re.IGNORECASE)
TIMESTAMP = re.compile(r"^\[\d{1,2}:\d\d(?::\d\d)?\]\s*")
ALINEA = re.compile(r"^\d{1,2}\s+(?=[A-ZÀ-Ý])")  # « 2 Le montant… »: a regulation's paragraph number
LIST_ITEM = re.compile(r"^\s*[-–•*]\s*")
ITEM_HEADING = re.compile(r"^\s*\d{1,2}[.)]\s+(?P<title>\S.*)$")
VOTE = re.compile(r"^(?:vote|votation|décision|résultat)\b", re.IGNORECASE)


def _stop_words() -> frozenset[str]:
    from spacy.lang.fr.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


_NUMBERING = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2})*[.)]|[IVX]+\.|[A-Z]\.)\s*")


def _is_heading(span: Span, text: str) -> bool:
    """A short line without final punctuation (« 2. Crédit … rue du Collège »), or its number alone."""
    line_end = text.find("\n", span.end)
    whole_line = text[text.rfind("\n", 0, span.start) + 1: len(text) if line_end < 0 else line_end].strip()
    if _NUMBERING.fullmatch(span.text):
        return True
    title = _NUMBERING.sub("", whole_line)
    return (span.text in (whole_line, title) and len(words(title)) <= 10
            and not title.endswith((".", "!", "?", ":", ";")))


def summarize(text: str, length: str = "medium") -> tuple[str, list[Span]]:
    """(summary, kept sentences with their offsets in `text`)."""
    spans = sentences(text)
    if not spans:
        return "", []
    stop = _stop_words()
    content = [[w.lower() for w in words(s.text) if w.lower() not in stop and len(w) > 2] for s in spans]
    frequency = Counter(w for ws in content for w in ws)
    paragraph_starts = {0} | {i for i, s in enumerate(spans) if i and "\n" in text[spans[i - 1].end:s.start]}
    scored = []
    for i, (span, ws) in enumerate(zip(spans, content, strict=True)):
        if _is_heading(span, text) or not ws:
            continue
        score = sum(math.log1p(frequency[w]) for w in ws) / math.sqrt(len(ws))
        score *= (1 + 0.5 * bool(FIGURE.search(span.text)) + 0.5 * bool(DECISION.search(span.text))
                  + 0.5 * bool(AMOUNT.search(span.text)))
        score *= 1.2 if i in paragraph_starts else 1.0
        scored.append((score, i))
    wanted = max(1, min(MAX_SENTENCES[length], math.ceil(SHARE[length] * len(scored))))
    ranked = [i for _, i in sorted(scored, reverse=True)]
    keep = set(ranked[:wanted])
    # The text's amounts are what a reader looks for first: up to half the summary holds them.
    with_amount = [i for i in ranked if AMOUNT.search(spans[i].text)]
    needed = min(len(with_amount), max(1, (wanted + 1) // 2))
    for i in with_amount[:needed]:
        if i not in keep:
            weakest = next(j for j in reversed(ranked[:wanted]) if j in keep and j not in with_amount)
            keep.discard(weakest)
            keep.add(i)
    keep = _with_antecedents(keep, spans, text)
    kept = [spans[i] for i in sorted(keep)]
    if not kept:  # only headings or stop words: nothing to rank, keep the opening
        return spans[0].text, spans[:1]
    # Sentences from different lines (list items, paragraphs) stay on their own line.
    pieces, seen = [], set()
    for k, span in enumerate(kept):
        sentence = _readable(span, text)
        if sentence.lower() in seen:
            continue
        seen.add(sentence.lower())
        if pieces:
            pieces.append("\n" if "\n" in text[kept[k - 1].end:span.start] else " ")
        pieces.append(sentence)
    return "".join(pieces), kept


def _with_antecedents(keep: set[int], spans: list[Span], text: str) -> set[int]:
    """A kept sentence that opens with a pronoun brings the sentence before it when that one is in the
    same paragraph; otherwise (its antecedent is elsewhere) it is left out."""
    out = set(keep)
    for i in sorted(keep):
        if not PRONOUN_START.match(_strip_alinea(spans[i].text)):
            continue
        if i > 0 and "\n" not in text[spans[i - 1].end:spans[i].start]:
            out.add(i - 1)
        else:
            out.discard(i)
    return out


def _strip_alinea(sentence: str) -> str:
    return ALINEA.sub("", sentence)


def _readable(span: Span, text: str) -> str:
    """The sentence as the summary shows it: no paragraph number, no filler, and a vote line with the
    heading of the item it belongs to."""
    sentence = _strip_alinea(span.text)
    sentence = FILLER.sub(" ", TIMESTAMP.sub("", sentence)).strip()
    sentence = re.sub(r"\s{2,}", " ", re.sub(r"\s+([,.;:!?])", r"\1", sentence))
    bare = LIST_ITEM.sub("", sentence)
    if bare != sentence and VOTE.match(bare) and (heading := _item_heading(text, span.start)):
        sentence = f"{heading} — {bare}"
    return sentence


def _item_heading(text: str, position: int) -> str | None:
    """The numbered line (« 2. Crédit 1'250'000.- réfection rue du Collège ») a list item belongs to."""
    for line in reversed(text[:position].splitlines()):
        if m := ITEM_HEADING.match(line):
            return m["title"].strip()
        if line.strip() and not LIST_ITEM.match(line):
            return None
    return None
