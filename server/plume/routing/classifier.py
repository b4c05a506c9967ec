"""The two ways the router scores services from a mail's embedding:

- the directory: cosine similarity of the mail to each service's duties and typical subjects (the
  mean of its two closest), turned into probabilities with a temperature;
- the learned classifier: a ridge classifier (one-vs-all least squares, targets ±1, with intercept,
  the model of scikit-learn's RidgeClassifier) solved from sufficient statistics: per-service sums and
  weights and the Gram matrix Σ w·x·xᵀ. These are all learning keeps: adding mails adds to them and a
  clerk's correction moves a mail's share from one service to another, so relearning is incremental
  and exact, and no mail (nor any mail's vector) is ever stored. scikit-learn has no incremental ridge
  (nor LDA): the closed form below is ten lines of numpy, checked against RidgeClassifier in the tests.

Measured on the held-out e-mails (docs/triage.md), the learned scores mixed half and half with the
directory's route better than either alone: the commune's sorting knows its habits, the directory
covers what the sorted mail never showed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA = 1.0            # ridge penalty
DIRECTORY_SHARE = 0.5  # weight of the directory in the learned router's probabilities
TEMPERATURES = np.geomspace(0.005, 1.0, 40)


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, labels: np.ndarray) -> float:
    """The temperature whose softmax gives the labels the highest likelihood (a grid is enough)."""
    if len(labels) == 0:
        return 0.1
    rows = np.arange(len(labels))
    losses = [-np.log(softmax(scores, t)[rows, labels] + 1e-12).mean() for t in TEMPERATURES]
    return float(TEMPERATURES[int(np.argmin(losses))])


# ------------------------------------------------------------------------------------ directory
@dataclass
class DirectoryScorer:
    services: list[str]
    vectors: np.ndarray   # one row per description
    owner: np.ndarray     # service index of each row
    temperature: float = 0.03

    def scores(self, x: np.ndarray) -> np.ndarray:
        """(n, K): per service, the mean similarity of its two closest descriptions."""
        similarity = x @ self.vectors.T
        out = np.full((len(x), len(self.services)), -1.0, dtype=np.float64)
        for k in range(len(self.services)):
            columns = similarity[:, self.owner == k]
            if columns.shape[1]:
                out[:, k] = np.sort(columns, axis=1)[:, -2:].mean(axis=1)
        return out

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.scores(x), self.temperature)


# -------------------------------------------------------------------------------------- learned
@dataclass
class Statistics:
    """Sufficient statistics of the weighted ridge classifier, per service index."""
    weights: np.ndarray  # (K,) Σ w of the mails filed under each service
    sums: np.ndarray     # (K, D) Σ w·x
    gram: np.ndarray     # (D, D) Σ w·x·xᵀ

    @classmethod
    def empty(cls, services: int, dimension: int) -> Statistics:
        return cls(np.zeros(services), np.zeros((services, dimension)), np.zeros((dimension, dimension)))

    def add(self, x: np.ndarray, labels: np.ndarray, weights: np.ndarray, sign: float = 1.0) -> None:
        x64 = x.astype(np.float64)
        w = sign * np.asarray(weights, dtype=np.float64)
        np.add.at(self.weights, labels, w)
        np.add.at(self.sums, labels, w[:, None] * x64)
        self.gram += (x64 * w[:, None]).T @ x64

    def minus(self, other: Statistics) -> Statistics:
        return Statistics(self.weights - other.weights, self.sums - other.sums, self.gram - other.gram)

    def grown(self, services: int) -> Statistics:
        """The same statistics with room for services added to the directory since."""
        extra = services - len(self.weights)
        if extra <= 0:
            return self
        return Statistics(np.concatenate([self.weights, np.zeros(extra)]),
                          np.vstack([self.sums, np.zeros((extra, self.sums.shape[1]))]), self.gram)


@dataclass
class Ridge:
    coef: np.ndarray       # (K, D)
    intercept: np.ndarray  # (K,)

    def scores(self, x: np.ndarray) -> np.ndarray:
        return x.astype(np.float64) @ self.coef.T + self.intercept


def solve(stats: Statistics, alpha: float = ALPHA) -> Ridge:
    """argmin Σ w·(y − x·b − c)² + α‖b‖² per service, y = +1 for its mails and −1 for the others."""
    total = stats.weights.sum()
    if total <= 0:
        return Ridge(np.zeros_like(stats.sums), np.full(len(stats.weights), -1.0))
    mean_x = stats.sums.sum(axis=0) / total
    mean_y = (2 * stats.weights - total) / total
    xty = 2 * stats.sums - stats.sums.sum(axis=0)  # Σ w·x·y for each service
    centred_gram = stats.gram - total * np.outer(mean_x, mean_x)
    centred_xty = xty - total * np.outer(mean_y, mean_x)
    coef = np.linalg.solve(centred_gram + alpha * np.eye(len(mean_x)), centred_xty.T).T
    return Ridge(coef, mean_y - coef @ mean_x)


def mix(scores: np.ndarray, temperature: float, directory: np.ndarray, learned: np.ndarray) -> np.ndarray:
    """The sorting's probabilities (over the services it showed) mixed with the directory's."""
    if not learned.any():
        return directory
    scores = scores.copy()
    scores[:, ~learned] = -np.inf  # a service no clerk ever filed a mail for: the directory alone speaks for it
    return (1 - DIRECTORY_SHARE) * softmax(scores, temperature) + DIRECTORY_SHARE * directory


@dataclass
class LearnedRouter:
    ridge: Ridge
    temperature: float
    directory: DirectoryScorer
    learned: np.ndarray  # (K,) bool: services the sorting showed at least one mail of

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return mix(self.ridge.scores(x), self.temperature, self.directory.probabilities(x), self.learned)


# ------------------------------------------------------------------------------ cross-validation
def folds_of(count: int, folds: int, seed: int = 23) -> np.ndarray:
    order = np.random.default_rng(seed).permutation(count)
    fold = np.empty(count, dtype=np.int64)
    fold[order] = np.arange(count) % folds
    return fold


def cross_validated(stats: Statistics, x: np.ndarray, labels: np.ndarray, weights: np.ndarray,
                    directory: DirectoryScorer, alpha: float = ALPHA, folds: int = 5) -> tuple[np.ndarray, float]:
    """Probabilities for the mails in `x` (all part of `stats`), each from a router learned without
    its fold, and the ridge temperature fitted on those held-out scores. Exact: a fold's statistics
    are subtracted from the whole."""
    fold = folds_of(len(x), folds)
    scores = np.zeros((len(x), len(stats.weights)))
    for f in range(folds):
        inside = fold == f
        if not inside.any():
            continue
        part = Statistics.empty(len(stats.weights), x.shape[1])
        part.add(x[inside], labels[inside], weights[inside])
        scores[inside] = solve(stats.minus(part), alpha).scores(x[inside])
    temperature = fit_temperature(scores, labels)
    return mix(scores, temperature, directory.probabilities(x), stats.weights > 0), temperature
