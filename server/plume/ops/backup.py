"""Backup and restore of what the commune cannot rebuild: users (hashed tokens), uploaded template
versions, the template folder and the search index (a consistent SQLite snapshot, taken while the
server may be using it; a PostgreSQL index is backed up with pg_dump, docs/search.md). Models are
not included (reinstall them, see docs/models.md); the audit log is included only on request, as it
follows its own retention period."""

from __future__ import annotations

import io
import tarfile
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from plume.config import Settings
from plume.files import atomic_writer


# The commune's own settings of the tasks (triage rules, service directory, jargon lexicon, actions)
# and what `plume triage learn` learned (weights, never mails).
COMMUNE_FILES = ("triage_rules.toml", "services.toml", "mail-folders.toml", "actions.toml", "jargon_fr.toml",
                 "routing/learned.npz")


def backup(settings: Settings, target: Path, include_audit: bool = False) -> list[str]:
    # Written beside the target, flushed to disk, then renamed: a full disk, a stop or a power cut
    # never leaves half an archive under the name IT will restore from.
    with atomic_writer(target) as fh:
        return _write(settings, fh, include_audit)


def _write(settings: Settings, target: BinaryIO, include_audit: bool) -> list[str]:
    """The archive, written to `target`; returns what it holds."""
    members = []
    with tarfile.open(fileobj=target, mode="w:gz") as tar:
        if settings.users_file.exists():
            tar.add(settings.users_file, arcname="data/users.json")
            members.append("data/users.json")
        for name in COMMUNE_FILES:  # what IT and the clerks' sorting taught Plume about the commune
            if (settings.data_dir / name).exists():
                tar.add(settings.data_dir / name, arcname=f"data/{name}")
                members.append(f"data/{name}")
        uploads = settings.data_dir / "templates"
        if uploads.exists():
            tar.add(uploads, arcname="data/templates")
            members.append("data/templates/")
        if settings.templates_dir.exists():
            tar.add(settings.templates_dir, arcname="templates")
            members.append("templates/")
        scratch_parent = settings.data_dir if settings.data_dir.is_dir() else None
        with tempfile.TemporaryDirectory(dir=scratch_parent, prefix=".backup-") as scratch:
            if (index := _search_index_snapshot(settings, Path(scratch))) is not None:
                tar.add(index, arcname=f"data/{index.name}")
                members.append(f"data/{index.name}")
        if include_audit and settings.audit_file.exists():
            tar.add(settings.audit_file, arcname="data/audit.jsonl")
            members.append("data/audit.jsonl")
        stamp = f"plume-backup {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode()
        info = tarfile.TarInfo("BACKUP-INFO")
        info.size = len(stamp)
        tar.addfile(info, io.BytesIO(stamp))
    return members


def _search_index_snapshot(settings: Settings, folder: Path) -> Path | None:
    """SQLite's online backup of the search index into `folder` (under its own name), or None."""
    from plume.search.stores import SQLITE_NAME

    index = settings.data_dir / SQLITE_NAME
    if settings.search_database or not index.exists():
        return None
    from plume.search.stores.sqlite import SqliteStore

    snapshot = folder / SQLITE_NAME
    store = SqliteStore(index)
    try:
        store.backup_to(snapshot)
    finally:
        store.close()
    return snapshot


def restore(settings: Settings, source: Path) -> list[str]:
    """Unpack a backup into the data folder and the template folder. The `data` filter refuses
    absolute paths, `..`, links out of the target and device files."""
    restored = []
    with tarfile.open(source, "r:gz") as tar:
        names = tar.getnames()
        if "BACKUP-INFO" not in names:
            raise ValueError("Ce fichier n'est pas une sauvegarde Plume.")
        for prefix, target in (("data/", settings.data_dir), ("templates/", settings.templates_dir)):
            members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
            for m in members:
                m.name = m.name[len(prefix):]
            members = [m for m in members if m.name]
            if any(m.name == "search.sqlite3" for m in members):  # a stale journal must not replay onto it
                for journal in ("search.sqlite3-wal", "search.sqlite3-shm"):
                    (target / journal).unlink(missing_ok=True)
            if members:
                target.mkdir(parents=True, exist_ok=True)
                tar.extractall(target, members=members, filter="data")
                restored.append(f"{prefix} → {target}")
    return restored
