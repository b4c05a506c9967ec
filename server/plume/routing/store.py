"""What learning keeps, in DATA/routing/learned.npz: the ridge statistics per service, the embedder
they were computed with, the figures shown to IT, and a ledger of which mail (by a hash of its
Message-ID) was counted under which service, so that a mail moved since is a correction and a mail
seen before is not counted twice. Never a mail's text, subject, address or vector.

One numpy archive (no pickle), written atomically; its `meta` entry is JSON.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from plume.files import atomic_write
from plume.routing.classifier import ALPHA, Statistics

FILE = Path("routing") / "learned.npz"
FORMAT = 1


@dataclass
class Learned:
    embedder: str
    services: list[str]
    stats: Statistics
    alpha: float = ALPHA
    temperature: float = 0.1             # of the ridge scores, fitted by cross-validation
    directory_temperature: float = 0.02  # of the directory similarities, fitted on the commune's mails
    ledger: dict[bytes, tuple[int, float]] = field(default_factory=dict)  # mail key → (service, weight)
    confusion: np.ndarray | None = None  # (K, K) validated mails: filed service × routed service
    corrections: np.ndarray | None = None  # (K,) corrections learned, by the service the clerk chose
    learned_at: str = ""
    learnings: int = 0

    def __post_init__(self) -> None:
        k = len(self.services)
        self.confusion = np.zeros((k, k), dtype=np.int64) if self.confusion is None else self.confusion
        self.corrections = np.zeros(k, dtype=np.int64) if self.corrections is None else self.corrections

    def with_services(self, names: list[str]) -> Learned:
        """The same learning with room for services added to the directory since (kept in order)."""
        added = [n for n in names if n not in self.services]
        if not added:
            return self
        k = len(self.services) + len(added)
        confusion = np.zeros((k, k), dtype=np.int64)
        confusion[:len(self.services), :len(self.services)] = self.confusion
        self.services = self.services + added
        self.stats = self.stats.grown(k)
        self.confusion, self.corrections = confusion, np.concatenate([self.corrections, np.zeros(len(added), np.int64)])
        return self

    def index(self, service: str) -> int:
        return self.services.index(service)


def path_in(data_dir: Path) -> Path:
    return Path(data_dir) / FILE


def save(learned: Learned, path: Path) -> None:
    learned.learned_at = datetime.now(UTC).isoformat(timespec="seconds")
    keys = list(learned.ledger)
    meta = {"format": FORMAT, "embedder": learned.embedder, "services": learned.services, "alpha": learned.alpha,
            "temperature": learned.temperature, "directory_temperature": learned.directory_temperature,
            "learned_at": learned.learned_at, "learnings": learned.learnings}
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
        weights=learned.stats.weights, sums=learned.stats.sums, gram=learned.stats.gram,
        ledger_keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16) if keys
        else np.zeros((0, 16), np.uint8),
        ledger_services=np.array([learned.ledger[k][0] for k in keys], dtype=np.int32),
        ledger_weights=np.array([learned.ledger[k][1] for k in keys], dtype=np.float32),
        confusion=learned.confusion, corrections=learned.corrections)
    atomic_write(path, buffer.getvalue(), mode=0o600)


def load(path: Path) -> Learned | None:
    """The learning stored at `path`, or None when there is none (or one of another format)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(archive["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT:
                return None
            keys = [bytes(row) for row in archive["ledger_keys"]]
            ledger = dict(zip(keys, zip(archive["ledger_services"].tolist(), archive["ledger_weights"].tolist())))
            return Learned(embedder=meta["embedder"], services=list(meta["services"]),
                           stats=Statistics(archive["weights"], archive["sums"], archive["gram"]),
                           alpha=meta["alpha"], temperature=meta["temperature"],
                           directory_temperature=meta["directory_temperature"], ledger=ledger,
                           confusion=archive["confusion"], corrections=archive["corrections"],
                           learned_at=meta["learned_at"], learnings=meta["learnings"])
    except FileNotFoundError:
        return None
