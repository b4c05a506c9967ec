"""Transcriptions: `services.speech`, what POST/GET /v1/audio/transcriptions call.

Each job runs as an asyncio task that reads the recording window by window (plume.speech.audio) and
sends each window through the one scheduler, as a request of the task "transcribe" on the speech
engine: a long recording takes its turn window by window, with the other users' requests, on the
speech model's own slots, so the clerks' text tasks (other engines) keep answering. Segments are
written to the job's folder as they are decoded and published to whoever watches the job (SSE).

A restart leaves the jobs on disk; at start-up the unfinished ones resume from their last window.
Privacy (docs/transcription.md): the recording is deleted once transcribed (`audio_retention_hours`,
default 0); the job and its transcript `transcript_retention_hours` after it ended, or when the clerk
deletes it. Nothing of either is logged: the log and the audit log carry sizes, durations, outcomes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from plume.errors import Refusal
from plume.inference.base import ModelUnavailable
from plume.inference.errors import GenerationTimeout, QueueFull
from plume.inference.speech import SpeechOptions, segments_of
from plume.speech import audio
from plume.speech.jobs import ACTIVE, DONE, FAILED, RUNNING, STOPPED, JobRecord, JobStore, TimedSegment
from plume.speech.vocabulary import prompt_for

log = logging.getLogger("plume.speech")

TASK = "transcribe"
JOB_ROUTE = "/v1/audio/transcriptions/{job_id}"
PURGE_EVERY_S = 600
TAIL_CHARS = 200  # the end of the text so far, given to the next window as context


@dataclass(eq=False)
class Running:
    """A job being transcribed: its task, the scheduler request of the current window, its watchers."""

    task: asyncio.Task | None = None
    current: Any = None
    stop: bool = False
    deleted: bool = False
    watchers: list[asyncio.Queue] = field(default_factory=list)


class TranscriptionService:
    def __init__(self, settings: Any, inference: Any, audit: Any = None) -> None:
        self.settings = settings
        self.inference = inference
        self.audit = audit
        self.store = JobStore(Path(settings.data_dir) / "transcriptions")
        self.vocabulary_file = Path(settings.data_dir) / "vocabulaire.txt"
        self._running: dict[str, Running] = {}
        self._purger: asyncio.Task | None = None

    # -- life cycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Purge what retention no longer allows, resume the jobs a stop interrupted."""
        self.purge()
        for record in self.store.all():
            if record.status in ACTIVE:
                record.resumed += 1
                self.store.save(record)
                log.info("transcription %s resumed at %.0f s of %.0f s", record.id, record.processed_s,
                         record.duration_s)
                self.run(record)
        self._purger = asyncio.create_task(self._purge_regularly())

    async def stop(self) -> None:
        """Shutdown: stop the tasks, leave the jobs as they are on disk (they resume at the next start)."""
        if self._purger is not None:
            self._purger.cancel()
        tasks = [r.task for r in self._running.values() if r.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def purge(self) -> None:
        deleted = self.store.purge(audio_hours=self.settings.audio_retention_hours,
                                   transcript_hours=self.settings.transcript_retention_hours)
        if deleted:
            log.info("%d finished transcriptions deleted (retention)", deleted)

    async def _purge_regularly(self) -> None:
        while True:
            await asyncio.sleep(PURGE_EVERY_S)
            await anyio.to_thread.run_sync(self.purge)

    # -- jobs ----------------------------------------------------------------------------------------------

    def run(self, record: JobRecord) -> None:
        running = self._running.setdefault(record.id, Running())
        running.task = asyncio.create_task(self._transcribe(record, running))

    def get(self, job_id: str, user: str) -> JobRecord | None:
        record = self.store.get(job_id)
        return record if record is not None and record.user == user else None

    def jobs_of(self, user: str) -> list[JobRecord]:
        return [r for r in self.store.all() if r.user == user]

    def segments(self, record: JobRecord) -> list[TimedSegment]:
        return self.store.segments(record)

    def request_stop(self, record: JobRecord) -> None:
        """Stop, keeping what is done: the engine stops at its next 30-second window."""
        running = self._running.get(record.id)
        if running is None:
            return
        running.stop = True
        if running.current is not None:
            self.inference.scheduler.abandon(running.current)

    async def delete(self, record: JobRecord) -> None:
        """Stop if running, then delete the recording and the transcript."""
        running = self._running.get(record.id)
        if running is not None:
            running.deleted = True
            self.request_stop(record)
            if running.task is not None:
                await asyncio.gather(running.task, return_exceptions=True)
        self.store.delete(record.id)
        log.info("transcription %s deleted", record.id)

    async def watch(self, job_id: str) -> AsyncIterator[tuple[str, Any]]:
        """("segment", TimedSegment) for what is done, then as it comes, ("progress", {...}) after each
        step, and a last ("end", JobRecord). Reading the segments so far and subscribing happen in one
        step of the event loop, so no segment is missed or repeated."""
        record = self.store.get(job_id)
        if record is None:
            return
        queue: asyncio.Queue = asyncio.Queue()
        running = self._running.get(job_id)
        if record.status in ACTIVE and running is not None:
            running.watchers.append(queue)
        else:
            queue.put_nowait(("end", record))
        try:
            for segment in self.store.segments(record):
                yield "segment", segment
            yield "progress", progress(record)
            while True:
                kind, value = await queue.get()
                yield kind, value
                if kind == "end":
                    return
        finally:
            if running is not None and queue in running.watchers:
                running.watchers.remove(queue)

    def _publish(self, job_id: str, kind: str, value: Any) -> None:
        running = self._running.get(job_id)
        for queue in running.watchers if running else []:
            queue.put_nowait((kind, value))

    # -- transcribing ----------------------------------------------------------------------------------

    async def _transcribe(self, record: JobRecord, running: Running) -> None:
        record.status, record.started_at = RUNNING, record.started_at or time.time()
        self.store.save(record)
        try:
            await self._windows(record, running)
            self._finish(record, running, STOPPED if running.stop else DONE)
        except asyncio.CancelledError:
            raise  # shutdown: the job stays on disk as it is, and resumes at the next start
        except GenerationTimeout:
            self._finish(record, running, FAILED, "La transcription a dépassé le temps maximal et a été arrêtée ; le "
                         "texte transcrit jusque-là est gardé. Le service informatique peut augmenter "
                         "« transcription_timeout_s ».", "timeout")
        except ModelUnavailable as exc:
            self._finish(record, running, FAILED, str(exc), "model-unavailable")
        except Refusal as exc:  # not audio after all, too long, the recording gone, a refusal of the scheduler
            self._finish(record, running, FAILED, exc.detail, exc.code)
        except Exception as exc:  # noqa: BLE001 - reported on the job; only the type is logged
            log.error("transcription %s failed: %s", record.id, type(exc).__name__)
            self._finish(record, running, FAILED, "La transcription a échoué. Le service informatique peut consulter "
                         "le journal du serveur.", "engine-error")
        finally:
            self._running.pop(record.id, None)

    async def _windows(self, record: JobRecord, running: Running) -> None:
        slot = self.inference.slot_for_model(record.model, task=TASK)
        if not slot.loaded.is_set():
            await slot.loaded.wait()
        slot = self.inference.slot_for_model(record.model, task=TASK)  # raises if it failed to load
        if not self.store.audio_path(record).exists():
            raise AudioGone()
        done = self.store.rewind(record) if record.processed_s else []
        tail = " ".join(s.text for s in done[-10:])[-TAIL_CHARS:]
        vocabulary = await anyio.to_thread.run_sync(prompt_for, self.vocabulary_file, record.prompt)
        reader = audio.windows(self.store.audio_path(record), start_s=record.processed_s,
                               max_duration_s=self.settings.max_audio_duration_s)
        try:
            await self._read(record, running, slot.engine, reader, len(done), vocabulary, tail)
        finally:
            reader.close()  # closes the recording (PyAV) when the job stops before its end

    async def _read(self, record: JobRecord, running: Running, engine: Any, reader: Any, next_id: int,
                    vocabulary: str, tail: str) -> None:
        silence_before = 0.0
        while not running.stop:
            window = await anyio.to_thread.run_sync(next, reader, None)
            if window is None:
                return
            speech = await anyio.to_thread.run_sync(audio.speech_regions, window.samples)
            options = SpeechOptions(language=record.language, prompt=f"{vocabulary} {tail}".strip(),
                                    temperature=record.temperature, speech=speech, silence_before_s=silence_before)
            silence_before = window.duration_s - speech[-1][1] if speech else silence_before + window.duration_s
            async for segment in self._window(record, running, engine, window, options, next_id):
                next_id += 1
                tail = f"{tail} {segment.text}"[-TAIL_CHARS:]
            if running.stop:
                return  # stopped mid-window: what it gave is kept, the rest is not transcribed
            record.processed_s = window.end_s
            if window.last:  # what was decoded, where the container's figure was a little short (AAC padding)
                record.duration_s = max(record.duration_s, window.end_s)
            self.store.save(record)
            self._publish(record.id, "progress", progress(record))
            if window.last:
                return

    async def _window(self, record: JobRecord, running: Running, engine: Any, window: audio.Window,
                      options: SpeechOptions, next_id: int) -> AsyncIterator[TimedSegment]:
        job = await self._admit(record, engine, partial(engine.transcribe, window.samples, options))
        running.current = job
        try:
            async for chunk in self.inference.scheduler.chunks(job):
                found = [TimedSegment(id=next_id + i, start=round(window.start_s + s.start, 2),
                                      end=round(window.start_s + s.end, 2), text=s.text, paragraph=s.paragraph,
                                      tokens=s.tokens,
                                      temperature=s.temperature, avg_logprob=s.avg_logprob,
                                      compression_ratio=s.compression_ratio, no_speech_prob=s.no_speech_prob)
                         for i, s in enumerate(segments_of(chunk.text))]
                next_id += len(found)
                if running.deleted or not found:
                    continue
                self.store.append(record, found)
                for segment in found:
                    self._publish(record.id, "segment", segment)
                    yield segment
                self._publish(record.id, "progress", progress(record, found[-1].end))
        finally:
            running.current = None

    async def _admit(self, record: JobRecord, engine: Any, generate: Any) -> Any:
        """A place in the scheduler's queue for the next window; when the queue is full, wait for one
        (a long job is patient) rather than fail."""
        while True:
            try:
                return self.inference.scheduler.submit(engine=engine, task=TASK, user=record.user, generate=generate,
                                                       timeout_s=self.settings.transcription_timeout_s)
            except QueueFull as full:
                await asyncio.sleep(min(30, full.retry_after or 5))

    def _finish(self, record: JobRecord, running: Running, status: str, error: str | None = None,
                code: str | None = None) -> None:
        if running.deleted:
            return
        record.status, record.finished_at, record.error, record.error_code = status, time.time(), error, code
        if status == DONE:
            record.processed_s = record.duration_s
        self.store.save(record)
        if self.settings.audio_retention_hours <= 0:
            self.store.delete_audio(record)  # transcribed (or given up): the recording goes at once
        self._audit(record)
        log.info("transcription %s %s: %.0f s of audio, %d bytes, in %.1f s", record.id, status, record.duration_s,
                 record.audio_bytes, record.finished_at - (record.started_at or record.finished_at))
        self._publish(record.id, "end", record)

    def _audit(self, record: JobRecord) -> None:
        if self.audit is None:
            return
        status = 200 if record.status in (DONE, STOPPED) else OUTCOME_STATUS.get(record.error_code or "", 500)
        self.audit.write(user=record.user, service=record.service, method="JOB", route=JOB_ROUTE, status=status,
                         duration_ms=round(((record.finished_at or 0) - (record.started_at or 0)) * 1000, 2),
                         model=record.model, outcome=record.status, audio_seconds=round(record.duration_s, 1),
                         audio_bytes=record.audio_bytes)


class AudioGone(Refusal):
    code = "audio-gone"

    def __init__(self) -> None:
        super().__init__("L'enregistrement de cette transcription n'est plus sur le serveur (effacé pendant un arrêt) : "
                         "la transcription ne peut pas reprendre. Le texte transcrit jusque-là est gardé.")


OUTCOME_STATUS = {"audio-gone": 410, "not-audio": 415, "audio-too-long": 413, "timeout": 504, "model-unavailable": 503}


def progress(record: JobRecord, at_s: float | None = None) -> dict[str, Any]:
    done = record.duration_s if record.status == DONE else max(record.processed_s, at_s or 0.0)
    share = min(1.0, done / record.duration_s) if record.duration_s else 1.0
    return {"status": record.status, "processed": round(done, 1), "duration": round(record.duration_s, 1),
            "percent": round(100 * share, 1)}


NO_TRANSCRIPTION = ("La transcription d'enregistrements n'est pas disponible sur ce serveur : aucun modèle de "
                    "transcription n'y est installé. Le service informatique peut en ajouter un.")
NO_TRANSCRIPTION_DE = ("Die Transkription von Aufnahmen ist auf diesem Server nicht verfügbar: Es ist kein "
                       "Transkriptionsmodell installiert. Die Informatik kann eines hinzufügen.")


def transcription_capability(inference: Any, settings: Any) -> dict[str, Any]:
    """What GET /v1/capabilities says of recordings → transcript (docs/transcription.md): the speech
    models, and the limits of an upload."""
    model = inference.model_for(TASK) if inference.has_model(TASK) else None
    available = model is not None
    return {"available": available, "engines": [model] if model else [],
            "reason": None if available else NO_TRANSCRIPTION, "reason_de": None if available else NO_TRANSCRIPTION_DE,
            "formats": ["wav", "mp3", "m4a", "ogg", "webm", "flac"], "max_audio_bytes": settings.max_audio_bytes,
            "max_audio_duration_s": settings.max_audio_duration_s}
