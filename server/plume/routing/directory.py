"""The commune's service directory (services.toml): who handles what, which folder holds each
service's mail, and the rules IT pinned (a sender, a domain or a phrase that always decides).

The shipped one (routing/data/services.toml) describes a Swiss French-speaking commune's usual
services; the commune's own copy in DATA/services.toml replaces it (docs/triage.md).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import cache
from pathlib import Path

import msgspec

from plume.mail.parse import MailMessage

DEFAULT_DIRECTORY = Path(__file__).parent / "data" / "services.toml"
FILE_NAME = "services.toml"


class ServiceEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    title: str = ""
    folder: str = ""          # the mailbox folder the clerks file this service's mail in
    duties: str = ""          # a few lines: what the service handles
    subjects: list[str] = []  # typical subjects, as residents write them, in the languages received


class Pin(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A rule IT pinned: these senders (an address, or `@domain`) or phrases always go to `service`."""
    service: str
    senders: list[str] = []
    phrases: list[str] = []


class Directory(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    services: list[ServiceEntry]
    pins: list[Pin] = []
    confirm_below: float = 0.6  # a service proposed with less confidence is shown « à confirmer »

    def __post_init__(self) -> None:
        names = [s.name for s in self.services]
        if not names:
            raise msgspec.ValidationError("l'annuaire doit compter au moins un service")
        if len(set(names)) != len(names):
            raise msgspec.ValidationError("un service figure deux fois dans l'annuaire")
        if unknown := [p.service for p in self.pins if p.service not in names]:
            raise msgspec.ValidationError(f"règle épinglée vers un service absent de l'annuaire : {unknown[0]}")
        if not 0 < self.confirm_below < 1:
            raise msgspec.ValidationError("confirm_below doit être compris entre 0 et 1")

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.services]

    def service(self, name: str) -> ServiceEntry | None:
        return next((s for s in self.services if s.name == name), None)

    def descriptions(self) -> list[tuple[str, str]]:
        """(service, text) for each duty paragraph and typical subject: what a mail is compared to."""
        pairs = []
        for entry in self.services:
            texts = ([" ".join(entry.duties.split())] if entry.duties.strip() else []) + entry.subjects
            pairs += [(entry.name, text) for text in texts if text.strip()] or [(entry.name, entry.title or entry.name)]
        return pairs

    def prompt_text(self) -> str:
        """The directory as the model reads it: one line per service with its duties."""
        return "\n".join(f"- {s.name} : {' '.join(s.duties.split()) or s.title or s.name}" for s in self.services)

    def folders(self) -> dict[str, str]:
        """Folder → service, from the `folder` of each service."""
        return {s.folder: s.name for s in self.services if s.folder}


class DirectoryError(ValueError):
    """The directory cannot be read; the message names the file and the problem, in French."""


def directory_path(data_dir: Path) -> Path:
    """The commune's own directory when it has one, else the shipped one."""
    own = Path(data_dir) / FILE_NAME
    return own if own.exists() else DEFAULT_DIRECTORY


def load_directory(path: Path | None = None) -> Directory:
    path = Path(path or DEFAULT_DIRECTORY)
    return _load_cached(path, path.stat().st_mtime if path.exists() else 0)


@cache
def _load_cached(path: Path, _mtime: float) -> Directory:
    try:
        return msgspec.convert(tomllib.loads(path.read_text(encoding="utf-8")), Directory)
    except FileNotFoundError as exc:
        raise DirectoryError(f"Annuaire des services introuvable : {path}") from exc
    except (tomllib.TOMLDecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise DirectoryError(f"Annuaire des services invalide ({path}) : {exc}") from exc


# ------------------------------------------------------------------------------------------ pins
def pinned(directory: Directory, mail: MailMessage) -> tuple[str, str] | None:
    """(service, why) when a rule IT pinned decides for this mail, else None. Senders first."""
    address = mail.sender_address.lower()
    for pin in directory.pins:
        for sender in pin.senders:
            wanted = sender.strip().lower()
            if wanted and (address == wanted or (wanted.startswith("@") and address.endswith(wanted))):
                return pin.service, f"expéditeur épinglé ({wanted})"
    text = fold(f"{mail.subject}\n{mail.body}")
    for pin in directory.pins:
        for phrase in pin.phrases:
            if phrase.strip() and re.search(r"(?<!\w)" + re.escape(fold(phrase)), text):
                return pin.service, f"expression épinglée (« {phrase} »)"
    return None


def fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower().replace("’", "'")


def slug(text: str) -> str:
    """Case, accents and punctuation dropped: « Écoles » and « ecoles » are one folder name."""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")
