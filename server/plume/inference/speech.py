"""The speech engine: Whisper through faster-whisper (CTranslate2), for catalog entries of kind "speech".

CTranslate2 is the field's standard runtime for Whisper on CPUs and NVIDIA GPUs: int8 on the CPU,
float16 on a GPU (`[models.speech] compute_type` overrides). The model is read from its local folder
only: faster-whisper would otherwise fetch a model or a tokenizer from a model hub, which the server
never does (catalog.check_files requires tokenizer.json; the server sets HF_HUB_OFFLINE as well).

The engine transcribes one window of audio (16 kHz mono samples, a few minutes) per call, on a worker
thread of the scheduler, like the text engines' generations: it has its own slots there
(`workers`), a time limit, and a CancelToken checked between Whisper's 30-second windows. What it
yields are Chunks whose text is one JSON line per segment, so that chunks the scheduler merges stay
splittable (`segments_of`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from plume.inference.engine import CancelToken, Chunk, Engine, EngineError, GenerationParams

SAMPLE_RATE = 16_000  # what Whisper reads
PROMPT_CHARS = 900  # Whisper keeps the last 223 tokens of a prompt: more text would only be cut
WHISPER_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # retried in turn when a window looks wrong
PAUSE_S = 1.5  # a silence this long starts a paragraph (a change of speaker, often)
# Only silences this long are left out of what Whisper listens to (a break, a vote being counted):
# Whisper invents words in long silences. Shorter pauses stay in, as in the recording: cut out and
# joined (faster-whisper's own VAD filter, 2 s), they made Whisper run sentences of two speakers into
# one segment. The paragraphs come from the detector's pauses, not from Whisper's timestamps, which
# Whisper base rounds to whole seconds and often runs over a pause (measured on the synthetic meeting).
LONG_SILENCE_S = 8.0
CLIP_PAD_S = 0.4


class SpeechOptions(msgspec.Struct, kw_only=True, frozen=True):
    """How to transcribe one window. `prompt`: the commune's vocabulary and the text just before.
    `speech`: where the window has speech, (start, end) in seconds, from a voice-activity detector
    (plume.speech.audio.speech_regions); None to let Whisper listen to all of it. `silence_before_s`:
    the silence that ended the previous window (a pause cut in two by the window's edge)."""

    language: str
    prompt: str = ""
    temperature: float | None = None  # None: the catalog's fallback ladder (Whisper's 0.0, 0.2, … 1.0)
    speech: tuple[tuple[float, float], ...] | None = None
    silence_before_s: float = 0.0


class Segment(msgspec.Struct, kw_only=True):
    """A stretch of speech, times in seconds from the start of the window (the caller shifts them).
    `paragraph`: a pause comes before it."""

    start: float
    end: float
    text: str
    paragraph: bool = False
    tokens: list[int] = []
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0


_encode_line = msgspec.json.Encoder().encode
_decode_line = msgspec.json.Decoder(Segment).decode


def segments_of(text: str) -> list[Segment]:
    """The segments in a (possibly merged) chunk of the speech engine."""
    return [_decode_line(line) for line in text.splitlines() if line.strip()]


class SpeechEngine(Engine):
    kind = "speech"

    def __init__(self, folder: Path, *, model_id: str, providers: list[str], languages: list[str],
                 workers: int = 1, cpu_threads: int = 0, compute_type: str = "", beam_size: int = 0,
                 temperatures: list[float] | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: nothing below may go online
        from faster_whisper import WhisperModel

        self.model_id = model_id
        self.context_length = 448  # Whisper's decoder window, in tokens
        self.max_batch = max(1, workers)  # the scheduler's slots for this engine
        self.languages = list(languages) or ["fr"]
        self.temperatures = list(temperatures or WHISPER_TEMPERATURES)
        self.device = _device(providers)
        # Beam search costs about three times greedy decoding on the CPU (bench/speech.py): there the
        # default is greedy; on a GPU Whisper's own default of 5.
        self.beam_size = beam_size if beam_size > 0 else (5 if self.device == "cuda" else 1)
        self.compute_type = compute_type or ("float16" if self.device == "cuda" else "int8")
        self.cpu_threads = cpu_threads or max(1, _cpus() // 2)
        try:
            self.model = WhisperModel(str(folder), device=self.device, compute_type=self.compute_type,
                                      cpu_threads=self.cpu_threads, num_workers=self.max_batch, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as exc:
            raise EngineError(f"le modèle Whisper n'a pas pu être chargé ({type(exc).__name__})") from exc
        expected, read = self.model.model.n_mels, self.model.feature_extractor.mel_filters.shape[0]
        if expected != read:  # large-v3 and turbo listen to 128 mel bands, said by preprocessor_config.json
            raise EngineError(f"le modèle attend {expected} bandes de fréquence et en recevrait {read} : copiez son "
                              "preprocessor_config.json dans son dossier (docs/models.md, « Transcription »)")
        self.provider = f"{self.device}/{self.compute_type}"

    @classmethod
    def from_entry(cls, entry: Any) -> SpeechEngine:
        speech = entry.speech
        return cls(entry.folder, model_id=entry.id, providers=entry.providers, languages=entry.languages,
                   workers=speech.workers, cpu_threads=speech.cpu_threads, compute_type=speech.compute_type,
                   beam_size=speech.beam_size, temperatures=speech.temperatures)

    # -- what the scheduler runs -----------------------------------------------------------------------

    def transcribe(self, samples: Any, options: SpeechOptions, cancel: CancelToken) -> Iterator[Chunk]:
        """Segments of one window of 16 kHz mono float32 samples, as they are decoded. Stops at the
        next Whisper window (30 s of audio) once `cancel` is set."""
        duration = len(samples) / SAMPLE_RATE
        if options.speech is not None and not options.speech:
            return  # nothing said in this window
        temperature = self.temperatures if options.temperature is None else [options.temperature]
        segments, _ = self.model.transcribe(
            samples, language=options.language, beam_size=self.beam_size, temperature=temperature,
            initial_prompt=options.prompt[-PROMPT_CHARS:] or None, vad_filter=False,
            clip_timestamps=clips(options.speech, duration) if options.speech else "0",
            condition_on_previous_text=True)
        breaks = pauses(options.speech, options.silence_before_s) if options.speech is not None else None
        previous_mid, previous_end = 0.0, None
        for segment in segments:  # lazy: each step decodes the next 30-second window
            start = min(max(segment.start, 0.0), duration)
            end = min(max(segment.end, start), duration)
            mid = (start + end) / 2
            paragraph = (any(previous_mid < p <= mid for p in breaks) if breaks is not None
                         else previous_end is None or start - previous_end >= PAUSE_S)
            previous_mid, previous_end = mid, end
            piece = Segment(start=start, end=end, text=segment.text.strip(), paragraph=paragraph,
                            tokens=list(segment.tokens), temperature=float(segment.temperature or 0.0),
                            avg_logprob=float(segment.avg_logprob), compression_ratio=float(segment.compression_ratio),
                            no_speech_prob=float(segment.no_speech_prob))
            yield Chunk(_encode_line(piece).decode() + "\n", tokens=max(1, len(piece.tokens)))
            if cancel.cancelled:
                return

    def self_check(self) -> int:
        """`plume models check`: transcribe two seconds of a tone; the number of tokens it decoded
        (0 is fine: there is no speech to find; what counts is that the model ran)."""
        import numpy as np

        tone = (0.1 * np.sin(np.arange(2 * SAMPLE_RATE) * 2 * np.pi * 220 / SAMPLE_RATE)).astype(np.float32)
        options = SpeechOptions(language=self.languages[0], temperature=0.0)
        return sum(len(s.tokens) for chunk in self.transcribe(tone, options, CancelToken())
                   for s in segments_of(chunk.text))

    # -- the text-engine interface: a speech model writes no text from a prompt --------------------------

    def count_tokens(self, text: str) -> int:
        return len(self.model.hf_tokenizer.encode(text, add_special_tokens=False).ids)

    def format_chat(self, messages: list[dict[str, str]]) -> str:
        raise EngineError(f"« {self.model_id} » est un modèle de transcription : il ne répond pas à une conversation.")

    def generate(self, prompt: str, params: GenerationParams, cancel: CancelToken) -> Iterator[Chunk]:
        raise EngineError(f"« {self.model_id} » est un modèle de transcription : il ne génère pas de texte.")

    def close(self) -> None:
        self.model = None


def clips(speech: tuple[tuple[float, float], ...], duration: float) -> list[float]:
    """What Whisper listens to: the speech, joined across pauses shorter than LONG_SILENCE_S, with a
    margin; as faster-whisper's `clip_timestamps` (start, end, start, end…)."""
    joined: list[list[float]] = []
    for start, end in speech:
        if joined and start - joined[-1][1] < LONG_SILENCE_S:
            joined[-1][1] = end
        else:
            joined.append([start, end])
    return [round(x, 2) for start, end in joined for x in (max(0.0, start - CLIP_PAD_S), min(duration, end + CLIP_PAD_S))]


def pauses(speech: tuple[tuple[float, float], ...], silence_before_s: float = 0.0) -> list[float]:
    """The middle of each silence of PAUSE_S or more between stretches of speech; a paragraph starts
    with the first segment past it. One cut in two by the window's start counts with its first half."""
    found = [(end + start) / 2 for (_, end), (start, _) in zip(speech, speech[1:]) if start - end >= PAUSE_S]
    if speech and silence_before_s + speech[0][0] >= PAUSE_S:
        found.insert(0, max(1e-3, speech[0][0] / 2))
    return found


def _device(providers: list[str]) -> str:
    if "cuda" in providers:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            return "cuda"
    return "cpu"


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
