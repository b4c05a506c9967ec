"""Where template versions live on disk, and how a new one is added without touching another.

The repo's `templates/<id>/` is revision 0; uploads are `<data>/templates/<id>/v<N>/`, the newest
serving. A version is a whole snapshot (template.toml, models, the picture files `image` fields
name), written under a staging name, checked, flushed to disk and renamed into place: a
half-written version is never seen, an existing one never overwritten. What is sent is checked
(`check_upload_parts`) before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plume.documents.base import Finding
from plume.documents.budget import BudgetExceeded, SizeBudgetExceeded, TemplateBudgets, isolated, spending
from plume.documents.images import MAX_IMAGE_BYTES, MAX_TEMPLATE_IMAGES, ImageInvalid, is_image_name, template_image
from plume.documents.library.catalog import Entry, TemplateVersion
from plume.documents.lint import lint_template
from plume.documents.manifest import (BASE_LANGUAGE, LANGUAGE_CODE, MODEL_FILE, TEMPLATE_ID, Manifest, ManifestError,
                                      parse_manifest)
from plume.errors import Refusal
from plume.files import fsync_dir
from plume.security.safezip import DocumentTooLarge, UnsafeDocument, ZipLimits, check_upload

_VERSION_DIR = re.compile(r"\Av(\d+)\Z")
MAX_MANIFEST_BYTES = 1024 * 1024


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


# -- what a version holds ---------------------------------------------------------------------------

def model_files(folder: Path) -> list[str]:
    """template.toml and the models: model.docx, model.odt, model.de.docx…"""
    return sorted(p.name for p in folder.iterdir() if p.name == "template.toml" or MODEL_FILE.match(p.name))


def image_files(folder: Path) -> list[str]:
    """The template's picture files (logo.png, signature.jpg…) that `image` fields may name."""
    return sorted(p.name for p in folder.iterdir() if is_image_name(p.name) and p.is_file() and not p.is_symlink())


def version_files(folder: Path) -> list[str]:
    return sorted(model_files(folder) + image_files(folder))


# -- the store ----------------------------------------------------------------------------------

class VersionStore:
    """The repo's folder of templates and the uploads folder, read and added to."""

    def __init__(self, templates_dir: Path, uploads_dir: Path) -> None:
        self.templates_dir = templates_dir
        self.uploads_dir = uploads_dir

    def uploaded(self, template_id: str) -> list[tuple[int, Path]]:
        """(N, folder) of each uploaded version, oldest first."""
        base = self.uploads_dir / template_id
        if not base.is_dir():
            return []
        versions = [(int(m.group(1)), p) for p in base.iterdir() if (m := _VERSION_DIR.match(p.name))]
        return sorted(versions)

    def serving(self) -> dict[str, tuple[Path, int]]:
        """The folder (and revision) that serves each template id: its newest upload, else the repo's."""
        found: dict[str, tuple[Path, int]] = {}
        if self.templates_dir.is_dir():
            for folder in self.templates_dir.iterdir():
                if (folder / "template.toml").is_file():
                    found[folder.name] = (folder, 0)
        if self.uploads_dir.is_dir():
            for base in self.uploads_dir.iterdir():
                versions = self.uploaded(base.name)
                if versions:
                    number, folder = versions[-1]
                    found[base.name] = (folder, number)
        return found

    def versions(self, template_id: str, current: int) -> list[TemplateVersion]:
        """Every version of a template, the repo's first; `current`: the revision being served."""
        result = []
        repo = self.templates_dir / template_id
        if (repo / "template.toml").exists():
            result.append(TemplateVersion(revision=0, source="dépôt", current=current == 0, files=version_files(repo)))
        for number, folder in self.uploaded(template_id):
            meta = _read_json(folder / "upload.json")
            result.append(TemplateVersion(revision=number, source="téléversement", current=current == number,
                                          files=version_files(folder), uploaded_at=meta.get("uploaded_at"),
                                          uploaded_by=meta.get("uploaded_by"), sha256=meta.get("sha256"),
                                          warnings=list(meta.get("warnings", []))))
        return result

    def remove_torn(self) -> int:
        """Staging folders left by a process killed mid-upload (never versions); called when the
        server starts, when no upload of its own can be under way. Returns how many were removed."""
        torn = list(self.uploads_dir.glob("*/.staging-*")) if self.uploads_dir.is_dir() else []
        for folder in torn:
            shutil.rmtree(folder, ignore_errors=True)
        return len(torn)

    def add(self, template_id: str, current: Entry | None, model_name: str | None, data: bytes | None,
            manifest: bytes, user: str | None, images: list[tuple[str, bytes]], commune: dict[str, Any],
            budgets: TemplateBudgets, warn: Callable[[Path], list[str]] | None = None) -> int:
        """Stage the new version (the current one's other files carried over), lint it in its own
        process, and rename it into place; returns its number. UploadRefused on lint errors.
        `warn(folder)`: what the owner should know of the staged version (kept in upload.json)."""
        base = self.uploads_dir / template_id
        base.mkdir(parents=True, exist_ok=True)
        # Leftovers of a killed upload are removed at start (remove_torn), never here: another
        # upload of the same template may be staging right now.
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=base))
        try:
            _write_staging(staging, current, model_name, data, manifest, images)
            _check_staged(staging, commune, template_id, budgets)
            meta = {"uploaded_at": datetime.now(UTC).isoformat(timespec="seconds"), "uploaded_by": user,
                    "file": model_name if data is not None else "template.toml",
                    "sha256": hashlib.sha256(data if data is not None else manifest).hexdigest()}
            if images:
                meta["images"] = sorted(name for name, _ in images)
            if warn is not None and (warnings := warn(staging)):
                meta["warnings"] = warnings
            (staging / "upload.json").write_text(json.dumps(meta), encoding="utf-8")
            fsync_dir(staging)
            return self._commit(base, staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _commit(self, base: Path, staging: Path) -> int:
        number = max((n for n, _ in self.uploaded(base.name)), default=0) + 1
        while True:
            try:
                os.rename(staging, base / f"v{number}")  # fails if it exists: never overwritten
                fsync_dir(base)
                return number
            except OSError:
                if not (base / f"v{number}").exists():
                    raise
                number += 1


def _write_staging(staging: Path, current: Entry | None, model_name: str | None, data: bytes | None,
                   manifest: bytes, images: list[tuple[str, bytes]]) -> None:
    if current is not None:  # a version is a full snapshot: keep the other format's model, the pictures
        for name in model_files(current.folder) + image_files(current.folder):
            shutil.copy2(current.folder / name, staging / name)
    if data is not None:
        (staging / model_name).write_bytes(data)
    for name, picture in images:
        (staging / name).write_bytes(picture)
    if len(image_files(staging)) > MAX_TEMPLATE_IMAGES:
        raise UploadRefused(f"Un modèle compte au plus {MAX_TEMPLATE_IMAGES} images ; la version en "
                            "place est conservée.")
    (staging / "template.toml").write_bytes(manifest)


def _check_staged(staging: Path, commune: dict[str, Any], template_id: str, budgets: TemplateBudgets) -> None:
    try:  # in its own process: docxtpl's patching can take minutes on a hostile document
        findings = isolated(_lint_errors, staging, commune, template_id, budgets, limits=budgets,
                            what="La vérification")
    except BudgetExceeded as exc:
        too_large = isinstance(exc, SizeBudgetExceeded)
        raise (UploadTooLarge if too_large else UploadRefused)(exc.detail + " La version en place est "
                                                                          "conservée.") from None
    except UnsafeDocument as exc:  # a part the checker refuses to parse (e.g. a huge attribute)
        raise refused_document(exc) from None
    if findings:
        raise UploadRefused("Le modèle contient des erreurs ; la version en place est conservée.",
                            findings=[_relative(f) for f in findings])


# -- checking what is sent --------------------------------------------------------------------------

def check_upload_parts(template_id: str, file_name: str | None, data: bytes | None, manifest: bytes | None,
                       language: str | None, images: list[tuple[str, bytes]], max_document_bytes: int,
                       limits: ZipLimits) -> None:
    """What an upload sends, checked before anything is written; UploadRefused says what is wrong."""
    if language and not (LANGUAGE_CODE.match(language.strip().lower())):
        raise UploadRefused("Langue invalide : indiquez un code de langue comme de, it ou en.")
    if not TEMPLATE_ID.match(template_id):
        raise UploadRefused("Identifiant de modèle invalide : lettres minuscules, chiffres et tirets.")
    if data is None and manifest is None and not images:
        raise UploadRefused("Joignez le modèle (partie « file », .docx ou .odt) et/ou son template.toml "
                            "(partie « manifest »).")
    check_images(images)
    if data is not None:
        if model_suffix(file_name) not in (".docx", ".odt"):
            raise UploadNotAModel("Le fichier doit être un modèle .docx ou .odt.")
        if len(data) > max_document_bytes:
            raise UploadTooLarge("Le document dépasse la taille autorisée.")
        try:
            check_upload(data, limits)
        except UnsafeDocument as exc:
            raise refused_document(exc) from None
    if manifest is not None and len(manifest) > MAX_MANIFEST_BYTES:
        raise UploadTooLarge("Le fichier template.toml dépasse la taille autorisée.")


def check_images(images: list[tuple[str, bytes]]) -> None:
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


def checked_manifest(template_id: str, manifest: bytes) -> Manifest:
    """The uploaded template.toml, parsed; it must name the template the address names."""
    try:
        parsed = parse_manifest(manifest)
    except ManifestError as exc:
        raise UploadRefused(str(exc)) from None
    if parsed.id != template_id:
        raise UploadRefused(f"template.toml déclare l'identifiant « {parsed.id} », "
                            f"mais l'adresse vise « {template_id} ».")
    return parsed


def current_manifest(template_id: str, current: Entry | None) -> bytes:
    """The template.toml of the version being served, for an upload that sends none."""
    if current is None:
        raise UploadRefused(f"Le modèle « {template_id} » est nouveau : joignez son template.toml "
                            "(partie « manifest »).")
    return (current.folder / "template.toml").read_bytes()


def model_suffix(file_name: str | None) -> str:
    return Path(file_name or "").suffix.lower()


def upload_name(file_name: str | None, language: str | None) -> str:
    """The name an uploaded model is stored under: model.docx, or model.de.docx for a language version
    (the `language` part, or a file already named model.de.docx)."""
    suffix = model_suffix(file_name)
    language = (language or "").strip().lower()
    if not language:
        match = MODEL_FILE.match(Path(file_name or "").name.lower())
        language = (match.group(1) or "") if match else ""
    return f"model.{language}{suffix}" if language and language != BASE_LANGUAGE else f"model{suffix}"


def refused_document(exc: UnsafeDocument) -> UploadRefused:
    """A file the zip and XML checks refuse, as the refused upload the API answers (413 when too large)."""
    return (UploadTooLarge if isinstance(exc, DocumentTooLarge) else UploadRefused)(str(exc))


def _lint_errors(folder: Path, commune: dict, template_id: str, budgets: TemplateBudgets) -> list[Finding]:
    """The lint's errors for a staged version (run in a separate process by `add`)."""
    with spending(budgets):
        return [f for f in lint_template(folder, commune=commune, expected_id=template_id) if f.severity == "error"]


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _relative(finding: Finding) -> Finding:
    finding.file = Path(finding.file).name if finding.file else ""
    return finding
