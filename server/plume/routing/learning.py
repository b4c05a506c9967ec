"""`plume triage learn`: learn the service of a mail from where the clerks file it.

Incremental: a mail already learned in the same folder is skipped (never downloaded again); a new
one is added; a mail a clerk moved to another service's folder since (or one Plume filed under
another service, per its keyword) is a correction: its share moves to the service the clerk chose,
with CORRECTION_WEIGHT. The first learning picks the ridge penalty and fits the temperatures by
5-fold cross-validation, whose per-service precision and recall are the figures IT sees; later
learnings first route each new mail with the classifier as it was (an honest test, since it never
saw the mail) and add those outcomes to the figures.

Nothing of a mail is kept: the embedding cache lives in memory for this learning only, the store
holds statistics and hashes (store.py), the audit counts (one line per service and outcome).
"""

from __future__ import annotations

import fcntl
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from plume.inference.embeddings import Embedder
from plume.routing import store
from plume.routing.classifier import LearnedRouter, Statistics, cross_validated, fit_temperature, solve
from plume.routing.directory import Directory
from plume.routing.features import EmbeddingCache, routing_text
from plume.routing.router import directory_scorer
from plume.routing.sources import FiledMail

CORRECTION_WEIGHT = 3.0
ALPHAS = (0.1, 0.3, 1.0, 3.0)  # the ridge penalty is picked by cross-validation among these
MIN_CROSS_VALIDATION = 20  # fewer mails than this: no figures, they would mean nothing


@dataclass
class ServiceFigures:
    service: str
    learned: int          # mails counted for it
    validated: int        # mails of it routed by a classifier that had not seen them
    precision: float | None
    recall: float | None
    corrections: int


@dataclass
class LearnReport:
    outcomes: Counter = field(default_factory=Counter)  # new, correction, unchanged, unreadable
    by_service: dict[str, Counter] = field(default_factory=dict)
    skipped_folders: list[str] = field(default_factory=list)
    figures: list[ServiceFigures] = field(default_factory=list)
    restarted: str = ""   # why learning started over, when it did
    embedded: int = 0
    seconds: float = 0.0

    def count(self, service: str, outcome: str) -> None:
        self.outcomes[outcome] += 1
        self.by_service.setdefault(service, Counter())[outcome] += 1


@dataclass
class _Batch:
    keys: list[bytes] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    previous: list[tuple[int, float] | None] = field(default_factory=list)  # ledger entry being corrected
    corrected: list[bool] = field(default_factory=list)


class Busy(RuntimeError):
    """Another learning holds this data folder."""


def learn(mails: Iterable[FiledMail], directory: Directory, data_dir: Path, embedder: Embedder,
          report: LearnReport | None = None, from_scratch: bool = False) -> LearnReport:
    """Learn from `mails` into DATA/routing/learned.npz; raises Busy when another learning runs."""
    lock_path = store.path_in(data_dir).with_suffix(".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as lock:
        try:  # two learnings at once would each save over the other's
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy("un autre apprentissage est en cours pour ce dossier de données") from None
        return _learn(mails, directory, data_dir, embedder, report or LearnReport(), from_scratch)


def _learn(mails: Iterable[FiledMail], directory: Directory, data_dir: Path, embedder: Embedder,
           report: LearnReport, from_scratch: bool) -> LearnReport:
    started = time.monotonic()
    learned = _previous(data_dir, embedder, directory, from_scratch, report)
    first = learned.stats.weights.sum() <= 0  # nothing counted yet: this learning cross-validates
    batch = _collect(mails, learned, report)
    if not report.outcomes:  # no mail in any service folder: nothing to keep
        report.seconds = time.monotonic() - started
        return report
    cache = EmbeddingCache(embedder)
    x = cache.vectors(batch.texts)
    report.embedded = cache.embedded
    labels, weights = np.array(batch.labels, dtype=np.int64), np.array(batch.weights)
    if not first and len(x):
        _validate_new(learned, directory, embedder, x, labels, np.array(batch.corrected))
    for i, entry in enumerate(batch.previous):
        if entry is not None:  # moved since the last learning: its share leaves the old service
            learned.stats.add(x[i:i + 1], np.array([entry[0]]), np.array([entry[1]]), sign=-1.0)
    learned.stats.add(x, labels, weights)
    for key, label, weight in zip(batch.keys, batch.labels, batch.weights):
        learned.ledger[key] = (label, weight)
    np.add.at(learned.corrections, labels[np.array(batch.corrected, dtype=bool)], 1)
    if first and len(x) >= MIN_CROSS_VALIDATION:
        _cross_validate(learned, directory, embedder, x, labels, weights)
    learned.learnings += 1
    store.save(learned, store.path_in(data_dir))
    report.figures = figures(learned)
    report.seconds = time.monotonic() - started
    return report


def _previous(data_dir: Path, embedder: Embedder, directory: Directory, from_scratch: bool,
              report: LearnReport) -> store.Learned:
    previous = None if from_scratch else store.load(store.path_in(data_dir))
    if previous is not None and previous.embedder != embedder.id:
        report.restarted = f"l'encodeur a changé ({previous.embedder} → {embedder.id}) : tout est réappris"
        previous = None
    elif from_scratch:
        report.restarted = "réapprentissage complet demandé"
    if previous is not None:
        return previous.with_services(directory.names)
    return store.Learned(embedder=embedder.id, services=list(directory.names),
                         stats=Statistics.empty(len(directory.names), embedder.dimension))


def _collect(mails: Iterable[FiledMail], learned: store.Learned, report: LearnReport) -> _Batch:
    """The mails this learning must embed: new ones and moved ones (the others are counted)."""
    batch, seen = _Batch(), set()
    for mail in mails:
        if mail.key in seen:  # the same mail filed twice (a copy in two folders): the first counts
            continue
        seen.add(mail.key)
        label = learned.index(mail.service)
        before = learned.ledger.get(mail.key)
        if before is not None and before[0] == label:
            report.count(mail.service, "inchange")
            continue
        corrected = before is not None or (mail.plume_service is not None and mail.plume_service != mail.service)
        try:
            text = routing_text(mail.read()) if mail.read else ""
        except Exception:  # noqa: BLE001 - one unreadable mail never stops learning (the type only is kept)
            text = ""
        if not text:
            report.count(mail.service, "illisible")
            continue
        batch.keys.append(mail.key)
        batch.texts.append(text)
        batch.labels.append(label)
        batch.weights.append(CORRECTION_WEIGHT if corrected else 1.0)
        batch.previous.append(before)
        batch.corrected.append(corrected)
        report.count(mail.service, "correction" if corrected else "nouveau")
    return batch


def _validate_new(learned: store.Learned, directory: Directory, embedder: Embedder, x: np.ndarray,
                  labels: np.ndarray, corrected: np.ndarray) -> None:
    """Route the new mails with the classifier as it was before them: figures on unseen mail."""
    fresh = ~corrected
    if not fresh.any() or learned.stats.weights.sum() <= 0:
        return
    scorer = directory_scorer(directory, embedder, learned.directory_temperature, learned.services)
    router = LearnedRouter(solve(learned.stats, learned.alpha), learned.temperature, scorer, learned.stats.weights > 0)
    np.add.at(learned.confusion, (labels[fresh], router.probabilities(x[fresh]).argmax(axis=1)), 1)


def _cross_validate(learned: store.Learned, directory: Directory, embedder: Embedder, x: np.ndarray,
                    labels: np.ndarray, weights: np.ndarray) -> None:
    """First learning: the directory's temperature on the commune's own mails, then the ridge penalty
    whose 5-fold cross-validated routing is best, and its figures."""
    scorer = directory_scorer(directory, embedder, learned.directory_temperature, learned.services)
    scorer.temperature = learned.directory_temperature = fit_temperature(scorer.scores(x), labels)
    best = None
    for alpha in ALPHAS:
        probabilities, temperature = cross_validated(learned.stats, x, labels, weights, scorer, alpha)
        predicted = probabilities.argmax(axis=1)
        accuracy = float((predicted == labels).mean())
        if best is None or accuracy > best[0]:
            best = (accuracy, alpha, temperature, predicted)
    _, learned.alpha, learned.temperature, predicted = best
    learned.confusion[:] = 0
    np.add.at(learned.confusion, (labels, predicted), 1)


def figures(learned: store.Learned) -> list[ServiceFigures]:
    counted = Counter(label for label, _ in learned.ledger.values())
    out = []
    for k, service in enumerate(learned.services):
        routed, filed, right = learned.confusion[:, k].sum(), learned.confusion[k].sum(), learned.confusion[k, k]
        out.append(ServiceFigures(service, counted.get(k, 0), int(filed), right / routed if routed else None,
                                  right / filed if filed else None, int(learned.corrections[k])))
    return out
