"""Indexing a collection's folder: only what changed since the last run (content hash), deleted files
taken out, unreadable files reported by name and skipped.

Each file is read in a separate process with a time and memory budget (documents/budget.py
`isolated`): a PDF that hangs PDFium or a document that would exhaust memory costs that file only,
never the indexing run or the server. Each document's passages are then embedded and written in one
transaction (stores/__init__.py), so a run killed midway leaves a consistent index that the next run
completes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from plume.documents.budget import BudgetExceeded, TemplateBudgets, isolated
from plume.inference.embeddings import Embedder
from plume.search import lexical
from plume.search.collections import Collection
from plume.search.dense import embed_passages, signature
from plume.search.passages import SEPARATOR, Passage
from plume.search.readers import SUFFIXES, Unreadable
from plume.search.reading import ReadResult, read_passages
from plume.search.stores import NewPassage, Store
from plume.security.safezip import ZipLimits

# Bumped when reading or cutting changes, so the next run re-reads every document.
READER_VERSION = "1"
READ_BUDGET = TemplateBudgets(prepare_timeout_s=60.0, prepare_memory_mb=1024)

Progress = Callable[[int, int, str], None]  # (done, total, relative path)


@dataclass
class IndexReport:
    collection: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (relative path, French reason)


def files_of(folder: Path) -> dict[str, Path]:
    """Readable files under `folder` by relative POSIX path: no hidden files, no Office lock files
    (« ~$lettre.docx »), no link leading out of the folder."""
    found = {}
    if not folder.is_dir():
        return found
    root = folder.resolve()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith((".", "~$")) for part in relative.parts) or path.suffix.lower() not in SUFFIXES:
            continue
        if not path.is_file() or not path.resolve().is_relative_to(root):
            continue
        found[relative.as_posix()] = path
    return found


def content_hash(data: bytes, embedders: Sequence[Embedder]) -> str:
    digest = hashlib.sha256(data)
    digest.update(f"\0{READER_VERSION}\0{signature(embedders)}".encode())
    return digest.hexdigest()


def read_isolated(path: Path, max_bytes: int, limits: ZipLimits) -> ReadResult:
    """Raises Unreadable, with the budget's reason when it ran out of time or memory."""
    try:
        return isolated(read_passages, path, max_bytes, limits, limits=READ_BUDGET, what="La lecture")
    except BudgetExceeded as exc:
        reason = ("lecture trop longue (plus de 60 s)" if exc.status == 422
                  else "le document demande trop de mémoire pour être lu")
        raise Unreadable(reason) from None
    except Unreadable:
        raise
    except Exception:  # noqa: BLE001 — any other parser error on a hostile file: skipped, never fatal
        raise Unreadable("document illisible ou endommagé") from None


def embedded_text(title: str, passage: Passage) -> str:
    """What embedders and BM25 see: the title and heading path give a bare alinéa its subject."""
    return f"{title}{SEPARATOR}{passage.heading}\n{passage.text}" if passage.heading else f"{title}\n{passage.text}"


def index_collection(collection: Collection, store: Store, embedders: Sequence[Embedder], max_bytes: int,
                     limits: ZipLimits = ZipLimits(), progress: Progress | None = None,
                     only: Sequence[str] | None = None) -> IndexReport:
    """Bring the index of `collection` up to date with its folder (`only`: just these paths)."""
    report = IndexReport(collection.id)
    on_disk = files_of(collection.path)
    known = store.documents(collection.id)
    if only is not None:
        on_disk = {p: f for p, f in on_disk.items() if p in only}
        known = {p: s for p, s in known.items() if p in only}
    for gone in sorted(set(known) - set(on_disk)):
        store.delete_document(collection.id, gone)
        report.removed += 1
    for done, (relative, path) in enumerate(on_disk.items(), start=1):
        if progress:
            progress(done, len(on_disk), relative)
        _index_file(collection, store, embedders, max_bytes, limits, relative, path, known.get(relative), report)
    return report


def _index_file(collection, store, embedders, max_bytes, limits, relative, path, state, report) -> None:
    try:
        data = path.read_bytes() if path.stat().st_size <= max_bytes else b""
    except OSError:
        report.failed.append((relative, "fichier illisible (droits ou disque)"))
        return
    digest = content_hash(data or str(path.stat().st_size).encode(), embedders)
    if state is not None and state.hash == digest:  # an unreadable file is not read again, only reported
        if state.failed:
            report.failed.append((relative, state.failed))
        else:
            report.unchanged += 1
        return
    try:
        result = read_isolated(path, max_bytes, limits)
        if not result.passages:
            raise Unreadable("aucun texte trouvé")
    except Unreadable as exc:
        store.put_failure(collection.id, relative, digest, str(exc))
        report.failed.append((relative, str(exc)))
        return
    texts = [embedded_text(result.title, p) for p in result.passages]
    vectors = {e.id: embed_passages(e, texts) for e in embedders}
    rows = [NewPassage(p.heading, p.locator, p.page, p.text, lexical.document_terms(text, collection.language))
            for p, text in zip(result.passages, texts)]
    store.put_document(collection.id, relative, digest, result.title, rows, vectors)
    if state is None or state.failed:
        report.added += 1
    else:
        report.updated += 1
