"""The French spaCy pipeline (fr_core_news_sm), loaded once, lazily, on first use.

Loading takes a few seconds; routes call `warm_up()` from a worker thread so the first request
does not pay it on the event loop.
"""

from __future__ import annotations

import threading
from functools import cache, lru_cache

_lock = threading.Lock()


@cache
def _load():
    import spacy

    # Only what the measures use: tagger/morphologizer/parser/ner; the lemmatizer stays on for nominalisations.
    return spacy.load("fr_core_news_sm")


def french():
    """The shared pipeline. Thread-safe first load; spaCy's `nlp(text)` itself is safe to share."""
    with _lock:
        return _load()


def warm_up() -> None:
    french()


@lru_cache(maxsize=2)
def parse(text: str):
    """The analysed text. One request measures, diagnoses and checks facts on the same text: parse it
    once. Two entries only (the submitted text and the result), kept in memory, never written."""
    return french()(text)
