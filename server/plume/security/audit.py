"""The audit log: one JSON line per request. It never holds text content or field values."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from plume.files import atomic_write


class AuditEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    time: str
    user: str | None
    service: str | None = None
    method: str
    route: str
    status: int
    duration_ms: float
    request_bytes: int = 0
    response_bytes: int = 0
    task: str | None = None
    template: str | None = None
    model: str | None = None
    request_id: str | None = None  # the id a task response carried (or, on /v1/usage/inserted, the one inserted)
    # Mail worker lines (plume mail): a folder name, an outcome, a priority and how many messages.
    folder: str | None = None
    outcome: str | None = None
    priority: str | None = None
    count: int = 1
    # Search lines: the collections searched, how many hits, the question's length (never the question).
    collections: list[str] | None = None
    hits: int | None = None
    query_chars: int | None = None
    # Transcriptions: the recording's length and size, never its content or its file name.
    audio_seconds: float | None = None
    audio_bytes: int | None = None


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, **fields: Any) -> None:
        entry = AuditEntry(time=datetime.now(UTC).isoformat(timespec="milliseconds"), **fields)
        line = msgspec.json.encode(entry) + b"\n"
        with self._lock, open(self.path, "ab") as fh:
            fh.write(line)

    def purge(self, retention_days: int, now: datetime | None = None) -> int:
        """Drop lines older than the retention period (nLPD: keep no longer than needed).
        Rewrites the file atomically; returns how many lines were dropped."""
        if not self.path.exists():
            return 0
        cutoff = ((now or datetime.now(UTC)) - timedelta(days=retention_days)).isoformat()
        with self._lock:
            lines = self.path.read_bytes().splitlines(keepends=True)
            kept = [line for line in lines if line.strip() and _time_of(line) >= cutoff]
            if len(kept) == len(lines):
                return 0
            atomic_write(self.path, b"".join(kept))
        return len(lines) - len(kept)

    def read(self) -> list[AuditEntry]:
        if not self.path.exists():
            return []
        decoder = msgspec.json.Decoder(AuditEntry)
        entries = []
        for line in self.path.read_bytes().split(b"\n"):
            try:
                entries.append(decoder.decode(line))
            except msgspec.DecodeError:
                continue  # a line torn by a crash mid-write is skipped, not fatal to the report
        return entries


def _time_of(line: bytes) -> str:
    try:
        return msgspec.json.decode(line)["time"]
    except (msgspec.DecodeError, KeyError, TypeError):
        return ""  # an unreadable line is older than any cutoff: purged
