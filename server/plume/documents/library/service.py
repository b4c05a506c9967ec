"""`TemplateLibrary`: the one object the server holds for its letter models. Each call goes to the
module that owns the concern: `catalog` (what is served, behind the lock), `store` (versions on
disk), `reload` (noticing changes, preparing models), `render` (filling a letter), and
`plume.documents.pdf`. All of it blocks: the API calls the library from worker threads.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plume.documents.budget import TemplateBudgets
from plume.documents.library.catalog import Catalog, Entry, TemplateInfo, TemplateVersion
from plume.documents.library.reload import Reloader
from plume.documents.library.render import Format, RenderedDocument, render_entry
from plume.documents.library.store import (NoSpaceLeft, UploadRefused, VersionStore, check_upload_parts,
                                           checked_manifest, current_manifest, model_files, upload_name)
from plume.documents.manifest import Manifest
from plume.documents.pdf import PdfConverter
from plume.documents.values import validate
from plume.security.safezip import ZipLimits


@dataclass
class TemplateLibrary:
    templates_dir: Path
    uploads_dir: Path
    soffice: str = "soffice"
    limits: ZipLimits = field(default_factory=ZipLimits)
    max_document_bytes: int = 10 * 1024 * 1024
    pdf_timeout_s: float = 90.0
    poll_interval_s: float = 1.0
    budgets: TemplateBudgets = field(default_factory=TemplateBudgets)
    pdf_check_at_upload: bool = True  # does LibreOffice open each uploaded model? (a warning if not)

    def __post_init__(self) -> None:
        self.catalog = Catalog()
        self.store = VersionStore(self.templates_dir, self.uploads_dir)
        self.reloader = Reloader(self.catalog, self.store, self.limits, self.budgets, self.poll_interval_s)
        self.pdf = PdfConverter(self.soffice, self.pdf_timeout_s)
        self.refresh(force=True)

    @property
    def errors(self) -> dict[str, str]:
        """Templates not served, by id, and why (French)."""
        return self.catalog.errors

    @property
    def commune(self) -> dict[str, Any]:
        """templates/commune.toml, as every letter sees it (`commune.nom`…)."""
        return self.reloader.commune

    # -- reading ----------------------------------------------------------------------------
    def list(self) -> list[TemplateInfo]:
        self.refresh()
        return self.catalog.infos()

    def get(self, template_id: str) -> TemplateInfo:
        return self._entry(template_id).info

    def manifest(self, template_id: str) -> Manifest:
        return self._entry(template_id).manifest

    def validate(self, template_id: str, values: Any) -> dict[str, Any]:
        """Typed values (dates as date, amounts as Money…) or FieldErrors."""
        entry = self._entry(template_id)
        return validate(entry.manifest, values, folder=entry.folder)

    def render(self, template_id: str, values: Any, fmt: Format = "docx",
               language: str | None = None) -> RenderedDocument:
        """The letter in `language` (fr when None): its language version when the template has one in
        that format, else the French model and a warning."""
        return render_entry(self._entry(template_id), values, fmt, language, self.commune, self.budgets, self.to_pdf)

    def to_pdf(self, content: bytes, source_fmt: str) -> bytes:
        return self.pdf.convert(content, source_fmt)

    def versions(self, template_id: str) -> list[TemplateVersion]:
        return self.store.versions(template_id, current=self._entry(template_id).info.revision)

    def health(self) -> dict[str, Any]:
        # No refresh here: /health runs on the event loop and must answer while a model is prepared.
        return {"status": "ok", "count": len(self.catalog), "invalid": sorted(self.errors)}

    # -- uploads ----------------------------------------------------------------------------
    def remove_torn_uploads(self) -> int:
        """Staging folders left by a process killed mid-upload; called when the server starts."""
        return self.store.remove_torn()

    def upload(self, template_id: str, file_name: str | None, data: bytes | None, manifest: bytes | None = None,
               user: str | None = None, language: str | None = None,
               images: list[tuple[str, bytes]] | None = None) -> TemplateVersion:
        """Check, lint and store a new version; the previous ones stay as they are. Without a file,
        the new version is the current models with the new template.toml. The file is a language
        version (model.de.docx…) when `language` says so or when it is named model.<code>.docx/.odt.
        `images`: picture files (name, bytes) the template's `image` fields may name (logo.png…);
        the current version's pictures are carried over unless a file of the same name is sent."""
        images = images or []
        check_upload_parts(template_id, file_name, data, manifest, language, images, self.max_document_bytes,
                           self.limits)
        self.refresh(force=True)
        current = self.catalog.current(template_id)
        if data is None and current is None:
            raise UploadRefused(f"Le modèle « {template_id} » est nouveau : joignez aussi son fichier "
                                ".docx ou .odt (partie « file »).")
        manifest = manifest if manifest is not None else current_manifest(template_id, current)
        checked_manifest(template_id, manifest)
        model_name = upload_name(file_name, language) if data is not None else None
        try:
            number = self.store.add(template_id, current, model_name, data, manifest, user, images, self.commune,
                                    self.budgets, warn=self._pdf_warnings if self.pdf_check_at_upload else None)
            self.refresh(force=True)
            return next(v for v in self.versions(template_id) if v.revision == number)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise NoSpaceLeft("Espace disque insuffisant sur le serveur : la nouvelle version n'a pas "
                                  "été enregistrée ; la version en place est conservée.") from None
            raise

    def _pdf_warnings(self, folder: Path) -> list[str]:
        """For each model of a staged version that LibreOffice cannot open (so no PDF of its letters)."""
        return [f"{name} : {warning}" for name in model_files(folder) if name != "template.toml"
                and (warning := self.pdf.check((folder / name).read_bytes(), Path(name).suffix[1:]))]

    # -- loading ----------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        """Pick up added, changed and removed templates (reload.Reloader.refresh)."""
        self.reloader.refresh(force)

    def _entry(self, template_id: str) -> Entry:
        self.refresh()
        return self.catalog.entry(template_id)
