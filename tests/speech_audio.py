"""Test recordings, made at test time: French speech synthesized by espeak-ng (Debian package, see
scripts/system-packages.sh) from texts in the repo, encoded by PyAV in the containers a commune's
recorders and browsers produce (wav, mp3, m4a, ogg/opus, webm).

Synthetic speech proves the pipeline on real French audio (decoding, windows, pauses, timing, the
vocabulary prompt); it says little about accuracy on real voices (docs/transcription.md).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from plume.speech.evaluation import script_turns
from tests.conftest import REPO

SPEECH = REPO / "tests" / "data" / "samples" / "speech"
SEANCE = SPEECH / "seance-conseil-general.txt"
VOICES = ("fr+m3", "fr+f2", "fr", "fr+m1", "fr+f3", "fr+m4")
TURN_PAUSE_S = 2.0
CONTAINERS = {  # suffix: (FFmpeg format, codec, sample rate)
    "wav": ("wav", "pcm_s16le", 22050),
    "mp3": ("mp3", "libmp3lame", 22050),
    "m4a": ("ipod", "aac", 22050),
    "ogg": ("ogg", "libopus", 48000),
    "webm": ("webm", "libopus", 48000),
}


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


@dataclass
class Recording:
    samples: np.ndarray  # int16 mono
    rate: int
    turns: list[tuple[float, float, str]]  # (start, end, spoken text) of each paragraph

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate

    @property
    def text(self) -> str:
        return " ".join(t for _, _, t in self.turns)


def speak(text: str, voice: str = "fr", rate_wpm: int = 150) -> tuple[np.ndarray, int]:
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate_wpm), "--stdout", text], capture_output=True,
                         check=True, timeout=120).stdout
    with wave.open(io.BytesIO(wav)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16), w.getframerate()


def synthesize(script: Path, rate_wpm: int = 120, pause_s: float = TURN_PAUSE_S, limit: int | None = None) -> Recording:
    """Each paragraph in its speaker's voice, `pause_s` of silence between paragraphs."""
    voices: dict[str, str] = {}
    pieces, turns, at, rate = [], [], 0.0, 22050
    for who, said in script_turns(script)[:limit]:
        voice = voices.setdefault(who, VOICES[len(voices) % len(VOICES)])
        samples, rate = speak(said, voice, rate_wpm)
        turns.append((at, at + len(samples) / rate, said))
        pieces += [samples, np.zeros(int(rate * pause_s), np.int16)]
        at += len(samples) / rate + pause_s
    return Recording(np.concatenate(pieces), rate, turns)


def encode(recording: Recording, suffix: str, path: Path, rate: int | None = None) -> Path:
    """The recording in a container, as a recorder or a browser would write it (at `rate` if given)."""
    import av

    fmt, codec, default_rate = CONTAINERS[suffix]
    rate = rate or default_rate
    samples = _resampled(recording.samples, recording.rate, rate)
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        frame_size = stream.codec_context.frame_size or 1024
        pts = 0
        for start in range(0, len(samples), frame_size):
            chunk = samples[start:start + frame_size]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, pts, Fraction(1, rate)
            pts += len(chunk)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _resampled(samples: np.ndarray, source: int, target: int) -> np.ndarray:
    if source == target:
        return samples
    positions = np.arange(int(len(samples) * target / source)) * source / target
    return np.interp(positions, np.arange(len(samples)), samples.astype(np.float32)).astype(np.int16)


# -- models --------------------------------------------------------------------------------------------------

TINY_SPEECH_ID = "tiny-whisper"


def tiny_speech_catalog(folder: Path, *, with_text_models: bool = False, workers: int = 1) -> Path:
    """A catalog with the tiny random Whisper (built here by onnx_models/build_tiny_speech.py, in about a
    second) and, when asked, the repo's tiny text models (absolute paths)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_tiny_speech", REPO / "onnx_models" / "build_tiny_speech.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    model = builder.build(folder / TINY_SPEECH_ID)
    # One temperature, no fallback ladder: a random model fails every quality threshold, and six tries
    # per 30-second window would only make the tests slow.
    entry = (f'[[models]]\nid = "{TINY_SPEECH_ID}"\npath = "{model}"\nkind = "speech"\ntasks = ["transcribe"]\n'
             f'languages = ["fr", "de"]\nproviders = ["cpu"]\ncontext_length = 448\n'
             f'[models.speech]\nworkers = {workers}\ncpu_threads = 1\nbeam_size = 1\ntemperatures = [0.0]\n')
    text = tiny_text_models() if with_text_models else ""
    catalog = folder / "models.toml"
    catalog.write_text(text + entry, encoding="utf-8")
    return catalog


# -- fixtures (import them into a test module to use them) ------------------------------------------------------



@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory) -> Path:
    """Recordings synthesized once per session, shared by the test modules that import the fixtures."""
    folder = tmp_path_factory.getbasetemp() / "speech-recordings"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def seance(speech_cache) -> tuple[Recording, Path]:
    """The 10-minute council meeting (tests/data/samples/speech), as an mp3 like a recorder's."""
    from tests.conftest import require_tool

    require_tool(espeak_available(), "espeak-ng")
    recording = synthesize(SEANCE)
    path = speech_cache / "seance.mp3"
    if not path.exists():
        encode(recording, "mp3", path)
    return recording, path


@pytest.fixture(scope="session")
def half_seance(speech_cache) -> tuple[Recording, Path]:
    """The meeting's first five minutes or so (its first 15 turns): three windows of audio."""
    from tests.conftest import require_tool

    require_tool(espeak_available(), "espeak-ng")
    recording = synthesize(SEANCE, limit=15)
    path = speech_cache / "half-seance.mp3"
    if not path.exists():
        encode(recording, "mp3", path)
    return recording, path


@pytest.fixture(scope="session")
def short_recording(speech_cache) -> Recording:
    """The meeting's first two turns, about 50 seconds."""
    from tests.conftest import require_tool

    require_tool(espeak_available(), "espeak-ng")
    return synthesize(SEANCE, limit=2)


def tiny_text_models() -> str:
    """The repo's tiny text models' catalog entries, with absolute paths (to go in another catalog)."""
    tiny = (REPO / "onnx_models" / "tiny" / "models.toml").read_text(encoding="utf-8")
    return re.sub(r'path = "([^"]+)"', lambda m: f'path = "{REPO / "onnx_models" / "tiny" / m[1]}"', tiny) + "\n"
