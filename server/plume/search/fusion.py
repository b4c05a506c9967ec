"""Fusing the rankings of BM25 and the embedders: weighted reciprocal rank fusion.

RRF (Cormack et al. 2009) needs no score calibration between methods whose scores live on different
scales (BM25 is unbounded, cosines cluster differently per embedder). Each method's contribution is
weight / (K + rank). `score` of a hit is the fused value divided by its maximum (every method
ranking it first), so 1.0 means « first everywhere »; a hit's `similarity` (service.py) is the
first embedder's cosine, the absolute measure an answer route can put a threshold on (issue 21).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

K = 60
# Chosen on the `dev` questions of tests/data/search/questions.toml, reported on the `holdout` ones
# (docs/search.md): e5 ranks best alone, USE adds what e5 misses, BM25 at a low weight keeps exact
# words (amounts, names, article numbers) from being drowned. A method not listed weighs 1.
DEFAULT_WEIGHTS = {"bm25": 0.25, "use-multilingual-v3": 1.0, "e5-small": 2.0}


def fuse(rankings: Mapping[str, Sequence[tuple[int, float]]], weights: Mapping[str, float] | None = None,
         k: int = K) -> list[tuple[int, float]]:
    """(passage id, normalised fused score), best first."""
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    fused: dict[int, float] = defaultdict(float)
    for method, ranking in rankings.items():
        weight = weights.get(method, 1.0)
        for rank, (passage_id, _) in enumerate(ranking, start=1):
            fused[passage_id] += weight / (k + rank)
    best = sum(weights.get(m, 1.0) for m in rankings) / (k + 1) or 1.0
    return sorted(((pid, score / best) for pid, score in fused.items()), key=lambda pair: -pair[1])
