"""Sequential acknowledgement references AR-<year>-0001, AR-<year>-0002… kept in a small JSON file in
the data folder: the same message keeps its number, two messages never share one. Only fingerprints
and numbers are stored. One book per server (plume.services), shared by the route and the mailbox."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import date
from pathlib import Path

from plume.files import atomic_write
from plume.mail.parse import MailMessage

FILE_NAME = "acknowledgement-references.json"


def message_key(mail: MailMessage) -> str:
    """A fingerprint of the message (never its text) so the same e-mail keeps its reference."""
    key = f"{mail.sender_address}|{mail.subject}|{mail.date.isoformat() if mail.date else ''}|{mail.body[:500]}"
    return hashlib.sha256(key.encode()).hexdigest()


def reference_for(mail: MailMessage, received: date) -> str:
    """AR-<year>-<4 digits> from the fingerprint, when no reference book is kept."""
    return f"AR-{received.year}-{int(message_key(mail), 16) % 10_000:04d}"


class ReferenceBook:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def in_folder(cls, data_dir: Path) -> ReferenceBook:
        return cls(Path(data_dir) / FILE_NAME)

    def reference(self, mail: MailMessage, received: date) -> str:
        key, year = message_key(mail), str(received.year)
        with self._lock:
            book = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
            numbers = book.setdefault(year, {"last": 0, "keys": {}})
            if key not in numbers["keys"]:
                numbers["last"] += 1
                numbers["keys"][key] = numbers["last"]
                atomic_write(self.path, json.dumps(book))
            return f"AR-{year}-{numbers['keys'][key]:04d}"
