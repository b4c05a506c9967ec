"""Transcription jobs on disk: one folder per job under `data/transcriptions/`, readable by the
server's account only (0700).

    <id>/job.json        the job's state (JobRecord), rewritten atomically at each step
    <id>/audio.<ext>     the recording, deleted once transcribed (or after `audio_retention_hours`)
    <id>/segments.jsonl  the transcript so far, one segment per line, appended as it is decoded

A job survives a restart of the server: the segments and `processed_s` (the end of the last window
transcribed) say where to resume. The folder holds the clerk's words (the audio, then the transcript):
it is deleted when the clerk deletes the job, and `transcript_retention_hours` after it ended.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path

import msgspec

from plume.files import atomic_write

QUEUED, RUNNING, DONE, STOPPED, FAILED = "queued", "running", "done", "stopped", "failed"
ACTIVE = (QUEUED, RUNNING)
FINISHED = (DONE, STOPPED, FAILED)


class TimedSegment(msgspec.Struct, kw_only=True):
    """A segment of the transcript, in seconds from the start of the recording."""

    id: int
    start: float
    end: float
    text: str
    paragraph: bool = False  # a pause comes before it: a new paragraph starts here
    tokens: list[int] = []
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0


class JobRecord(msgspec.Struct, kw_only=True):
    id: str
    user: str
    service: str | None = None
    model: str
    language: str
    prompt: str = ""  # the request's own prompt, kept to resume with it
    temperature: float | None = None
    status: str = QUEUED
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float
    audio_bytes: int
    audio_suffix: str = ""
    processed_s: float = 0.0  # transcribed up to here (a window boundary): where a restart resumes
    resumed: int = 0  # how many times a restart picked it up again
    error: str | None = None  # French, never the clerk's words
    error_code: str | None = None


_encode = msgspec.json.Encoder().encode
_record = msgspec.json.Decoder(JobRecord).decode
_segment = msgspec.json.Decoder(TimedSegment).decode


class JobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)

    # -- creating and reading ------------------------------------------------------------------------

    def new_folder(self) -> tuple[str, Path]:
        """A folder for an upload that is not yet a job (it becomes one with `create`)."""
        job_id = "tr_" + secrets.token_urlsafe(18)  # unguessable: the id is the only handle on the job
        folder = self.root / job_id
        folder.mkdir(mode=0o700)
        return job_id, folder

    def create(self, record: JobRecord) -> JobRecord:
        self.save(record)
        return record

    def save(self, record: JobRecord) -> None:
        atomic_write(self.root / record.id / "job.json", _encode(record), mode=0o600)

    def get(self, job_id: str) -> JobRecord | None:
        if not _well_formed(job_id):
            return None
        try:
            return _record((self.root / job_id / "job.json").read_bytes())
        except (OSError, msgspec.DecodeError):
            return None

    def all(self) -> list[JobRecord]:
        records = []
        for folder in sorted(self.root.iterdir()):
            record = self.get(folder.name) if folder.is_dir() else None
            if record is not None:
                records.append(record)
        return records

    def audio_path(self, record: JobRecord) -> Path:
        return self.root / record.id / f"audio{record.audio_suffix}"

    # -- the transcript ----------------------------------------------------------------------------

    def append(self, record: JobRecord, segments: list[TimedSegment]) -> None:
        fd = os.open(self.root / record.id / "segments.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "ab") as fh:
            fh.write(b"".join(_encode(s) + b"\n" for s in segments))

    def segments(self, record: JobRecord) -> list[TimedSegment]:
        path = self.root / record.id / "segments.jsonl"
        if not path.exists():
            return []
        found = []
        for line in path.read_bytes().splitlines():
            try:
                found.append(_segment(line))
            except msgspec.DecodeError:
                break  # a line torn by a crash: what follows it is redone from the checkpoint
        return found

    def rewind(self, record: JobRecord) -> list[TimedSegment]:
        """Keep only the segments before the checkpoint (a window cut short by a restart is redone)."""
        kept = [s for s in self.segments(record) if s.start < record.processed_s]
        atomic_write(self.root / record.id / "segments.jsonl", b"".join(_encode(s) + b"\n" for s in kept), mode=0o600)
        return kept

    # -- deleting ------------------------------------------------------------------------------------

    def delete_audio(self, record: JobRecord) -> None:
        self.audio_path(record).unlink(missing_ok=True)

    def delete(self, job_id: str) -> None:
        if _well_formed(job_id):
            shutil.rmtree(self.root / job_id, ignore_errors=True)

    def purge(self, *, audio_hours: float, transcript_hours: float, now: float | None = None) -> int:
        """Delete what the retention settings no longer allow: the audio of finished jobs older than
        `audio_hours`, whole finished jobs older than `transcript_hours`, and upload folders that never
        became a job (an upload cut off by a crash). Returns how many jobs were deleted whole."""
        now = now or time.time()
        deleted = 0
        for folder in list(self.root.iterdir()):
            if not folder.is_dir():
                continue
            record = self.get(folder.name)
            if record is None:
                if now - folder.stat().st_mtime > 3600:  # an upload in progress is younger than that
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            if record.status not in FINISHED or record.finished_at is None:
                continue
            age_h = (now - record.finished_at) / 3600
            if age_h >= transcript_hours:
                self.delete(record.id)
                deleted += 1
            elif age_h >= audio_hours:
                self.delete_audio(record)
        return deleted


def _well_formed(job_id: str) -> bool:
    return job_id.startswith("tr_") and len(job_id) < 64 and all(c.isalnum() or c in "_-" for c in job_id)
