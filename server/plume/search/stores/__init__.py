"""Where the index lives: one SQLite file in the data folder (default, nothing to install) or a
PostgreSQL database with pgvector (a canton-wide deployment), behind one interface, `Store`.

Both keep, per collection, the documents (path, content hash, title) and their passages with their
lexical terms and one vector per embedder. Every write of a document is one transaction (its old
passages out, its new ones in, its hash last), so an indexing run killed midway leaves each document
as it was before or as it is now, and a restart carries on. `generation()` changes at every commit:
a server compares it before each search and sees a new index without a restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np


@dataclass
class NewPassage:
    heading: str
    locator: str | None
    page: int | None
    text: str
    terms: str  # lexical analysis (lexical.document_terms)


@dataclass
class StoredPassage:
    id: int
    collection: str
    document: str   # path inside the collection's folder
    title: str
    heading: str
    locator: str | None
    page: int | None
    text: str


@dataclass
class DocumentState:
    hash: str
    failed: str | None  # French reason when the file could not be read (it has no passage then)


class Store(Protocol):
    def documents(self, collection: str) -> dict[str, DocumentState]: ...

    def put_document(self, collection: str, path: str, hash: str, title: str, passages: Sequence[NewPassage],
                     vectors: dict[str, np.ndarray]) -> None: ...

    def put_failure(self, collection: str, path: str, hash: str, reason: str) -> None: ...

    def delete_document(self, collection: str, path: str) -> None: ...

    def drop_collections_except(self, keep: Sequence[str]) -> int: ...

    def lexical(self, terms: Sequence[str], collections: Sequence[str], k: int) -> list[tuple[int, float]]: ...

    def dense(self, embedder: str, vector: np.ndarray, collections: Sequence[str], k: int) -> list[tuple[int, float]]: ...

    def passages(self, ids: Sequence[int]) -> dict[int, StoredPassage]: ...

    def document_passages(self, collection: str, path: str) -> list[StoredPassage]:
        """The passages of one document, in the document's order (empty when it is not indexed)."""

    def counts(self) -> dict[str, tuple[int, int]]: ...

    def generation(self) -> int: ...

    def close(self) -> None: ...


def open_store(url: str, data_dir: Path) -> Store:
    """`url` empty: SQLite in the data folder; postgresql://… : PostgreSQL with pgvector."""
    if url.startswith(("postgresql://", "postgres://")):
        from plume.search.stores.postgres import PostgresStore

        return PostgresStore(url)
    from plume.search.stores.sqlite import SqliteStore

    return SqliteStore(Path(url.removeprefix("sqlite:///")) if url else data_dir / SQLITE_NAME)


SQLITE_NAME = "search.sqlite3"
