"""`plume eval --tasks transcribe`: word error rate and speed of the catalog's speech models on
recordings with a reference text (docs/transcription.md).

The evaluation folder's `speech/` holds reference texts (`*.txt`) and, beside each, the recording of
the same name (.wav, .mp3, .m4a, .ogg, .webm, .flac). A reference text without a recording is spoken by
espeak-ng (Debian package) and marked « synthétique »: robotic speech proves the pipeline and compares
models roughly, it does not predict the error rate on the commune's own meetings — record a few
minutes of a real one and write its reference text for that. In a reference text, `#` lines are
comments, paragraphs are separated by blank lines, and a paragraph's « Nom : » is a speaker label,
not words said.

Each recording goes through what the server does (plume.speech.audio windows, the engine, the
vocabulary prompt of the data folder if given), without the HTTP layer.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TASKS = ("transcribe",)
RECORDING_SUFFIXES = (".wav", ".mp3", ".m4a", ".ogg", ".opus", ".webm", ".flac")
COLUMNS = [("items", "n"), ("synthetic", "synth."), ("wer", "erreurs/mot"), ("rtf", "temps réel ×"),
           ("latency_s", "durée s"), ("errors", "échecs")]


# -- text ---------------------------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    """Words to compare: lower case, no punctuation, apostrophes and hyphens as spaces (« l'ordre du
    jour » and « l' ordre du jour » are the same four words). Numbers stay as written: a model that
    writes « 31 » for « trente et un » is counted wrong, as a secretary reading it would find it."""
    text = text.lower().replace("’", "'")
    return re.findall(r"\w+", re.sub(r"['\-]", " ", text))


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    """(substitutions + deletions + insertions) / words of the reference: the edit distance over words.
    (A dozen lines of dynamic programming; jiwer would add rapidfuzz for this one function.)"""
    if not reference:
        return 0.0 if not hypothesis else 1.0
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp in enumerate(hypothesis, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp))
        previous = current
    return previous[-1] / len(reference)


def script_turns(path: Path) -> list[tuple[str, str]]:
    """(speaker, words said) for each paragraph of a reference text."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")]
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", "\n".join(lines)) if p.strip()]
    turns = []
    for paragraph in paragraphs:
        who, colon, said = paragraph.partition(" : ")
        if not colon or len(who) > 60:
            who, said = "", paragraph
        turns.append((who.strip(), " ".join(said.split())))
    return turns


# -- recordings ------------------------------------------------------------------------------------------------


def recordings(data: Path, work: Path) -> list[tuple[Path, str, bool]]:
    """(recording, reference text, synthetic) for each reference text of data/speech."""
    found = []
    for reference in sorted((data / "speech").glob("*.txt")):
        said = " ".join(text for _, text in script_turns(reference))
        recorded = next((reference.with_suffix(s) for s in RECORDING_SUFFIXES if reference.with_suffix(s).exists()), None)
        if recorded is not None:
            found.append((recorded, said, False))
        elif shutil.which("espeak-ng"):
            found.append((synthesize(reference, work / f"{reference.stem}.wav"), said, True))
    return found


def synthesize(reference: Path, out: Path, rate_wpm: int = 120, pause_s: float = 2.0) -> Path:
    """The reference text spoken by espeak-ng, one voice per speaker, a pause between paragraphs."""
    import wave

    voices: dict[str, str] = {}
    with wave.open(str(out), "wb") as sink:
        for who, said in script_turns(reference):
            voice = voices.setdefault(who, ("fr+m3", "fr+f2", "fr", "fr+m1", "fr+f3", "fr+m4")[len(voices) % 6])
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate_wpm), "-w", str(out) + ".part", said],
                           capture_output=True, timeout=300, check=True)
            with wave.open(str(out) + ".part") as part:
                if sink.getnframes() == 0:
                    sink.setparams(part.getparams())
                sink.writeframes(part.readframes(part.getnframes()))
                sink.writeframes(b"\0\0" * int(part.getframerate() * pause_s))
    Path(str(out) + ".part").unlink(missing_ok=True)
    return out


def transcribe_file(engine: Any, path: Path, language: str, prompt: str = "") -> list:
    """The segments of a recording (TimedSegment), window after window as the server does."""
    from plume.inference.engine import CancelToken
    from plume.inference.speech import SpeechOptions, segments_of
    from plume.speech import audio
    from plume.speech.jobs import TimedSegment

    found: list[TimedSegment] = []
    silence_before = 0.0
    for window in audio.windows(path):
        tail = " ".join(s.text for s in found[-10:])[-200:]
        speech = audio.speech_regions(window.samples)
        options = SpeechOptions(language=language, prompt=f"{prompt} {tail}".strip(), speech=speech,
                                silence_before_s=silence_before)
        silence_before = window.duration_s - speech[-1][1] if speech else silence_before + window.duration_s
        for chunk in engine.transcribe(window.samples, options, CancelToken()):
            found += [TimedSegment(id=len(found), start=window.start_s + s.start, end=window.start_s + s.end,
                                   text=s.text, paragraph=s.paragraph) for s in segments_of(chunk.text)]
    return found


# -- the evaluation -------------------------------------------------------------------------------------------


def evaluate(models_file: Path, model_ids: list[str], data: Path,
             progress: Callable[[str, str, int, int], None] | None = None) -> dict[str, dict[str, Any]]:
    """{model: metrics} for the catalog's speech models (or those named) over data/speech."""
    from plume.inference.catalog import create_engine, load_catalog
    from plume.speech import audio
    from plume.speech.formats import paragraphs, plain_text
    from plume.speech.vocabulary import prompt_for

    catalog = load_catalog(models_file)
    chosen = [m for m in catalog.models if "transcribe" in m.tasks and (not model_ids or m.id in model_ids)]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="plume-eval-speech-") as work:
        items = recordings(data, Path(work))
        prompt = prompt_for(data / "speech" / "vocabulaire.txt")
        for entry in chosen:
            engine = create_engine(entry)
            language = (entry.languages or ["fr"])[0]
            edits, reference_words, seconds, audio_s, latencies, errors = 0.0, 0, 0.0, 0.0, [], 0
            for done, (path, said, _) in enumerate(items):
                if progress:
                    progress("transcribe", entry.id, done, len(items))
                started = time.perf_counter()
                try:
                    text = plain_text(paragraphs(transcribe_file(engine, path, language, prompt)))
                    duration = audio.probe(path, float("inf")).duration_s
                except Exception as exc:  # noqa: BLE001 - one failing recording is reported, the rest goes on
                    errors += 1
                    print(f"\ntranscribe : un enregistrement a échoué ({type(exc).__name__})", file=sys.stderr)
                    continue
                elapsed = time.perf_counter() - started
                reference = words(said)
                edits += word_error_rate(reference, words(text)) * len(reference)
                reference_words += len(reference)
                seconds, audio_s = seconds + elapsed, audio_s + duration
                latencies.append(elapsed)
            engine.close()
            results[entry.id] = {
                "items": len(latencies), "synthetic": sum(1 for _, _, synthetic in items if synthetic),
                "wer": edits / reference_words if reference_words else None,
                "rtf": seconds / audio_s if audio_s else None,
                "latency_s": sum(latencies) / len(latencies) if latencies else None, "errors": errors,
            }
        if progress and chosen:
            progress("", "", len(items), len(items))
    return results


def fmt(metric: str, value: Any) -> str:
    if value is None:
        return "—"
    if metric == "wer":
        return f"{value:.0%}"
    if metric in ("items", "errors", "synthetic"):
        return str(value)
    return f"{value:.2f}" if metric == "rtf" else f"{value:.1f}"


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = [["tâche", "modèle", *[label for _, label in COLUMNS]]]
    rows += [["transcribe", model, *[fmt(k, m.get(k)) for k, _ in COLUMNS]] for model, m in results.items()]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def html_section(results: dict[str, dict[str, Any]]) -> str:
    """The transcription table for the HTML report of `plume eval`."""
    from html import escape

    head = "".join(f"<th>{escape(label)}</th>" for _, label in COLUMNS)
    body = "".join(f"<tr><td>{escape(model)}</td>" + "".join(f"<td>{escape(fmt(k, m.get(k)))}</td>" for k, _ in COLUMNS)
                   + "</tr>" for model, m in results.items())
    return (f"<h2>transcribe</h2><p>Erreurs par mot (WER) et temps de calcul par seconde d'audio. « synth. » : "
            f"enregistrements lus par espeak-ng, qui ne prédisent pas le taux d'erreur sur de vraies voix.</p>"
            f"<table><tr><th>modèle</th>{head}</tr>{body}</table>")
