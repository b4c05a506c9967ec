"""A transcript in OpenAI's response formats (json, text, srt, vtt, verbose_json), with Plume's
paragraphs: a segment that follows a pause (plume.inference.speech.pauses) starts a new one.

No diarization model can be installed on the commune's server (they are gated on a model hub or need
PyTorch), so Plume does not say who speaks: the paragraphs follow the pauses, and `transcript` writes
each one as « [hh:mm:ss] Intervenant : … », the shape POST /v1/text/minutes reads, for the secretary
to put the speakers' names in (docs/transcription.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from plume.speech.jobs import TimedSegment

SPEAKER = "Intervenant"
FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
MEDIA_TYPES = {"json": "application/json", "verbose_json": "application/json", "text": "text/plain; charset=utf-8",
               "srt": "application/x-subrip; charset=utf-8", "vtt": "text/vtt; charset=utf-8"}
# OpenAI's verbose_json names the language in English words.
LANGUAGE_NAMES = {"fr": "french", "de": "german", "it": "italian", "en": "english", "rm": "romansh", "es": "spanish",
                  "pt": "portuguese", "sq": "albanian", "sr": "serbian", "hr": "croatian", "tr": "turkish"}


class Paragraph(msgspec.Struct, kw_only=True):
    start: float
    end: float
    text: str


def paragraphs(segments: Sequence[TimedSegment]) -> list[Paragraph]:
    found: list[Paragraph] = []
    for segment in segments:
        if not segment.text:
            continue
        if found and not segment.paragraph:
            last = found[-1]
            last.text, last.end = f"{last.text} {segment.text}", segment.end
        else:
            found.append(Paragraph(start=segment.start, end=segment.end, text=segment.text))
    return found


def clock(seconds: float) -> str:
    """« 01:02:03 »"""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def transcript(parts: Sequence[Paragraph], speaker: str = SPEAKER) -> str:
    """One line per paragraph, « [00:01:05] Intervenant : … », blank lines between: what the minutes
    task reads as a transcript (plume.tasks.minutes.TIMESTAMP) once the names are put in."""
    return "\n\n".join(f"[{clock(p.start)}] {speaker} : {p.text}" for p in parts) + ("\n" if parts else "")


def plain_text(parts: Sequence[Paragraph]) -> str:
    return "\n\n".join(p.text for p in parts)


def _subtitle_time(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def srt(segments: Sequence[TimedSegment]) -> str:
    blocks = [f"{i}\n{_subtitle_time(s.start, ',')} --> {_subtitle_time(s.end, ',')}\n{s.text}\n"
              for i, s in enumerate((s for s in segments if s.text), start=1)]
    return "\n".join(blocks)


def vtt(segments: Sequence[TimedSegment]) -> str:
    cues = [f"{_subtitle_time(s.start, '.')} --> {_subtitle_time(s.end, '.')}\n{s.text}\n"
            for s in segments if s.text]
    return "WEBVTT\n\n" + "\n".join(cues)


def verbose(segments: Sequence[TimedSegment], *, language: str, duration_s: float) -> dict[str, Any]:
    parts = paragraphs(segments)
    return {
        "task": "transcribe",
        "language": LANGUAGE_NAMES.get(language, language),
        "duration": round(duration_s, 2),
        "text": plain_text(parts),
        "segments": [{"id": s.id, "seek": 0, "start": round(s.start, 2), "end": round(s.end, 2), "text": s.text,
                      "tokens": s.tokens, "temperature": s.temperature, "avg_logprob": s.avg_logprob,
                      "compression_ratio": s.compression_ratio, "no_speech_prob": s.no_speech_prob}
                     for s in segments],
        "usage": {"type": "duration", "seconds": round(duration_s)},
        # Plume's additions: the paragraphs (pauses), and the transcript for the minutes task.
        "paragraphs": [{"start": round(p.start, 2), "end": round(p.end, 2), "text": p.text} for p in parts],
        "transcript": transcript(parts),
    }


def render(fmt: str, segments: Sequence[TimedSegment], *, language: str, duration_s: float) -> str | dict[str, Any]:
    """The transcript in OpenAI's `response_format` (a dict for the JSON formats)."""
    if fmt == "verbose_json":
        return verbose(segments, language=language, duration_s=duration_s)
    if fmt == "json":
        return {"text": plain_text(paragraphs(segments)), "usage": {"type": "duration", "seconds": round(duration_s)}}
    if fmt == "srt":
        return srt(segments)
    if fmt == "vtt":
        return vtt(segments)
    return plain_text(paragraphs(segments)) + "\n"
