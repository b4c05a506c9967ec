"""E-mail triage benchmark: agreement with the clerk (samples/emails/expected.toml) and messages/s.

Prints, measured in the same run on this machine:
  - per-field agreement of the rules, against a baseline that gives every message the most common
    answer of the samples (what "no triage at all" would score);
  - messages/s of parsing + triage by the rules, against parsing alone (the cost triage adds),
    over an mbox of the samples repeated --repeat times;
  - with --models FILE, the same agreement and rate with the catalog's model.

    .venv/bin/python bench/triage.py [--repeat 50] [--models onnx_models/tiny/models.toml]
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import os
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
SAMPLES = Path(os.environ.get("PLUME_SAMPLES", REPO / "tests" / "data" / "samples"))
FIELDS = ("category", "priority", "service", "language", "needs_reply", "deadline")

from plume.mail import iter_mailbox  # noqa: E402
from plume.tasks.triage import load_rules, triage, triage_by_rules  # noqa: E402


def agreement(rows, expected) -> dict[str, float]:
    return {f: sum(getattr(r, f) == expected[r.file].get(f) for r in rows) / len(rows) for f in FIELDS}


def majority_baseline(expected) -> dict[str, float]:
    scores = {}
    for f in FIELDS:
        values = [e.get(f) for e in expected.values()]
        scores[f] = Counter(values).most_common(1)[0][1] / len(values)
    return scores


def rate(box: Path, work) -> tuple[float, int]:
    started, count = time.perf_counter(), 0
    for mail in iter_mailbox(box):
        work(mail)
        count += 1
    return count / (time.perf_counter() - started), count


async def with_model(models: Path, messages, rules):
    from plume.cli.triage import _inference
    from plume.tasks.common import InvalidModelOutput

    service = await _inference(models)
    if service is None:
        return None
    rows, failures, started = [], 0, time.perf_counter()
    try:
        for mail in messages:
            try:
                rows.append(await triage(mail, rules, service))
            except InvalidModelOutput:
                failures += 1
                rows.append(triage_by_rules(mail, rules))
    finally:
        await service.stop()
    return rows, failures, len(messages) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="copies of the 8 samples in the speed mbox")
    parser.add_argument("--models", type=Path, help="model catalog, to measure the model too")
    args = parser.parse_args()
    expected = tomllib.loads((SAMPLES / "emails" / "expected.toml").read_text(encoding="utf-8"))
    rules = load_rules()
    messages = list(iter_mailbox(SAMPLES / "emails"))
    triage_by_rules(messages[0], rules)  # warm the language detector

    rows = [triage_by_rules(m, rules) for m in messages]
    ours, base = agreement(rows, expected), majority_baseline(expected)
    print(f"Agreement with the clerk on {len(rows)} messages (rules vs most-common-answer baseline):")
    for f in FIELDS:
        print(f"  {f:12s} {ours[f]:6.0%}   baseline {base[f]:6.0%}   ratio {ours[f] / base[f]:.2f}x")

    with tempfile.TemporaryDirectory() as tmp:
        box_path = Path(tmp) / "bench.mbox"
        box = mailbox.mbox(box_path)
        raw = [p.read_bytes() for p in sorted((SAMPLES / "emails").glob("*.eml"))]
        for _ in range(args.repeat):
            for message in raw:
                box.add(message)
        box.flush()
        parse_rate, n = rate(box_path, lambda m: None)
        triage_rate, _ = rate(box_path, lambda m: triage_by_rules(m, rules))
    print(f"\nSpeed over an mbox of {n} messages (one CPU core):")
    print(f"  parse only        {parse_rate:8.0f} messages/s (baseline)")
    print(f"  parse + triage    {triage_rate:8.0f} messages/s   ratio {triage_rate / parse_rate:.2f}x of parsing alone")

    if args.models:
        result = asyncio.run(with_model(args.models, messages, rules))
        if result is None:
            print(f"\nNo model for triage in {args.models}.")
            return
        model_rows, failures, model_rate = result
        scores = agreement(model_rows, expected)
        print(f"\nWith the model ({failures}/{len(messages)} invalid answers fell back to the rules):")
        for f in FIELDS:
            print(f"  {f:12s} {scores[f]:6.0%}   rules {ours[f]:6.0%}")
        print(f"  {model_rate:.2f} messages/s   ratio {model_rate / triage_rate:.4f}x of the rules")


if __name__ == "__main__":
    main()
