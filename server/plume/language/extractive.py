"""Extractive summary without a model: the best sentences, in their original order.

A sentence scores by the frequency of its content words in the whole text (stop words removed),
plus bonuses for what a reader of a report needs: key figures (numbers, amounts, dates,
percentages), decisions (décide, adopte, refuse, accorde, vote…), deadlines, and the first sentence
of a paragraph. Headings are never picked.
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


def _stop_words() -> frozenset[str]:
    from spacy.lang.fr.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _is_heading(span: Span, text: str) -> bool:
    line_end = text.find("\n", span.end)
    whole_line = text[text.rfind("\n", 0, span.start) + 1: len(text) if line_end < 0 else line_end].strip()
    return whole_line == span.text and len(words(span.text)) <= 10 and not span.text.endswith((".", "!", "?", ":", ";"))


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
        score *= 1 + 0.5 * bool(FIGURE.search(span.text)) + 0.5 * bool(DECISION.search(span.text))
        score *= 1.2 if i in paragraph_starts else 1.0
        scored.append((score, i))
    wanted = max(1, min(MAX_SENTENCES[length], math.ceil(SHARE[length] * len(scored))))
    keep = sorted(i for _, i in sorted(scored, reverse=True)[:wanted])
    kept = [spans[i] for i in keep]
    if not kept:  # only headings or stop words: nothing to rank, keep the opening
        return spans[0].text, spans[:1]
    # Sentences from different lines (list items, paragraphs) stay on their own line.
    pieces = [kept[0].text]
    for previous, span in zip(kept, kept[1:]):
        pieces.append(("\n" if "\n" in text[previous.end:span.start] else " ") + span.text)
    return "".join(pieces), kept
