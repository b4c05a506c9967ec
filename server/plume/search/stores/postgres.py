"""The index in PostgreSQL with pgvector, for deployments larger than one commune (docs/search.md).

Same tables as SQLite, plus: the lexical terms (analysed by Plume, lexical.py, exactly as for SQLite)
in a `tsvector` column under a GIN index, ranked by `ts_rank_cd`; one table of vectors per embedder
(`vector(dimension)`) under an HNSW index for inner product (the vectors are unit length, so inner
product is cosine). pgvector ≥ 0.8 scans the HNSW index iteratively, so a filter on the collections
still returns k rows.

One connection per thread (the server searches from worker threads), in autocommit except inside
a document's write transaction.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import numpy as np

from plume.search.stores import DocumentState, NewPassage, StoredPassage

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS plume_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO plume_meta VALUES ('generation', 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS plume_documents (
    id BIGSERIAL PRIMARY KEY, collection TEXT NOT NULL, path TEXT NOT NULL, hash TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '', failed TEXT, UNIQUE (collection, path));
CREATE TABLE IF NOT EXISTS plume_passages (
    id BIGSERIAL PRIMARY KEY, document_id BIGINT NOT NULL REFERENCES plume_documents(id) ON DELETE CASCADE,
    collection TEXT NOT NULL, heading TEXT NOT NULL, locator TEXT, page INTEGER, text TEXT NOT NULL,
    terms TSVECTOR NOT NULL);
CREATE INDEX IF NOT EXISTS plume_passages_terms ON plume_passages USING GIN (terms);
CREATE INDEX IF NOT EXISTS plume_passages_document ON plume_passages (document_id);
"""


class PostgresStore:
    def __init__(self, url: str) -> None:
        import psycopg  # noqa: F401 — fail early, with the connection URL's error, not at the first search

        self.url = url
        self._local = threading.local()
        self._vector_tables: dict[str, str] = {}
        self._lock = threading.Lock()
        with self._connection().transaction():
            self._connection().execute(SCHEMA)

    def _connection(self):
        import psycopg

        connection = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = psycopg.connect(self.url, autocommit=True)
            connection.execute("SET hnsw.ef_search = 100")
            connection.execute("SET hnsw.iterative_scan = relaxed_order")
            self._local.connection = connection
        return connection

    def _vector_table(self, embedder: str, dimension: int | None = None) -> str | None:
        """The table of `embedder`'s vectors, created on first write (HNSW index with it)."""
        name = "plume_vectors_" + re.sub(r"[^a-z0-9]+", "_", embedder.lower()).strip("_")[:40]
        with self._lock:
            if embedder in self._vector_tables:
                return name
            db = self._connection()
            exists = db.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0] is not None
            if not exists and dimension is None:
                return None
            if not exists:
                db.execute(f"CREATE TABLE IF NOT EXISTS {name} (passage_id BIGINT PRIMARY KEY REFERENCES "
                           f"plume_passages(id) ON DELETE CASCADE, collection TEXT NOT NULL, "
                           f"embedding vector({int(dimension)}) NOT NULL)")
                db.execute(f"CREATE INDEX IF NOT EXISTS {name}_hnsw ON {name} USING hnsw (embedding vector_ip_ops)")
            self._vector_tables[embedder] = name
            return name

    # -- writing ------------------------------------------------------------------------------------------------

    def documents(self, collection: str) -> dict[str, DocumentState]:
        rows = self._connection().execute("SELECT path, hash, failed FROM plume_documents WHERE collection = %s",
                                          (collection,))
        return {path: DocumentState(hash, failed) for path, hash, failed in rows}

    def put_document(self, collection: str, path: str, hash: str, title: str, passages: Sequence[NewPassage],
                     vectors: dict[str, np.ndarray]) -> None:
        tables = {e: self._vector_table(e, m.shape[1]) for e, m in vectors.items()}
        db = self._connection()
        with db.transaction():
            self._delete(db, collection, path)
            document_id = db.execute("INSERT INTO plume_documents (collection, path, hash, title) "
                                     "VALUES (%s, %s, %s, %s) RETURNING id", (collection, path, hash, title)).fetchone()[0]
            for index, passage in enumerate(passages):
                passage_id = db.execute(
                    "INSERT INTO plume_passages (document_id, collection, heading, locator, page, text, terms) "
                    "VALUES (%s, %s, %s, %s, %s, %s, to_tsvector('simple', %s)) RETURNING id",
                    (document_id, collection, passage.heading, passage.locator, passage.page, passage.text,
                     passage.terms)).fetchone()[0]
                for embedder, matrix in vectors.items():
                    db.execute(f"INSERT INTO {tables[embedder]} VALUES (%s, %s, %s::vector)",
                               (passage_id, collection, _literal(matrix[index])))
            _bump(db)

    def put_failure(self, collection: str, path: str, hash: str, reason: str) -> None:
        db = self._connection()
        with db.transaction():
            self._delete(db, collection, path)
            db.execute("INSERT INTO plume_documents (collection, path, hash, failed) VALUES (%s, %s, %s, %s)",
                       (collection, path, hash, reason))
            _bump(db)

    def delete_document(self, collection: str, path: str) -> None:
        db = self._connection()
        with db.transaction():
            self._delete(db, collection, path)
            _bump(db)

    def drop_collections_except(self, keep: Sequence[str]) -> int:
        db = self._connection()
        with db.transaction():
            gone = db.execute("DELETE FROM plume_documents WHERE NOT (collection = ANY(%s)) RETURNING collection",
                              (list(keep),)).fetchall()
            _bump(db)
        return len({row[0] for row in gone})

    @staticmethod
    def _delete(db, collection: str, path: str) -> None:
        db.execute("DELETE FROM plume_documents WHERE collection = %s AND path = %s", (collection, path))

    # -- reading ------------------------------------------------------------------------------------------------

    def lexical(self, terms: Sequence[str], collections: Sequence[str], k: int) -> list[tuple[int, float]]:
        if not terms or not collections:
            return []
        # Each stem a literal lexeme (quoted), joined by OR: nothing of the question is tsquery syntax.
        query = " | ".join("'" + t.replace("'", "") + "'" for t in terms)
        rows = self._connection().execute(
            "SELECT id, ts_rank_cd(terms, q, 1) AS rank FROM plume_passages, to_tsquery('simple', %s) q "
            "WHERE terms @@ q AND collection = ANY(%s) ORDER BY rank DESC LIMIT %s", (query, list(collections), k))
        return [(row[0], float(row[1])) for row in rows]

    def dense(self, embedder: str, vector: np.ndarray, collections: Sequence[str], k: int) -> list[tuple[int, float]]:
        table = self._vector_table(embedder)
        if table is None or not collections:
            return []
        rows = self._connection().execute(
            f"SELECT passage_id, embedding <#> %s::vector AS distance FROM {table} WHERE collection = ANY(%s) "
            "ORDER BY distance LIMIT %s", (_literal(vector), list(collections), k))
        return [(row[0], -float(row[1])) for row in rows]  # <#> is the negative inner product

    def passages(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        if not ids:
            return {}
        rows = self._connection().execute(
            "SELECT p.id, p.collection, d.path, d.title, p.heading, p.locator, p.page, p.text FROM plume_passages p "
            "JOIN plume_documents d ON d.id = p.document_id WHERE p.id = ANY(%s)", (list(ids),))
        return {row[0]: StoredPassage(*row) for row in rows}

    def document_passages(self, collection: str, path: str) -> list[StoredPassage]:
        rows = self._connection().execute(
            "SELECT p.id, p.collection, d.path, d.title, p.heading, p.locator, p.page, p.text FROM plume_passages p "
            "JOIN plume_documents d ON d.id = p.document_id WHERE d.collection = %s AND d.path = %s ORDER BY p.id",
            (collection, path))
        return [StoredPassage(*row) for row in rows]

    def counts(self) -> dict[str, tuple[int, int]]:
        rows = self._connection().execute(
            "SELECT d.collection, COUNT(DISTINCT d.id), COUNT(p.id) FROM plume_documents d "
            "LEFT JOIN plume_passages p ON p.document_id = d.id WHERE d.failed IS NULL GROUP BY d.collection")
        return {collection: (int(documents), int(passages)) for collection, documents, passages in rows}

    def generation(self) -> int:
        return int(self._connection().execute("SELECT value FROM plume_meta WHERE key = 'generation'").fetchone()[0])

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


def _literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(vector, dtype=np.float32)) + "]"


def _bump(db) -> None:
    db.execute("UPDATE plume_meta SET value = value + 1 WHERE key = 'generation'")
