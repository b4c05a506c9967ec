"""The embedded index: one SQLite file (FTS5 for BM25, vectors as float32 blobs).

Dense search is brute force over a numpy matrix per (embedder, collection), loaded on first use and
dropped when the generation changes: exact, and fast enough for a commune (bench/search.py: 100,000
passages of 512 dimensions in about 200 MB of memory and tens of milliseconds per query). Beyond
that, PostgreSQL with pgvector's HNSW index (stores/postgres.py).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from plume.search.stores import DocumentState, NewPassage, StoredPassage

SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, collection TEXT NOT NULL, path TEXT NOT NULL, hash TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '', failed TEXT, UNIQUE (collection, path));
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    collection TEXT NOT NULL, heading TEXT NOT NULL, locator TEXT, page INTEGER, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS passages_document ON passages (document_id);
CREATE TABLE IF NOT EXISTS vectors (
    embedder TEXT NOT NULL, passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    collection TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (embedder, passage_id));
CREATE INDEX IF NOT EXISTS vectors_collection ON vectors (embedder, collection);
CREATE VIRTUAL TABLE IF NOT EXISTS lexical USING fts5 (terms, collection UNINDEXED, tokenize = 'unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS lexical_terms USING fts5vocab (lexical, 'row');
INSERT OR IGNORE INTO meta VALUES ('generation', '0');
"""


COMMON_FLOOR = 20_000   # below this many passages every query term is kept
COMMON_SHARE = 0.05


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._cache: dict[tuple[str, str], tuple[int, np.ndarray, np.ndarray]] = {}
        self._cache_lock = threading.Lock()
        self._connection().executescript(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA busy_timeout = 30000")
            self._local.connection = connection
        return connection

    # -- writing ------------------------------------------------------------------------------------------------

    def documents(self, collection: str) -> dict[str, DocumentState]:
        rows = self._connection().execute("SELECT path, hash, failed FROM documents WHERE collection = ?",
                                          (collection,))
        return {path: DocumentState(hash, failed) for path, hash, failed in rows}

    def put_document(self, collection: str, path: str, hash: str, title: str, passages: Sequence[NewPassage],
                     vectors: dict[str, np.ndarray]) -> None:
        db = self._connection()
        with _transaction(db):
            self._delete(db, collection, path)
            document_id = db.execute("INSERT INTO documents (collection, path, hash, title) VALUES (?, ?, ?, ?)",
                                     (collection, path, hash, title)).lastrowid
            for index, passage in enumerate(passages):
                passage_id = db.execute(
                    "INSERT INTO passages (document_id, collection, heading, locator, page, text) VALUES (?, ?, ?, ?, ?, ?)",
                    (document_id, collection, passage.heading, passage.locator, passage.page, passage.text)).lastrowid
                db.execute("INSERT INTO lexical (rowid, terms, collection) VALUES (?, ?, ?)",
                           (passage_id, passage.terms, collection))
                for embedder, matrix in vectors.items():
                    db.execute("INSERT INTO vectors VALUES (?, ?, ?, ?)",
                               (embedder, passage_id, collection, np.asarray(matrix[index], np.float32).tobytes()))
            _bump(db)

    def put_failure(self, collection: str, path: str, hash: str, reason: str) -> None:
        db = self._connection()
        with _transaction(db):
            self._delete(db, collection, path)
            db.execute("INSERT INTO documents (collection, path, hash, failed) VALUES (?, ?, ?, ?)",
                       (collection, path, hash, reason))
            _bump(db)

    def delete_document(self, collection: str, path: str) -> None:
        db = self._connection()
        with _transaction(db):
            self._delete(db, collection, path)
            _bump(db)

    def drop_collections_except(self, keep: Sequence[str]) -> int:
        db = self._connection()
        marks = ",".join("?" * len(keep)) or "''"
        gone = [row[0] for row in db.execute(f"SELECT DISTINCT collection FROM documents WHERE collection NOT IN ({marks})",
                                              list(keep))]
        for collection in gone:
            for path in list(self.documents(collection)):
                self.delete_document(collection, path)
        return len(gone)

    @staticmethod
    def _delete(db: sqlite3.Connection, collection: str, path: str) -> None:
        row = db.execute("SELECT id FROM documents WHERE collection = ? AND path = ?", (collection, path)).fetchone()
        if row is None:
            return
        db.execute("DELETE FROM lexical WHERE rowid IN (SELECT id FROM passages WHERE document_id = ?)", (row[0],))
        db.execute("DELETE FROM documents WHERE id = ?", (row[0],))  # passages and vectors cascade

    # -- reading ------------------------------------------------------------------------------------------------

    def lexical(self, terms: Sequence[str], collections: Sequence[str], k: int) -> list[tuple[int, float]]:
        terms = self._discriminating(terms)
        if not terms or not collections:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)  # each stem quoted: FTS5 syntax never comes from the query
        marks = ",".join("?" * len(collections))
        rows = self._connection().execute(
            f"SELECT rowid, bm25(lexical) FROM lexical WHERE lexical MATCH ? AND collection IN ({marks}) "
            "ORDER BY bm25(lexical) LIMIT ?", (match, *collections, k))
        return [(rowid, -score) for rowid, score in rows]

    def _discriminating(self, terms: Sequence[str]) -> list[str]:
        """Without the terms found in more than COMMON_SHARE of a large index (« commune », « règlement »
        in every article): BM25 gives them almost no weight, yet scoring every passage that holds them
        is what makes a query slow at 100,000 passages (bench/search.py). The two rarest always stay."""
        if len(terms) <= 2:
            return list(terms)
        db = self._connection()
        total = db.execute("SELECT COALESCE(MAX(id), 0) FROM passages").fetchone()[0]  # O(1), near enough
        if total < COMMON_FLOOR:
            return list(terms)
        marks = ",".join("?" * len(terms))
        frequency = dict(db.execute(f"SELECT term, doc FROM lexical_terms WHERE term IN ({marks})", list(terms)))
        ranked = sorted(terms, key=lambda t: frequency.get(t, 0))
        return [t for i, t in enumerate(ranked) if i < 2 or frequency.get(t, 0) <= COMMON_SHARE * total]

    def dense(self, embedder: str, vector: np.ndarray, collections: Sequence[str], k: int) -> list[tuple[int, float]]:
        found: list[tuple[int, float]] = []
        for collection in collections:
            ids, matrix = self._matrix(embedder, collection)
            if not len(ids):
                continue
            scores = matrix @ vector
            top = np.argpartition(-scores, min(k, len(scores) - 1))[:k] if len(scores) > k else np.arange(len(scores))
            found += [(int(ids[i]), float(scores[i])) for i in top]
        return sorted(found, key=lambda pair: -pair[1])[:k]

    def _matrix(self, embedder: str, collection: str) -> tuple[np.ndarray, np.ndarray]:
        generation = self.generation()
        with self._cache_lock:
            cached = self._cache.get((embedder, collection))
            if cached and cached[0] == generation:
                return cached[1], cached[2]
            rows = self._connection().execute(
                "SELECT passage_id, vector FROM vectors WHERE embedder = ? AND collection = ? ORDER BY passage_id",
                (embedder, collection)).fetchall()
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            matrix = (np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
                      if rows else np.zeros((0, 1), np.float32))
            self._cache[(embedder, collection)] = (generation, ids, matrix)
            return ids, matrix

    def passages(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._connection().execute(
            "SELECT p.id, p.collection, d.path, d.title, p.heading, p.locator, p.page, p.text FROM passages p "
            f"JOIN documents d ON d.id = p.document_id WHERE p.id IN ({marks})", list(ids))
        return {row[0]: StoredPassage(*row) for row in rows}

    def document_passages(self, collection: str, path: str) -> list[StoredPassage]:
        rows = self._connection().execute(
            "SELECT p.id, p.collection, d.path, d.title, p.heading, p.locator, p.page, p.text FROM passages p "
            "JOIN documents d ON d.id = p.document_id WHERE d.collection = ? AND d.path = ? ORDER BY p.id",
            (collection, path))
        return [StoredPassage(*row) for row in rows]

    def counts(self) -> dict[str, tuple[int, int]]:
        rows = self._connection().execute(
            "SELECT d.collection, COUNT(DISTINCT d.id), COUNT(p.id) FROM documents d "
            "LEFT JOIN passages p ON p.document_id = d.id WHERE d.failed IS NULL GROUP BY d.collection")
        return {collection: (documents, passages) for collection, documents, passages in rows}

    def generation(self) -> int:
        return int(self._connection().execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the index while the server may be using it (SQLite's online backup)."""
        with sqlite3.connect(target) as copy:
            self._connection().backup(copy)
        copy.close()

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


class _transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error (the connection is in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, *_) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _bump(db: sqlite3.Connection) -> None:
    db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
