"""Keeping the catalog current while the server runs: a change on disk is noticed by a cheap stat of
the folders, at most once a second, when the library is used; only templates whose files changed
are prepared again.

Preparing runs in a separate process with a time and memory budget (`plume.documents.budget.isolated`)
and outside the catalog's lock; each new entry is swapped in under that lock once ready. One refresh
runs at a time (`_refreshing`): a request never waits for it (it keeps the current entries), a forced
refresh (server start, upload) does.
"""

from __future__ import annotations

import logging
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

from plume.documents import prepare
from plume.documents.base import PreparedTemplate, TemplateInvalid
from plume.documents.budget import BudgetExceeded, TemplateBudgets, isolated
from plume.documents.library.catalog import Catalog, Entry, describe
from plume.documents.library.store import VersionStore, model_files
from plume.documents.manifest import ManifestError, load_manifest, model_key
from plume.security.safezip import UnsafeDocument, ZipLimits

log = logging.getLogger("plume.templates")

_BATCH = 8  # templates prepared per separate process
Prepared = dict[str, PreparedTemplate]


class Reloader:
    """Brings the catalog in line with the store's folders, and reads the commune's commune.toml."""

    def __init__(self, catalog: Catalog, store: VersionStore, limits: ZipLimits, budgets: TemplateBudgets,
                 poll_interval_s: float) -> None:
        self.catalog, self.store = catalog, store
        self.limits, self.budgets, self.poll_interval_s = limits, budgets, poll_interval_s
        self.commune: dict[str, Any] = {}   # templates/commune.toml: the `commune` every letter sees
        self._commune_sig: tuple = ()
        self._refreshing = threading.Lock()  # one refresh at a time; others keep the current entries
        self._checked = 0.0

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
            with self.catalog.lock:
                self._checked = time.monotonic()
                self._load_commune()
                changed = self.catalog.changes(self.store.serving(), signature)
            for start in range(0, len(changed), _BATCH):
                batch = changed[start:start + _BATCH]
                results = self._prepare_batch([folder for _, folder, _, _ in batch])
                for (template_id, folder, revision, folder_signature), result in zip(batch, results, strict=True):
                    self._load(template_id, folder, revision, folder_signature, result)
        finally:
            self._refreshing.release()

    def _prepare_batch(self, folders: list[Path]) -> list[Prepared | Exception]:
        """Several templates prepared in one separate process (a fork per template would double the
        start-up time); if that batch runs out of budget, each one alone, so that only the culprit fails."""
        if len(folders) > 1:
            try:
                return isolated(_prepare_folders, folders, self.limits, limits=self.budgets)
            except BudgetExceeded:
                log.warning("template batch over budget: preparing one by one")
        results: list[Prepared | Exception] = []
        for folder in folders:
            try:
                results.append(isolated(_prepare_folder, folder, self.limits, limits=self.budgets))
            except Exception as exc:  # noqa: BLE001 - reported for this template by _load
                results.append(exc)
        return results

    def _load(self, template_id: str, folder: Path, revision: int, folder_signature: tuple,
              result: Prepared | Exception) -> None:
        """Swap a template prepared outside the lock (`_prepare_batch`) in, under the lock."""
        try:
            manifest = load_manifest(folder / "template.toml")
            if isinstance(result, Exception):
                raise result
            # Only the declared language versions count (the lint reports the others).
            prepared = {key: value for key, value in result.items()
                        if "." not in key or key.split(".")[0] in manifest.translations}
            if not any("." not in key for key in prepared):
                raise ManifestError("aucun model.docx ni model.odt")
        except (OSError, ManifestError, TemplateInvalid, UnsafeDocument, ValueError, KeyError, BudgetExceeded) as exc:
            log.warning("template %s not loaded: %s", template_id, type(exc).__name__)
            self.catalog.refuse(template_id, str(exc), folder_signature)
            return
        if manifest.id != template_id:
            log.warning("template %s: id in template.toml differs from folder name", template_id)
        info = describe(template_id, manifest, sorted(prepared), revision)
        self.catalog.serve(template_id, Entry(info, manifest, prepared, folder, folder_signature))

    def _load_commune(self) -> None:
        path = self.store.templates_dir / "commune.toml"
        commune_signature = _file_signature(path)
        if commune_signature == self._commune_sig:
            return
        self._commune_sig = commune_signature
        try:
            self.commune = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            log.warning("commune.toml unreadable")
            self.commune = {}


def signature(folder: Path) -> tuple:
    """The names, times and sizes of a version's files: a change in any is a change of the template."""
    try:
        names = model_files(folder)
    except OSError:
        names = []
    return tuple((name, _file_signature(folder / name)) for name in names)


def _file_signature(path: Path) -> tuple:
    try:
        stat = path.stat()
        return (stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        return ()


def _prepare_folder(folder: Path, limits: ZipLimits) -> Prepared:
    """Every model of the folder by its key: "docx", "odt", "de.docx", "it.odt"…"""
    return {model_key(name): prepare(folder / name, None, limits) for name in model_files(folder)
            if model_key(name)}


def _prepare_folders(folders: list[Path], limits: ZipLimits) -> list[Prepared | Exception]:
    """In the separate process: each template's models, or the exception that refused them."""
    results: list[Prepared | Exception] = []
    for folder in folders:
        try:
            results.append(_prepare_folder(folder, limits))
        except (OSError, TemplateInvalid, UnsafeDocument, ValueError, KeyError, BudgetExceeded) as exc:
            results.append(exc)
    return results
