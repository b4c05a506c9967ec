"""What the worker remembers about one account, in DATA/mail/<account>.json: UIDVALIDITY and the last
UID done per folder, totals, the last errors, and today's counts until they go to the audit log.
No content: folder names, UIDs, counts, dates and error types only."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec

from plume.config import MailAccount, Settings
from plume.files import atomic_write
from plume.mailbox.sorting import keyword
from plume.security.audit import AuditEntry, AuditLog

log = logging.getLogger("plume.mail")


class State:
    """One account's state file, read when made and written by `save` (atomically: a crash leaves
    the previous state, and the Plume/trie keywords keep messages from being redone)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.data = {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            # A damaged state file: start over; the Plume/trie keywords keep messages from being redone.
            log.warning("état du courrier illisible (%s) : recommencé, les mots-clés évitent les doublons", path.name)
            self.data = {}
        for key, empty in (("folders", {}), ("totals", {}), ("errors", []), ("daily", {})):
            self.data.setdefault(key, empty)

    def folder(self, name: str) -> dict[str, int]:
        return self.data["folders"].setdefault(name, {"uidvalidity": 0, "last_uid": 0})

    def save(self) -> None:
        atomic_write(self.path, json.dumps(self.data, ensure_ascii=False, indent=1))

    def error(self, folder: str, uid: int | None, what: str) -> None:
        self.data["errors"] = (self.data["errors"] + [
            {"time": now(), "folder": folder, "uid": uid, "error": what}])[-20:]

    def count_daily(self, task: str, service: str, priority: str = "") -> None:
        day = self.data["daily"].setdefault(date.today().isoformat(), {})
        key = f"{task}|{service}|{priority}"
        day[key] = day.get(key, 0) + 1


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def state_path(settings: Settings, account: MailAccount) -> Path:
    return settings.data_dir / "mail" / f"{keyword(account.label, '')}.json"


def flush_daily(state: State, audit: AuditLog, account: str, before: date) -> int:
    """One audit line per day, service and priority (triage) or service (acknowledgement), for the
    days before `before`: the usage report counts them. Returns how many lines were written."""
    written = 0
    for day in sorted(d for d in state.data["daily"] if d < before.isoformat()):
        for key, n in sorted(state.data["daily"][day].items()):
            task, service, priority = key.split("|")
            entry = AuditEntry(time=f"{day}T23:59:59.000+00:00", user=f"mail:{account}", service=service,
                               method="IMAP", route="imap:daily", status=200, duration_ms=0.0, task=task,
                               priority=priority or None, count=n)
            with audit._lock, open(audit.path, "ab") as fh:
                fh.write(msgspec.json.encode(entry) + b"\n")
            written += 1
        del state.data["daily"][day]
    return written
