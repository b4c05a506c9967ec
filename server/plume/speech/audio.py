"""Reading recordings: what a file is (probe) and its sound as 16 kHz mono windows (windows).

Through PyAV, the FFmpeg libraries shipped in its wheel: wav, mp3, m4a/mp4, ogg/opus, webm, flac and
a few more. Only those container formats are opened (ACCEPTED), so an upload never reaches FFmpeg's
many other demuxers (images, playlists, network protocols). Nothing here logs or keeps a file name.

A long recording is read in windows of a few minutes, never whole: two hours of 16 kHz float samples
would be 460 MB. Each window is cut at the quietest moment of its last seconds, so a cut rarely falls
in the middle of a word; a transcription can then resume after a restart from the last window done.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from plume.errors import Refusal

SAMPLE_RATE = 16_000
WINDOW_S = 120.0  # audio handed to the engine at once: progress, fairness and resumption all step by it
CUT_SEARCH_S = 15.0  # where to look for a quiet moment to cut, before the window's end
QUIET_FRAME_S = 0.25

# FFmpeg's names of the container formats a recording comes in (PyAV's `container.format.name`).
ACCEPTED = {"wav", "w64", "mp3", "mov,mp4,m4a,3gp,3g2,mj2", "ogg", "matroska,webm", "flac", "aac", "aiff", "caf",
            "amr", "asf"}  # asf: .wma from older dictaphones


class NotAudio(Refusal):
    """The file is not a recording Plume can read (French message, no file name, no content)."""

    code = "not-audio"


class TooLong(Refusal):
    """The recording is longer than the configured limit."""

    code = "audio-too-long"

    def __init__(self, limit_s: float) -> None:
        super().__init__(f"L'enregistrement dépasse la durée maximale de {_hours(limit_s)}. Découpez-le en plusieurs "
                         "parties et transcrivez-les l'une après l'autre.", max_audio_duration_s=limit_s)


@dataclass(frozen=True)
class AudioInfo:
    format: str
    codec: str
    duration_s: float


@dataclass(frozen=True)
class Window:
    samples: np.ndarray  # float32, 16 kHz mono
    start_s: float  # where the window starts in the recording
    last: bool

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


def probe(path: Path, max_duration_s: float) -> AudioInfo:
    """What the file is and how long it lasts. Raises NotAudio, or TooLong past `max_duration_s`.
    The duration comes from the container, or, where it has none (a browser's webm), from the
    timestamps of its packets: demuxed, not decoded, so even a long file is probed in seconds."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = _audio_stream(container)
            duration = _declared_duration(container, stream)
            if duration is None:
                duration = _demuxed_duration(container, stream, max_duration_s)
            info = AudioInfo(format=container.format.name, codec=stream.codec_context.name, duration_s=duration)
    except av.FFmpegError as exc:
        raise NotAudio(NOT_AUDIO) from exc
    if info.duration_s > max_duration_s:
        raise TooLong(max_duration_s)
    return info


NOT_AUDIO = ("Ce fichier n'est pas un enregistrement audio que Plume sait lire. Formats acceptés : wav, mp3, m4a, "
             "ogg/opus, webm, flac.")


def _audio_stream(container):
    if container.format.name not in ACCEPTED:
        raise NotAudio(NOT_AUDIO)
    if not container.streams.audio:
        raise NotAudio("Ce fichier ne contient pas de piste audio.")
    return container.streams.audio[0]


def _declared_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # FFmpeg's AV_TIME_BASE
    return None


def _demuxed_duration(container, stream, max_duration_s: float) -> float:
    end = 0.0
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base is not None:
            end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
            if end > max_duration_s:
                break  # long enough to refuse: no need to read the rest
    return end


def windows(path: Path, *, start_s: float = 0.0, window_s: float = WINDOW_S,
            max_duration_s: float = float("inf")) -> Iterator[Window]:
    """The recording from `start_s` on, in windows of about `window_s` seconds of 16 kHz mono float32.
    Raises NotAudio when nothing can be decoded, TooLong once past `max_duration_s` (a container can
    under-declare its duration)."""
    blocks: list[np.ndarray] = []  # joined only when a window is cut: appending to an array would copy it each time
    held = 0
    offset = start_s
    for block in _decoded(path, start_s, max_duration_s):
        blocks.append(block)
        held += len(block)
        if held < (window_s + CUT_SEARCH_S) * SAMPLE_RATE:
            continue
        buffer = np.concatenate(blocks)
        while len(buffer) >= (window_s + CUT_SEARCH_S) * SAMPLE_RATE:
            cut = quiet_cut(buffer, window_s)
            yield Window(samples=buffer[:cut], start_s=offset, last=False)
            offset += cut / SAMPLE_RATE
            buffer = buffer[cut:]
        blocks, held = [buffer], len(buffer)
    yield Window(samples=np.concatenate(blocks) if blocks else np.zeros(0, np.float32), start_s=offset, last=True)


def quiet_cut(samples: np.ndarray, window_s: float) -> int:
    """Where to end a window: in the CUT_SEARCH_S before `window_s`, the latest QUIET_FRAME_S about as
    quiet as the quietest (within a factor 4 of its energy: the same silence, give or take the room's
    noise), so that windows stay close to `window_s`. (Hand-written: a dozen lines of numpy; a
    voice-activity model would be slower and no better at finding a quiet moment.)"""
    frame = int(QUIET_FRAME_S * SAMPLE_RATE)
    end = int(window_s * SAMPLE_RATE)
    start = max(0, end - int(CUT_SEARCH_S * SAMPLE_RATE))
    region = samples[start:end]
    frames = len(region) // frame
    if frames == 0:
        return end
    energy = np.square(region[:frames * frame].reshape(frames, frame)).mean(axis=1)
    quiet = np.flatnonzero(energy <= max(float(energy.min()) * 4, 1e-8))
    return start + int(quiet[-1]) * frame + frame // 2


def speech_regions(samples: np.ndarray, min_pause_s: float = 1.5) -> tuple[tuple[float, float], ...]:
    """Where a window has speech, (start, end) in seconds, apart wherever it pauses `min_pause_s` or
    more: Silero's voice-activity model, which faster-whisper bundles (ONNX, run by onnxruntime)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    found = get_speech_timestamps(samples, VadOptions(min_silence_duration_ms=int(min_pause_s * 1000), speech_pad_ms=0))
    return tuple((c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in found)


def _decoded(path: Path, start_s: float, max_duration_s: float) -> Iterator[np.ndarray]:
    """Blocks of 16 kHz mono samples from `start_s` on. Damaged packets are skipped (a recorder that
    was switched off mid-write), as FFmpeg's own tools do; a file with nothing to decode is NotAudio."""
    skip = int(start_s * SAMPLE_RATE)  # decoded and dropped: exact wherever the codec's key frames are
    decoded = 0
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = _audio_stream(container)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in _frames(container, stream):
                for out in resampler.resample(frame):
                    block = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    decoded += len(block)
                    if decoded > max_duration_s * SAMPLE_RATE:
                        raise TooLong(max_duration_s)
                    if skip >= len(block):
                        skip -= len(block)
                        continue
                    yield block[skip:]
                    skip = 0
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)[skip:]
    except av.FFmpegError as exc:
        raise NotAudio(NOT_AUDIO) from exc
    if decoded == 0:
        raise NotAudio("Ce fichier ne contient aucun son lisible.")


def _frames(container, stream):
    for packet in container.demux(stream):
        try:
            yield from packet.decode()
        except av.error.InvalidDataError:
            continue


def _hours(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} minutes"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} heures"
