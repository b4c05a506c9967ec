"""The audit log: one JSON line per request. It never holds text content or field values."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec


class AuditEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    time: str
    user: str | None
    method: str
    route: str
    status: int
    duration_ms: float
    request_bytes: int = 0
    response_bytes: int = 0
    task: str | None = None
    template: str | None = None
    model: str | None = None


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

    def read(self) -> list[AuditEntry]:
        if not self.path.exists():
            return []
        decoder = msgspec.json.Decoder(AuditEntry)
        return [decoder.decode(line) for line in self.path.read_bytes().splitlines() if line.strip()]
