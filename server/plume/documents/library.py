"""The template library: every letter model the server offers, prepared once and kept current.

Two sources: the repo's `templates/<id>/` and uploaded versions in `<data>/templates/<id>/v<N>/`;
the newest uploaded version of an id wins over the repo copy. Versions are whole snapshots
(template.toml, models, the picture files `image` fields name), written under a staging name and
renamed into place, so a half-written version is never seen and an existing one is never overwritten.

A template may carry versions of its model in other languages: `model.de.docx`, `model.it.odt`…
beside the French `model.docx` / `model.odt`, each language declared in template.toml
(`translations = ["de", "it"]`). A render asks for a language; a format that has no version in it
gets the French model and a warning that says so.

A change on disk is noticed by a cheap stat of the folders, at most once a second, when the library
is used; only templates whose files changed are prepared again.

Preparing and checking a model run in a separate process with a time and memory budget
(`plume.documents.budget.isolated`), outside the library's lock: the new entry is swapped in under
the lock once ready. Renders are bounded by the sandbox and their `TemplateBudgets`. All of this is
blocking work: the API calls the library from worker threads.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import msgspec

from plume.documents import FORMATS, FormatUnavailable, prepare
from plume.documents.base import Finding, PreparedTemplate, RenderFailed, TemplateInvalid
from plume.documents.budget import BudgetExceeded, SizeBudgetExceeded, TemplateBudgets, isolated, spending
from plume.documents.formatting import letter_language, plain_environment
from plume.documents.images import MAX_IMAGE_BYTES, MAX_TEMPLATE_IMAGES, ImageInvalid, is_image_name, template_image
from plume.documents.lint import lint_template
from plume.documents.manifest import (BASE_LANGUAGE, LANGUAGE_CODE, MODEL_FILE, TEMPLATE_ID, Manifest, ManifestError,
                                      load_manifest, model_key, parse_manifest)
from plume.documents.qrbill import qrbill_context
from plume.documents.values import FieldErrors, validate
from plume.errors import Refusal
from plume.security.safezip import DocumentTooLarge, UnsafeDocument, ZipLimits, check_upload

log = logging.getLogger("plume.templates")

Format = Literal["docx", "odt", "pdf"]
WARNING_HEADER = "X-Plume-Warning"
_VERSION_DIR = re.compile(r"\Av(\d+)\Z")


# -- what other modules see ---------------------------------------------------------------------

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


@dataclass
class RenderedDocument:
    content: bytes
    filename: str
    media_type: str
    language: str = BASE_LANGUAGE                       # the language of the model that was filled
    warnings: list[str] = field(default_factory=list)   # e.g. no version in the language asked for

    def content_disposition(self) -> str:
        ascii_name = ascii_filename(self.filename)
        return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(self.filename, safe='')}"

    def headers(self) -> dict[str, str]:
        """Content-Disposition, Content-Language (the letter's language) and, when the letter is not in
        the language asked for, X-Plume-Warning: the French warning, percent-encoded UTF-8 (a header
        carries ASCII only; `decodeURIComponent` / `urllib.parse.unquote` read it back)."""
        headers = {"Content-Disposition": self.content_disposition(), "Content-Language": self.language}
        if self.warnings:
            headers[WARNING_HEADER] = quote(" ".join(self.warnings), safe="")
        return headers


class TemplateNotFound(KeyError):
    def __init__(self, template_id: str) -> None:
        super().__init__(template_id)
        self.template_id = template_id
        self.detail = f"Le modèle « {template_id} » n'existe pas."


class PdfUnavailable(FormatUnavailable):
    """The PDF cannot be made now (no LibreOffice, too slow, failed): the API answers 503."""


class UploadRefused(Refusal):
    """A new version refused; nothing was stored. `findings`: the lint's errors, when that is why
    (422 unless a subclass says otherwise, plume.api.problems.STATUS)."""

    code = "upload-refused"

    def __init__(self, detail: str, findings: list[Finding] | None = None) -> None:
        super().__init__(detail, findings=[f.to_dict() for f in findings or []])


class UploadTooLarge(UploadRefused):
    """The file, a picture or the model it makes is over its size limit (413)."""


class UploadNotAModel(UploadRefused):
    """The file is not a .docx or .odt model (415)."""


class NoSpaceLeft(UploadRefused):
    """The server's disk is full: the new version was not stored (507)."""


__all__ = ["TemplateLibrary", "TemplateInfo", "FieldInfo", "RenderedDocument", "TemplateVersion",
           "TemplateNotFound", "FieldErrors", "FormatUnavailable", "PdfUnavailable", "UploadRefused", "UploadTooLarge",
           "UploadNotAModel", "NoSpaceLeft", "RenderFailed"]


# -- the library ---------------------------------------------------------------------------------

@dataclass
class _Entry:
    info: TemplateInfo
    manifest: Manifest
    prepared: dict[str, PreparedTemplate]
    folder: Path
    signature: tuple


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

    def __post_init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self.errors: dict[str, str] = {}
        self._error_sigs: dict[str, tuple] = {}
        self.commune: dict[str, Any] = {}
        self._commune_sig: tuple = ()
        self._lock = threading.RLock()       # guards the entries; never held while preparing
        self._refreshing = threading.Lock()  # one refresh at a time; others keep the current entries
        self._checked = 0.0
        self._pdf_slots = threading.BoundedSemaphore(2)
        self.refresh(force=True)

    # -- reading ----------------------------------------------------------------------------
    def list(self) -> list[TemplateInfo]:
        self.refresh()
        with self._lock:
            infos = [e.info for e in self._entries.values()]
        return sorted(infos, key=lambda i: (i.category, i.title))

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
        entry = self._entry(template_id)
        if fmt not in FORMATS:
            raise FormatUnavailable(f"Format « {fmt} » inconnu : docx, odt ou pdf.")
        language = (language or BASE_LANGUAGE).strip().lower()
        if not LANGUAGE_CODE.match(language):
            raise FormatUnavailable(f"Langue « {language[:20]} » inconnue : indiquez un code de langue comme fr, de, "
                                    "it ou en.")
        typed = validate(entry.manifest, values, folder=entry.folder)
        context = {**typed, "today": date.today(), "commune": self.commune}
        context.update(qrbill_context(entry.manifest, context))  # the Swiss QR-bill, when [qrbill] asks
        source_fmt, used, warnings = _source(entry, fmt, language)
        prepared = entry.prepared.get(source_fmt if used == BASE_LANGUAGE else f"{used}.{source_fmt}")
        if prepared is None:
            raise FormatUnavailable(f"Le modèle « {template_id} » n'existe pas au format {fmt}.")
        # The letter and its file name share one budget; its dates are written in its language.
        with spending(self.budgets), letter_language(used):
            content = prepared.render(context, self.budgets)
            name = self._filename(entry, context)
        if fmt == "pdf":
            content = self.to_pdf(content, source_fmt)
        return RenderedDocument(content=content, filename=f"{name}.{fmt}", media_type=FORMATS[fmt], language=used,
                                warnings=warnings)

    def versions(self, template_id: str) -> list[TemplateVersion]:
        current = self._entry(template_id).info.revision
        result = []
        repo = self.templates_dir / template_id
        if (repo / "template.toml").exists():
            result.append(TemplateVersion(revision=0, source="dépôt", current=current == 0, files=_version_files(repo)))
        for number, folder in self._uploaded_versions(template_id):
            meta = _read_json(folder / "upload.json")
            result.append(TemplateVersion(revision=number, source="téléversement", current=current == number,
                                          files=_version_files(folder), uploaded_at=meta.get("uploaded_at"),
                                          uploaded_by=meta.get("uploaded_by"), sha256=meta.get("sha256")))
        return result

    def health(self) -> dict[str, Any]:
        # No refresh here: /health runs on the event loop and must answer while a model is prepared.
        return {"status": "ok", "count": len(self._entries), "invalid": sorted(self.errors)}

    # -- uploads ----------------------------------------------------------------------------
    def remove_torn_uploads(self) -> int:
        """Staging folders left by a process killed mid-upload (never versions); called when the
        server starts, when no upload of its own can be under way. Returns how many were removed."""
        torn = list(self.uploads_dir.glob("*/.staging-*")) if self.uploads_dir.is_dir() else []
        for folder in torn:
            shutil.rmtree(folder, ignore_errors=True)
        return len(torn)

    def upload(self, template_id: str, file_name: str | None, data: bytes | None, manifest: bytes | None = None,
               user: str | None = None, language: str | None = None,
               images: list[tuple[str, bytes]] | None = None) -> TemplateVersion:
        """Check, lint and store a new version; the previous ones stay as they are. Without a file,
        the new version is the current models with the new template.toml. The file is a language
        version (model.de.docx…) when `language` says so or when it is named model.<code>.docx/.odt.
        `images`: picture files (name, bytes) the template's `image` fields may name (logo.png…);
        the current version's pictures are carried over unless a file of the same name is sent."""
        images = images or []
        if language and not (LANGUAGE_CODE.match(language.strip().lower())):
            raise UploadRefused("Langue invalide : indiquez un code de langue comme de, it ou en.")
        if not TEMPLATE_ID.match(template_id):
            raise UploadRefused("Identifiant de modèle invalide : lettres minuscules, chiffres et tirets.")
        if data is None and manifest is None and not images:
            raise UploadRefused("Joignez le modèle (partie « file », .docx ou .odt) et/ou son template.toml "
                                     "(partie « manifest »).")
        _check_images(images)
        suffix = None
        if data is not None:
            suffix = Path(file_name or "").suffix.lower()
            if suffix not in (".docx", ".odt"):
                raise UploadNotAModel("Le fichier doit être un modèle .docx ou .odt.")
            if len(data) > self.max_document_bytes:
                raise UploadTooLarge("Le document dépasse la taille autorisée.")
            try:
                check_upload(data, self.limits)
            except UnsafeDocument as exc:
                raise refused_document(exc) from None
        if manifest is not None and len(manifest) > 1024 * 1024:
            raise UploadTooLarge("Le fichier template.toml dépasse la taille autorisée.")
        self.refresh(force=True)
        with self._lock:
            current = self._entries.get(template_id)
        if data is None and current is None:
            raise UploadRefused(f"Le modèle « {template_id} » est nouveau : joignez aussi son fichier "
                                     ".docx ou .odt (partie « file »).")
        manifest = manifest if manifest is not None else self._current_manifest_bytes(template_id, current)
        try:
            parsed = parse_manifest(manifest)
        except ManifestError as exc:
            raise UploadRefused(str(exc)) from None
        if parsed.id != template_id:
            raise UploadRefused(f"template.toml déclare l'identifiant « {parsed.id} », "
                                     f"mais l'adresse vise « {template_id} ».")
        try:
            return self._store(template_id, current, _upload_name(file_name, suffix, language), data, manifest, user,
                               images)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                raise NoSpaceLeft("Espace disque insuffisant sur le serveur : la nouvelle version n'a pas "
                                         "été enregistrée ; la version en place est conservée.") from None
            raise

    def _current_manifest_bytes(self, template_id: str, current: _Entry | None) -> bytes:
        if current is None:
            raise UploadRefused(f"Le modèle « {template_id} » est nouveau : joignez son template.toml "
                                     "(partie « manifest »).")
        return (current.folder / "template.toml").read_bytes()

    def _store(self, template_id: str, current: _Entry | None, model_name: str | None, data: bytes | None,
               manifest: bytes, user: str | None, images: list[tuple[str, bytes]]) -> TemplateVersion:
        base = self.uploads_dir / template_id
        base.mkdir(parents=True, exist_ok=True)
        # Leftovers of a killed upload are removed at start (remove_torn_uploads), never here: another
        # upload of the same template may be staging right now.
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=base))
        try:
            if current is not None:  # a version is a full snapshot: keep the other format's model, the pictures
                for name in _model_files(current.folder) + _image_files(current.folder):
                    shutil.copy2(current.folder / name, staging / name)
            if data is not None:
                (staging / model_name).write_bytes(data)
            for name, picture in images:
                (staging / name).write_bytes(picture)
            if len(_image_files(staging)) > MAX_TEMPLATE_IMAGES:
                raise UploadRefused(f"Un modèle compte au plus {MAX_TEMPLATE_IMAGES} images ; la version en "
                                         "place est conservée.")
            (staging / "template.toml").write_bytes(manifest)
            try:  # in its own process: docxtpl's patching can take minutes on a hostile document
                findings = isolated(_lint_errors, staging, self.commune, template_id, self.budgets,
                                    limits=self.budgets, what="La vérification")
            except BudgetExceeded as exc:
                too_large = isinstance(exc, SizeBudgetExceeded)
                raise (UploadTooLarge if too_large else UploadRefused)(exc.detail + " La version en place est "
                                                                                  "conservée.") from None
            except UnsafeDocument as exc:  # a part the checker refuses to parse (e.g. a huge attribute)
                raise refused_document(exc) from None
            if findings:
                raise UploadRefused("Le modèle contient des erreurs ; la version en place est conservée.",
                                    findings=[_relative(f, staging) for f in findings])
            meta = {"uploaded_at": datetime.now(UTC).isoformat(timespec="seconds"), "uploaded_by": user,
                    "file": model_name if data is not None else "template.toml",
                    "sha256": hashlib.sha256(data if data is not None else manifest).hexdigest()}
            if images:
                meta["images"] = sorted(name for name, _ in images)
            (staging / "upload.json").write_text(json.dumps(meta), encoding="utf-8")
            _fsync_dir(staging)
            number = self._commit(base, staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.refresh(force=True)
        return next(v for v in self.versions(template_id) if v.revision == number)

    def _commit(self, base: Path, staging: Path) -> int:
        number = max((n for n, _ in self._uploaded_versions(base.name)), default=0) + 1
        while True:
            try:
                os.rename(staging, base / f"v{number}")  # fails if it exists: never overwritten
                _fsync_dir(base)
                return number
            except OSError:
                if not (base / f"v{number}").exists():
                    raise
                number += 1

    # -- PDF --------------------------------------------------------------------------------
    def to_pdf(self, content: bytes, source_fmt: str) -> bytes:
        soffice = shutil.which(self.soffice)
        if soffice is None:
            raise PdfUnavailable("La conversion en PDF demande LibreOffice, qui n'est pas installé sur le serveur. "
                                 "Téléchargez le document en .docx ou .odt.")
        with self._pdf_slots, tempfile.TemporaryDirectory(prefix="plume-pdf-") as tmp:
            source = Path(tmp) / f"lettre.{source_fmt}"
            source.write_bytes(content)
            try:
                subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
                                "--convert-to", "pdf", "--outdir", tmp, str(source)],
                               capture_output=True, timeout=self.pdf_timeout_s, check=False)
            except subprocess.TimeoutExpired:
                raise PdfUnavailable("La conversion en PDF a pris trop de temps. Réessayez ou téléchargez le "
                                     "document en .docx ou .odt.") from None
            pdf = Path(tmp) / "lettre.pdf"
            if not pdf.exists():
                raise PdfUnavailable("La conversion en PDF a échoué. Téléchargez le document en .docx ou .odt.")
            return pdf.read_bytes()

    # -- loading ----------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        """Pick up added, changed and removed templates (a stat per file, at most once a second).
        `force` (start, upload): now, in this thread; otherwise in a background thread."""
        if not force and time.monotonic() - self._checked < self.poll_interval_s:
            return
        if not force:
            # A request never waits for a model being prepared: look in the background; this request
            # (and the ones during the preparation) see the current entries.
            if not self._refreshing.locked():
                threading.Thread(target=self._refresh, args=(False,), daemon=True, name="plume-templates").start()
            return
        self._refresh(force)

    def _refresh(self, force: bool) -> None:
        # A forced refresh (start, upload) waits for one in progress; a request's refresh does not.
        if not self._refreshing.acquire(blocking=force):
            return
        try:
            with self._lock:
                self._checked = time.monotonic()
                self._load_commune()
                changed = self._changes(self._discover())
            for start in range(0, len(changed), _BATCH):
                batch = changed[start:start + _BATCH]
                results = self._prepare_batch([folder for _, folder, _, _ in batch])
                for (template_id, folder, revision, signature), result in zip(batch, results, strict=True):
                    self._load(template_id, folder, revision, signature, result)
        finally:
            self._refreshing.release()

    def _changes(self, found: dict[str, tuple[Path, int]]) -> list[tuple[str, Path, int, tuple]]:
        """Forget removed templates; the ones whose files changed (under the lock: stats only)."""
        for template_id in list(self._entries):
            if template_id not in found:
                del self._entries[template_id]
        for template_id in list(self.errors):
            if template_id not in found:
                del self.errors[template_id]
                self._error_sigs.pop(template_id, None)
        changed = []
        for template_id, (folder, revision) in found.items():
            signature = (str(folder), _signature(folder))
            entry = self._entries.get(template_id)
            if entry is not None and entry.signature == signature:
                continue
            if self._error_sigs.get(template_id) == signature:
                continue  # still the same broken files: already reported
            changed.append((template_id, folder, revision, signature))
        return changed

    def _prepare_batch(self, folders: list[Path]) -> list[dict[str, PreparedTemplate] | Exception]:
        """Several templates prepared in one separate process (a fork per template would double the
        start-up time); if that batch runs out of budget, each one alone, so that only the culprit fails."""
        if len(folders) > 1:
            try:
                return isolated(_prepare_folders, folders, self.limits, limits=self.budgets)
            except BudgetExceeded:
                log.warning("template batch over budget: preparing one by one")
        results: list[dict[str, PreparedTemplate] | Exception] = []
        for folder in folders:
            try:
                results.append(isolated(_prepare_folder, folder, self.limits, limits=self.budgets))
            except Exception as exc:  # noqa: BLE001 - reported for this template by _load
                results.append(exc)
        return results

    def _load(self, template_id: str, folder: Path, revision: int, signature: tuple,
              result: dict[str, PreparedTemplate] | Exception) -> None:
        """Swap a template prepared outside the lock (`_prepare_batch`) in, under the lock."""
        try:
            manifest = load_manifest(folder / "template.toml")
            if isinstance(result, Exception):
                raise result
            prepared = result
            # Only the declared language versions count (the lint reports the others).
            prepared = {key: value for key, value in prepared.items()
                        if "." not in key or key.split(".")[0] in manifest.translations}
            if not any("." not in key for key in prepared):
                raise ManifestError("aucun model.docx ni model.odt")
        except (OSError, ManifestError, TemplateInvalid, UnsafeDocument, ValueError, KeyError, BudgetExceeded) as exc:
            log.warning("template %s not loaded: %s", template_id, type(exc).__name__)
            with self._lock:
                self.errors[template_id] = str(exc)
                self._error_sigs[template_id] = signature
                self._entries.pop(template_id, None)
            return
        if manifest.id != template_id:
            log.warning("template %s: id in template.toml differs from folder name", template_id)
        with self._lock:
            self.errors.pop(template_id, None)
            self._error_sigs.pop(template_id, None)
            self._entries[template_id] = _Entry(_info(template_id, manifest, sorted(prepared), revision), manifest,
                                                prepared, folder, signature)

    def _discover(self) -> dict[str, tuple[Path, int]]:
        found: dict[str, tuple[Path, int]] = {}
        if self.templates_dir.is_dir():
            for folder in self.templates_dir.iterdir():
                if (folder / "template.toml").is_file():
                    found[folder.name] = (folder, 0)
        if self.uploads_dir.is_dir():
            for base in self.uploads_dir.iterdir():
                versions = self._uploaded_versions(base.name)
                if versions:
                    number, folder = versions[-1]
                    found[base.name] = (folder, number)
        return found

    def _uploaded_versions(self, template_id: str) -> list[tuple[int, Path]]:
        base = self.uploads_dir / template_id
        if not base.is_dir():
            return []
        versions = [(int(m.group(1)), p) for p in base.iterdir() if (m := _VERSION_DIR.match(p.name))]
        return sorted(versions)

    def _load_commune(self) -> None:
        path = self.templates_dir / "commune.toml"
        signature = _file_signature(path)
        if signature == self._commune_sig:
            return
        self._commune_sig = signature
        try:
            self.commune = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            log.warning("commune.toml unreadable")
            self.commune = {}

    def _entry(self, template_id: str) -> _Entry:
        self.refresh()
        entry = self._entries.get(template_id)
        if entry is None:
            raise TemplateNotFound(template_id)
        return entry

    def _filename(self, entry: _Entry, context: dict[str, Any]) -> str:
        name = ""
        if entry.manifest.output:
            try:  # the same bounded sandbox as the letter, within the render's budget
                name = _output_pattern(entry.manifest.output).render(context)
            except BudgetExceeded:
                raise
            except Exception:  # a bad pattern must not cost the letter: fall back to the id
                name = ""
        name = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", "-", name).strip(" .-")
        return name[:150] or entry.info.id


# -- helpers -------------------------------------------------------------------------------------


_PLAIN = plain_environment()
_BATCH = 8  # templates prepared per separate process


def _prepare_folder(folder: Path, limits: ZipLimits) -> dict[str, PreparedTemplate]:
    """Every model of the folder by its key: "docx", "odt", "de.docx", "it.odt"…"""
    return {model_key(name): prepare(folder / name, None, limits) for name in _model_files(folder)
            if model_key(name)}


def _source(entry: _Entry, fmt: str, language: str) -> tuple[str, str, list[str]]:
    """(the model's format, its language, warnings): the language version when it exists in that
    format (for a PDF, in either), else the French model and a warning in plain French."""
    formats = (fmt,) if fmt != "pdf" else ("odt", "docx")
    if language != BASE_LANGUAGE:
        for source_fmt in formats:
            if f"{language}.{source_fmt}" in entry.prepared:
                return source_fmt, language, []
    source_fmt = next((f for f in formats if f in entry.prepared), formats[-1])
    if language == BASE_LANGUAGE:
        return source_fmt, BASE_LANGUAGE, []
    from babel import Locale

    name = Locale.parse("fr").languages.get(language, language)
    where = f" au format .{fmt}" if fmt != "pdf" else ""
    return source_fmt, BASE_LANGUAGE, [
        f"Le modèle « {entry.info.title} » n'a pas de version en {name} ({language}){where} : la lettre a été "
        "produite avec le modèle en français. Traduisez-la ou demandez au responsable du modèle d'en ajouter une."]


def _upload_name(file_name: str | None, suffix: str | None, language: str | None) -> str | None:
    """The name an uploaded model is stored under: model.docx, or model.de.docx for a language version
    (the `language` part, or a file already named model.de.docx)."""
    if suffix is None:
        return None
    language = (language or "").strip().lower()
    if not language:
        match = MODEL_FILE.match(Path(file_name or "").name.lower())
        language = (match.group(1) or "") if match else ""
    return f"model.{language}{suffix}" if language and language != BASE_LANGUAGE else f"model{suffix}"


def _prepare_folders(folders: list[Path], limits: ZipLimits) -> list[dict[str, PreparedTemplate] | Exception]:
    """In the separate process: each template's models, or the exception that refused them."""
    results: list[dict[str, PreparedTemplate] | Exception] = []
    for folder in folders:
        try:
            results.append(_prepare_folder(folder, limits))
        except (OSError, TemplateInvalid, UnsafeDocument, ValueError, KeyError, BudgetExceeded) as exc:
            results.append(exc)
    return results


@lru_cache(maxsize=256)
def _output_pattern(pattern: str) -> Any:
    return _PLAIN.from_string(pattern)


def _lint_errors(folder: Path, commune: dict, template_id: str, budgets: TemplateBudgets) -> list[Finding]:
    """The lint's errors for a staged version (run in a separate process by `upload`)."""
    with spending(budgets):
        return [f for f in lint_template(folder, commune=commune, expected_id=template_id) if f.severity == "error"]


def _info(template_id: str, manifest: Manifest, keys: list[str], revision: int) -> TemplateInfo:
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


def ascii_filename(name: str) -> str:
    """`relance-2026-Müller.docx` → `relance-2026-Muller.docx` for the plain `filename=` parameter."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-")
    return ascii_name or "document"


def _model_files(folder: Path) -> list[str]:
    """template.toml and the models: model.docx, model.odt, model.de.docx…"""
    return sorted(p.name for p in folder.iterdir() if p.name == "template.toml" or MODEL_FILE.match(p.name))


def _image_files(folder: Path) -> list[str]:
    """The template's picture files (logo.png, signature.jpg…) that `image` fields may name."""
    return sorted(p.name for p in folder.iterdir() if is_image_name(p.name) and p.is_file() and not p.is_symlink())


def _version_files(folder: Path) -> list[str]:
    return sorted(_model_files(folder) + _image_files(folder))


def _check_images(images: list[tuple[str, bytes]]) -> None:
    """Uploaded pictures: plain names, PNG/JPEG by content, within the limits of a picture sent with a
    letter; UploadRefused naming the file otherwise."""
    if len(images) > MAX_TEMPLATE_IMAGES:
        raise UploadRefused(f"Un modèle compte au plus {MAX_TEMPLATE_IMAGES} images.")
    seen: set[str] = set()
    for name, picture in images:
        shown = name[:80]
        if name in seen:
            raise UploadRefused(f"L'image « {shown} » est jointe deux fois.")
        seen.add(name)
        if len(picture) > MAX_IMAGE_BYTES:
            raise UploadTooLarge(f"L'image « {shown} » dépasse {MAX_IMAGE_BYTES // (1024 * 1024)} Mo.")
        try:
            template_image(name, picture)
        except ImageInvalid as exc:
            raise UploadRefused(f"L'image « {shown} » est refusée : {exc}") from None


def _file_signature(path: Path) -> tuple:
    try:
        stat = path.stat()
        return (stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        return ()


def _signature(folder: Path) -> tuple:
    try:
        names = _model_files(folder)
    except OSError:
        names = []
    return tuple((name, _file_signature(folder / name)) for name in names)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def refused_document(exc: UnsafeDocument) -> UploadRefused:
    """A file the zip and XML checks refuse, as the refused upload the API answers (413 when too large)."""
    return (UploadTooLarge if isinstance(exc, DocumentTooLarge) else UploadRefused)(str(exc))


def _relative(finding: Finding, staging: Path) -> Finding:
    finding.file = Path(finding.file).name if finding.file else ""
    return finding
