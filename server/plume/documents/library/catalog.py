"""What the library offers: each template being served, as the API describes it, behind the
library's lock.

`Catalog.lock` guards the served entries and the load errors, and nothing else. It is held for
dictionary reads and swaps, and by `reload` while it looks (stat only) for what changed on disk;
never while a model is prepared (another process, `reload`) nor while a version is written
(`store`). Preparing runs one refresh at a time behind a second lock, `Reloader._refreshing`
(reload.py): a forced refresh (server start, upload) waits there for the one under way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec

from plume.documents.base import PreparedTemplate
from plume.documents.manifest import BASE_LANGUAGE, Manifest
from plume.errors import NotFound


class FieldInfo(msgspec.Struct, kw_only=True):
    name: str
    label: str
    type: str
    required: bool
    help: str = ""
    example: Any = None
    choices: list[str] = msgspec.field(default_factory=list)
    columns: list[dict[str, Any]] = msgspec.field(default_factory=list)


class TemplateInfo(msgspec.Struct, kw_only=True):
    id: str
    title: str
    category: str
    service: str
    owner: str
    version: str
    description: str
    formats: list[str]
    fields: list[FieldInfo]
    revision: int = 0          # 0 = the repo copy, N = uploaded version vN
    # The languages a letter can be written in: "fr" (model.docx / model.odt) first, then each
    # language version (model.de.docx…); `language_formats` says in which formats each exists.
    languages: list[str] = msgspec.field(default_factory=lambda: [BASE_LANGUAGE])
    language_formats: dict[str, list[str]] = msgspec.field(default_factory=dict)


class TemplateVersion(msgspec.Struct, kw_only=True):
    revision: int
    source: Literal["dépôt", "téléversement"]
    current: bool
    files: list[str]
    uploaded_at: str | None = None
    uploaded_by: str | None = None
    sha256: str | None = None
    # What the owner should know of this version, in French (e.g. LibreOffice cannot make its PDF).
    warnings: list[str] = msgspec.field(default_factory=list)


class TemplateNotFound(NotFound, KeyError):
    code = "template-not-found"

    def __init__(self, template_id: str) -> None:
        super().__init__(f"Le modèle « {template_id} » n'existe pas.")
        self.template_id = template_id

    def __reduce__(self) -> tuple:
        return (TemplateNotFound, (self.template_id,))


@dataclass
class Entry:
    """One template being served: its description, manifest, prepared models by key ("docx",
    "de.odt"…), the folder they came from and that folder's signature when they were prepared."""

    info: TemplateInfo
    manifest: Manifest
    prepared: dict[str, PreparedTemplate]
    folder: Path
    signature: tuple


def describe(template_id: str, manifest: Manifest, keys: list[str], revision: int) -> TemplateInfo:
    """The template as the API lists it, from its manifest and the keys of its prepared models."""
    fields = [FieldInfo(name=f.name, label=f.label or f.name, type=f.type, required=f.required, help=f.help,
                        example=f.example, choices=list(f.choices),
                        columns=[msgspec.to_builtins(c) for c in f.columns]) for f in manifest.fields]
    formats = [key for key in keys if "." not in key]
    by_language = {BASE_LANGUAGE: formats}
    for code in manifest.translations:
        if own := [key.split(".")[1] for key in keys if key.startswith(f"{code}.")]:
            by_language[code] = own
    return TemplateInfo(id=template_id, title=manifest.title, category=manifest.category, service=manifest.service,
                        owner=manifest.owner, version=manifest.version, description=manifest.description,
                        formats=[*formats, "pdf"], fields=fields, revision=revision, languages=list(by_language),
                        language_formats=by_language)


class Catalog:
    """The entries being served and the templates that failed to load, by id."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # guards _entries, errors, _error_sigs; never held while preparing
        self._entries: dict[str, Entry] = {}
        self.errors: dict[str, str] = {}            # id → why it is not served (French)
        self._error_sigs: dict[str, tuple] = {}     # id → signature of the files that failed

    def __len__(self) -> int:
        return len(self._entries)

    def infos(self) -> list[TemplateInfo]:
        with self.lock:
            infos = [e.info for e in self._entries.values()]
        return sorted(infos, key=lambda i: (i.category, i.title))

    def entry(self, template_id: str) -> Entry:
        entry = self._entries.get(template_id)
        if entry is None:
            raise TemplateNotFound(template_id)
        return entry

    def current(self, template_id: str) -> Entry | None:
        with self.lock:
            return self._entries.get(template_id)

    def changes(self, found: dict[str, tuple[Path, int]], signature_of) -> list[tuple[str, Path, int, tuple]]:
        """Forget the templates no longer `found`; return those whose files changed (id, folder,
        revision, signature). Called under `lock`: `signature_of(folder)` only stats files."""
        for template_id in list(self._entries):
            if template_id not in found:
                del self._entries[template_id]
        for template_id in list(self.errors):
            if template_id not in found:
                del self.errors[template_id]
                self._error_sigs.pop(template_id, None)
        changed = []
        for template_id, (folder, revision) in found.items():
            signature = (str(folder), signature_of(folder))
            entry = self._entries.get(template_id)
            if entry is not None and entry.signature == signature:
                continue
            if self._error_sigs.get(template_id) == signature:
                continue  # still the same broken files: already reported
            changed.append((template_id, folder, revision, signature))
        return changed

    def serve(self, template_id: str, entry: Entry) -> None:
        with self.lock:
            self.errors.pop(template_id, None)
            self._error_sigs.pop(template_id, None)
            self._entries[template_id] = entry

    def refuse(self, template_id: str, reason: str, signature: tuple) -> None:
        """The template's files cannot be served: it is listed in `errors` until they change."""
        with self.lock:
            self.errors[template_id] = reason
            self._error_sigs[template_id] = signature
            self._entries.pop(template_id, None)
