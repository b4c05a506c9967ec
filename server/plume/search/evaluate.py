"""`plume eval --tasks search`: recall@5 and MRR of each retrieval method on a question set.

Questions (tests/data/search/questions.toml) are in citizens' words, each with the passage that
answers it (collection, document, article or a word of the heading). Methods: BM25 alone, each
embedder alone, and the fusion of all (and of BM25 with each embedder), so the choice of the default
is visible. Reported separately on the `dev` questions (looked at while choosing) and the `holdout`
ones (kept aside), plus, for the questions the documents do not answer, the best similarity found
(issue 21 sets its threshold between the two distributions).
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from plume.search.service import BM25, Hit, SearchService
from plume.search.stores import open_store

K = 5
MRR_DEPTH = 10


class Expected(msgspec.Struct, forbid_unknown_fields=True):
    collection: str
    document: str
    article: str | None = None
    heading: str | None = None


class Question(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    text: str
    expected: list[Expected]
    set: str = "dev"
    language: str = "fr"


def load_questions(path: Path) -> list[Question]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return msgspec.convert(raw["questions"], list[Question])


def matches(hit: Hit, expected: Expected) -> bool:
    if hit.collection != expected.collection or hit.document != expected.document:
        return False
    if expected.article is not None:
        return hit.locator is not None and hit.locator.split()[1] == expected.article
    return expected.heading is None or expected.heading.lower() in hit.heading.lower()


def rank_of(hits: Sequence[Hit], question: Question) -> int | None:
    """1-based rank of the first hit answering the question, or None."""
    return next((i for i, hit in enumerate(hits, 1) if any(matches(hit, e) for e in question.expected)), None)


def method_sets(service: SearchService) -> dict[str, list[str]]:
    """Name → methods fused: each alone, BM25 with each embedder, everything."""
    embedders = [e.id for e in service.embedders]
    sets = {BM25: [BM25], **{e: [e] for e in embedders}}
    if len(embedders) > 1:
        sets.update({f"{BM25}+{e}": [BM25, e] for e in embedders})
        sets.update({"+".join(pair): list(pair) for pair in itertools.combinations(embedders, 2)})
    sets["fusion"] = [BM25, *embedders]
    return sets


def evaluate(service: SearchService, questions: Sequence[Question],
             progress: Callable[[int, int], None] | None = None) -> dict:
    collections = list(service.collections().values())
    report: dict = {"k": K, "methods": {}, "questions": len(questions)}
    per_method: dict[str, dict] = {name: {"ranks": {}, "best_similarity": {}, "ms": []}
                                   for name in method_sets(service)}
    for done, question in enumerate(questions, 1):
        rankings, took = {}, {}
        for method in (BM25, *(e.id for e in service.embedders)):  # each method once per question
            started = time.perf_counter()
            rankings.update(service.rankings(question.text, collections, [method]))
            took[method] = (time.perf_counter() - started) * 1000
        for name, methods in method_sets(service).items():
            hits = service.hits({m: rankings[m] for m in methods}, MRR_DEPTH)
            per_method[name]["ms"].append(sum(took[m] for m in methods))
            per_method[name]["ranks"][question.id] = rank_of(hits, question)
            per_method[name]["best_similarity"][question.id] = hits[0].similarity if hits else 0.0
        if progress:
            progress(done, len(questions))
    for name, found in per_method.items():
        report["methods"][name] = _summary(questions, found)
    return report


def _summary(questions: Sequence[Question], found: dict) -> dict:
    summary = {}
    for subset in ("dev", "holdout", "all"):
        chosen = [q for q in questions if q.expected and (subset == "all" or q.set == subset)]
        ranks = [found["ranks"][q.id] for q in chosen]
        summary[subset] = {
            "questions": len(chosen),
            "recall_at_5": round(sum(1 for r in ranks if r is not None and r <= K) / max(1, len(chosen)), 3),
            "mrr": round(sum(1 / r for r in ranks if r is not None) / max(1, len(chosen)), 3),
        }
    unanswered = [found["best_similarity"][q.id] for q in questions if not q.expected]
    answered = [found["best_similarity"][q.id] for q in questions if q.expected]
    summary["similarity_unanswerable_max"] = round(max(unanswered, default=0.0), 3)
    summary["similarity_unanswerable_median"] = round(statistics.median(unanswered), 3) if unanswered else 0.0
    summary["similarity_answerable_median"] = round(statistics.median(answered), 3) if answered else 0.0
    summary["query_ms_median"] = round(statistics.median(found["ms"]), 1)
    summary["misses"] = sorted(q.id for q in questions if q.expected and found["ranks"][q.id] is None)
    return summary


def table(report: dict) -> str:
    lines = [f"Recherche : {report['questions']} questions, recall@{report['k']} et MRR@{MRR_DEPTH} "
             "(dev = questions regardées pour choisir ; holdout = questions mises de côté)",
             f"{'méthode':<32} {'dev R@5':>8} {'dev MRR':>8} {'hold R@5':>9} {'hold MRR':>9} {'tout R@5':>9} "
             f"{'ms':>6}  similarité du 1er passage : sans réponse (médiane, max) / avec réponse (médiane)"]
    for name, m in report["methods"].items():
        lines.append(f"{name:<32} {m['dev']['recall_at_5']:>8.0%} {m['dev']['mrr']:>8.3f} "
                     f"{m['holdout']['recall_at_5']:>9.0%} {m['holdout']['mrr']:>9.3f} {m['all']['recall_at_5']:>9.0%} "
                     f"{m['query_ms_median']:>6.0f}  {m['similarity_unanswerable_median']:.3f}, "
                     f"{m['similarity_unanswerable_max']:.3f} / {m['similarity_answerable_median']:.3f}")
    return "\n".join(lines)


def indexed_service(collections_file: Path, embedders, max_bytes: int, data_dir: Path | None = None,
                    weights: dict[str, float] | None = None) -> SearchService:
    """A service over a fresh index of `collections_file` (in `data_dir`, or a temporary folder)."""
    from plume.security.safezip import ZipLimits

    folder = data_dir or Path(tempfile.mkdtemp(prefix="plume-eval-search-"))
    service = SearchService(collections_file, open_store("", folder), embedders, max_bytes, ZipLimits(),
                            weights=weights)
    service.index()
    return service
