"""The sentence embedders search uses: bundled ones by name (inference/embeddings.py) or
`kind = "embedding"` models of the catalog by id; questions and passages embedded each the way the
embedder was trained (e5's « query: » / « passage: »)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from plume.inference.embeddings import BUNDLED, Embedder, bundled_embedder

BATCH = 32


class EmbedderUnavailable(ValueError):
    """French, names the embedder and what to do."""


def embedders_for(names: Sequence[str], models_file: Path | None) -> list[Embedder]:
    found: list[Embedder] = []
    for name in names:
        if name in BUNDLED:
            found.append(bundled_embedder(name))
            continue
        found.append(_catalog_embedder(name, models_file))
    return found


def _catalog_embedder(name: str, models_file: Path | None) -> Embedder:
    from plume.inference.catalog import check_files, load_catalog
    from plume.inference.embeddings import OnnxEmbedder

    entry = load_catalog(models_file).get(name) if models_file else None
    if entry is None or entry.kind != "embedding":
        raise EmbedderUnavailable(f"Plongement « {name} » inconnu : ni intégré ({', '.join(BUNDLED)}), ni modèle "
                                  f"« kind = \"embedding\" » du catalogue {models_file}.")
    if problems := check_files(entry):
        raise EmbedderUnavailable("; ".join(problems))
    return OnnxEmbedder(entry)


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    return getattr(embedder, "embed_queries", embedder.embed)(list(texts))


def embed_passages(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """In batches, so memory stays flat on a long regulation."""
    encode = getattr(embedder, "embed_passages", embedder.embed)
    parts = [encode(list(texts[i:i + BATCH])) for i in range(0, len(texts), BATCH)]
    return np.vstack(parts) if parts else np.zeros((0, embedder.dimension), np.float32)


def signature(embedders: Sequence[Embedder]) -> str:
    """Part of each document's recorded hash: a new embedder set re-embeds every document."""
    return ",".join(sorted(e.id for e in embedders))
