"""Routing e-mails to their service (issue 23): learning time and memory, triage time per mail, and
the service accuracy of each way of routing on the hand-written held-out e-mails.

Prints, measured in the same run on this machine:
  - `plume triage learn` over a Maildir export of --learn-count generated mails (tests/triage_mails.py):
    seconds, mails/s, peak memory, against reading and parsing the same export alone (the baseline);
    then a second learning of the same export (incremental: nothing new);
  - triage time per held-out mail: rules + router (learned), against the rules alone;
  - service accuracy on tests/data/triage/heldout (72 mails, fr/de/it, never learned from), per
    language: rules, directory alone, and learned from --compare-count generated mails: the ridge
    Plume keeps (alone and mixed with the directory), logistic regression (scikit-learn) and the
    nearest examples (k-NN) the same two ways.

    .venv/bin/python bench/triage_routing.py [--learn-count 10000] [--compare-count 2000]
    taskset -c 0,1 .venv/bin/python bench/triage_routing.py   # "2 cores"
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from plume.inference.embeddings import bundled_embedder  # noqa: E402
from plume.mail import parse_message  # noqa: E402
from plume.routing import store  # noqa: E402
from plume.routing.classifier import DIRECTORY_SHARE, fit_temperature, softmax, solve  # noqa: E402
from plume.routing.directory import load_directory  # noqa: E402
from plume.routing.features import EmbeddingCache, routing_text  # noqa: E402
from plume.routing.learning import LearnReport, learn  # noqa: E402
from plume.routing.router import Router, directory_scorer, with_directory_services  # noqa: E402
from plume.routing.sources import folder_map, path_mails  # noqa: E402
from plume.tasks.triage import load_rules, triage_by_rules  # noqa: E402
from tests.triage_mails import generate, write_maildirs  # noqa: E402

HELD_OUT = REPO / "tests" / "data" / "triage" / "heldout" / "emails"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def held_out():
    expected = tomllib.loads((HELD_OUT / "expected.toml").read_text(encoding="utf-8"))
    return [(parse_message(p.read_bytes(), p.name), expected[p.name]) for p in sorted(HELD_OUT.glob("*.eml"))]


def learning(count: int, embedder) -> Path:
    directory = load_directory()
    work = Path(tempfile.mkdtemp(prefix="plume-bench-routing-"))
    write_maildirs(work / "export", generate(count, seed=23))
    folders = folder_map(directory)
    started = time.perf_counter()
    parsed = sum(1 for mail in path_mails(work / "export", folders, directory, lambda _: None) if mail.read())
    baseline = time.perf_counter() - started
    embedder.embed(["chargement"])  # the embedder's loading is not learning
    before = peak_mb()
    started = time.perf_counter()
    report = learn(path_mails(work / "export", folders, directory, lambda _: None), directory, work / "data", embedder,
                   LearnReport())
    seconds = time.perf_counter() - started
    print(f"learning {count} mails: {seconds:.1f} s ({count / seconds:.0f} mails/s, {report.embedded} embedded), "
          f"peak memory {peak_mb():.0f} MB ({peak_mb() - before:+.0f} MB over the loaded embedder)")
    print(f"  baseline, reading and parsing the export alone: {baseline:.1f} s ({parsed} mails): "
          f"ratio {seconds / baseline:.1f}")
    started = time.perf_counter()
    again = learn(path_mails(work / "export", folders, directory, lambda _: None), directory, work / "data", embedder)
    print(f"  second learning, nothing new: {time.perf_counter() - started:.1f} s ({dict(again.outcomes)})")
    validated = sum(f.validated for f in report.figures)
    right = sum(round((f.recall or 0) * f.validated) for f in report.figures)
    print(f"  cross-validated routing of the generated mails: {right / validated:.1%}")
    return work / "data"


def triage_time(data: Path, embedder) -> None:
    router = Router(load_directory(), embedder, store.load(store.path_in(data)))
    rules = with_directory_services(load_rules(), router.directory)
    mails = [mail for mail, _ in held_out()]
    started = time.perf_counter()
    for mail in mails:
        triage_by_rules(mail, rules)
    rules_only = (time.perf_counter() - started) / len(mails)
    started = time.perf_counter()
    for mail in mails:
        router.route(mail, triage_by_rules(mail, rules), rules)
    routed = (time.perf_counter() - started) / len(mails)
    print(f"triage per mail: rules + router {routed * 1000:.1f} ms, rules alone (baseline) {rules_only * 1000:.1f} ms: "
          f"ratio {routed / rules_only:.1f}")


def accuracy(count: int, embedder) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    directory, rules = load_directory(), load_rules()
    names = directory.names
    cache = EmbeddingCache(embedder)
    train = generate(count, seed=23)
    x = cache.vectors([routing_text(parse_message(m.raw)) for m in train])
    y = np.array([names.index(m.service) for m in train])
    tests = held_out()
    xt = cache.vectors([routing_text(m) for m, _ in tests])
    yt = np.array([names.index(e["service"]) for _, e in tests])
    languages = np.array([e["language"] for _, e in tests])
    scorer = directory_scorer(directory, embedder, 0.02)
    scorer.temperature = fit_temperature(scorer.scores(x), y)  # on the training mails, as learning does
    p_directory = scorer.probabilities(xt)

    def line(name: str, predicted: np.ndarray) -> None:
        right = predicted == yt
        per = "  ".join(f"{lang} {right[languages == lang].mean():.0%}" for lang in ("fr", "de", "it"))
        print(f"  {name:44s} {right.mean():6.1%}   {per}")

    def mixed(p: np.ndarray) -> np.ndarray:
        return ((1 - DIRECTORY_SHARE) * p + DIRECTORY_SHARE * p_directory).argmax(axis=1)

    print(f"service accuracy on the {len(tests)} held-out mails (learned from {count} generated mails):")
    by_rules = [triage_by_rules(m, rules).service for m, _ in tests]
    line("rules (keywords)", np.array([names.index(s) if s in names else -1 for s in by_rules]))
    line("directory alone", p_directory.argmax(axis=1))
    learned = store.load(store.path_in(learn_quietly(train, directory, embedder)))
    ridge = solve(learned.stats, learned.alpha)
    p_ridge = softmax(ridge.scores(xt), learned.temperature)
    line(f"ridge (kept; alpha {learned.alpha})", p_ridge.argmax(axis=1))
    line("ridge + directory (kept: what Plume routes with)",
         Router(directory, embedder, learned).learned.probabilities(xt).argmax(axis=1))
    logistic = LogisticRegression(C=10, max_iter=3000).fit(x, y)
    line("logistic regression (scikit-learn, C=10)", logistic.predict(xt))
    line("logistic regression + directory", mixed(_full(logistic.predict_proba(xt), logistic.classes_, len(names))))
    for k in (5, 15):
        knn = KNeighborsClassifier(k, metric="cosine", weights="distance").fit(x, y)
        line(f"nearest examples (k={k})", knn.predict(xt))
        line(f"nearest examples (k={k}) + directory", mixed(_full(knn.predict_proba(xt), knn.classes_, len(names))))


def _full(p: np.ndarray, classes: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(p), k))
    out[:, classes] = p
    return out


def learn_quietly(train, directory, embedder) -> Path:
    from plume.routing.sources import FiledMail, mail_key

    data = Path(tempfile.mkdtemp(prefix="plume-bench-compare-"))
    learn([FiledMail(mail_key(m.raw.split(b"\n\n", 1)[0]), "x", m.service, None,
                     lambda raw=m.raw: parse_message(raw)) for m in train], directory, data, embedder)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learn-count", type=int, default=10000)
    parser.add_argument("--compare-count", type=int, default=2000)
    args = parser.parse_args()
    embedder = bundled_embedder()
    with tempfile.TemporaryDirectory(prefix="plume-bench-routing-") as work:  # exports and learnings: removed after
        tempfile.tempdir = work
        data = learning(args.learn_count, embedder) if args.learn_count else None
        if data is not None:
            triage_time(data, embedder)
        if args.compare_count:
            accuracy(args.compare_count, embedder)


if __name__ == "__main__":
    main()
