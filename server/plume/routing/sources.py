"""Where learning finds the commune's sorting: an export of the service folders (a folder of
Maildirs, mbox files or .eml); the folders of an IMAP mailbox are read by plume.mailbox.learning_source
(read-only, as the mailbox worker connects).

Each mail comes as a `FiledMail`: a key from its headers (a hash of its Message-ID), the service of
the folder it is filed in, the service Plume had filed it under (its `Plume/…` keyword, when the
mailbox worker wrote one) and a way to read it, called only when learning needs the text (a mail
learned before and still in the same folder is never downloaded again).
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import mailbox
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from plume.mail.parse import MAX_MESSAGE_BYTES, MailMessage, parse_message
from plume.routing.directory import Directory, slug

MAX_PER_FOLDER = 5000  # the most recent mails of each folder: enough to learn, bounded in time and memory
KEY_HEADERS = ("Message-ID", "Date", "From", "Subject")


class SourceError(ValueError):
    """The source cannot be read as asked; the message says why, in French."""


@dataclass
class FiledMail:
    key: bytes
    folder: str
    service: str
    plume_service: str | None
    read: Callable[[], MailMessage] | None  # None: not fetched (already learned under this service, or too big)


# ---------------------------------------------------------------------------------- folder map
def folder_map(directory: Directory, map_file: Path | None = None) -> dict[str, str]:
    """Folder → service: the map file (`[services]` service = folder, as DATA/mail-folders.toml),
    else the directory's `folder` of each service."""
    if map_file is None:
        return directory.folders()
    try:
        data = tomllib.loads(Path(map_file).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError(f"Fichier des dossiers introuvable : {map_file}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(f"Fichier des dossiers invalide ({map_file}) : {exc}") from exc
    services = data.get("services", {})
    if not isinstance(services, dict) or not all(isinstance(v, str) for v in services.values()):
        raise SourceError(f"Fichier des dossiers invalide ({map_file}) : [services] service = \"dossier\" attendu")
    if unknown := [s for s in services if s not in directory.names]:
        raise SourceError(f"Service absent de l'annuaire dans {map_file} : {unknown[0]}")
    return {folder: service for service, folder in services.items()}


def service_of(folder: str, folders: dict[str, str], directory: Directory) -> str | None:
    """The service a folder belongs to: the map, else a service whose name, title or folder's last
    part is the folder's last part (« Voirie », « .Services.Voirie », « voirie.mbox »)."""
    wanted = slug(folder)
    for name, service in folders.items():
        if slug(name) == wanted:
            return service
    last = slug(folder.replace(".", "/").rstrip("/").rsplit("/", 1)[-1].removesuffix("-mbox"))
    for entry in directory.services:
        if last and last in {slug(entry.name), slug(entry.title), slug(entry.folder.rsplit("/", 1)[-1])}:
            return entry.name
    return None


def mail_key(headers: bytes) -> bytes:
    """A mail's identity across learnings: a hash of its Message-ID (else of its date, sender and
    subject). The hash only is kept."""
    parsed = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(headers)
    message_id = str(parsed.get("Message-ID", "") or "").strip().lower()
    basis = message_id or "|".join(str(parsed.get(h, "") or "") for h in KEY_HEADERS[1:])
    return hashlib.sha256(basis.encode("utf-8", "surrogateescape")).digest()[:16]


# ------------------------------------------------------------------------------------ exports
def path_mails(root: Path, folders: dict[str, str], directory: Directory,
               skipped: Callable[[str], None]) -> Iterator[FiledMail]:
    """The mails of an export: each Maildir, mbox file or folder of .eml under `root` whose name
    belongs to a service. `skipped` hears the folders that belong to none."""
    if not root.exists():
        raise SourceError(f"Introuvable : {root}")
    for folder, messages in _mailboxes(root):
        service = service_of(folder, folders, directory)
        if service is None:
            skipped(folder)
            continue
        for read_raw in messages[-MAX_PER_FOLDER:]:
            raw = read_raw()
            if raw is None:
                continue
            yield FiledMail(mail_key(raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]), folder, service, None,
                            lambda raw=raw, folder=folder: parse_message(raw, folder))


def _mailboxes(root: Path) -> Iterator[tuple[str, list[Callable[[], bytes | None]]]]:
    candidates = [root] + sorted(p for p in root.rglob("*") if not _inside_maildir(p, root))
    for path in candidates:
        name = _folder_name(path, root)
        if path.is_dir() and (path / "cur").is_dir():
            box = mailbox.Maildir(path, factory=None, create=False)
            yield name, [lambda box=box, key=key: _bounded(box.get_bytes(key)) for key in box.keys()]
        elif path.is_dir():
            emls = sorted(path.glob("*.eml"))
            if emls:
                yield name, [lambda p=p: _bounded_file(p) for p in emls]
        elif path.is_file() and path.suffix != ".eml" and _looks_like_mbox(path):
            box = mailbox.mbox(path, create=False)
            yield name, [lambda box=box, key=key: _bounded(box.get_bytes(key)) for key in box.keys()]


def _inside_maildir(path: Path, root: Path) -> bool:
    return any(part in ("cur", "new", "tmp") for part in path.relative_to(root).parts)


def _folder_name(path: Path, root: Path) -> str:
    """« Services/Voirie » for Services/Voirie, .Services.Voirie (Maildir++) or Services.sbd/Voirie
    (Thunderbird)."""
    parts = [p.removesuffix(".sbd") for p in path.relative_to(root).parts] or [root.name]
    return "/".join(p.lstrip(".").replace(".", "/") if p.startswith(".") else p for p in parts)


def _looks_like_mbox(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(5) == b"From "


def _bounded(raw: bytes) -> bytes | None:
    return raw if len(raw) <= MAX_MESSAGE_BYTES else None


def _bounded_file(path: Path) -> bytes | None:
    return path.read_bytes() if path.stat().st_size <= MAX_MESSAGE_BYTES else None
