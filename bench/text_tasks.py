"""Text tasks without a model: what the rules do to the samples, and what they cost, as ratios
measured in the same run on this machine. Nothing is asserted.

(a) plain language: Kandel-Moles and LIX before/after the safe jargon substitutions on each sample
    text, and the share of jargon found that could be replaced automatically;
(b) cost of the plain-language rules (measures before/after, diagnostics) against the bare spaCy
    parse of the same text (baseline);
(c) Apertium fr→es: HTML mode (tags kept) against plain-text mode (baseline), and the run-by-run
    repair against HTML mode;
(d) extractive summary of a long report against splitting it into sentences (baseline).

    .venv/bin/python bench/text_tasks.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
SAMPLES = Path(os.environ.get("PLUME_SAMPLES", REPO / "tests" / "data" / "samples"))


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from plume.language import apertium, extractive, lexicon, tags
    from plume.language.nlp import french, parse as cached_parse
    from plume.language.sentences import sentences
    from plume.tasks import translate
    from plume.tasks.plain_language import with_rules

    terms = lexicon.load(None)
    texts = {p.name: p.read_text() for p in sorted((SAMPLES / "texts").glob("*.txt"))}

    print("(a) plain-language rules on the samples (Kandel-Moles: higher is easier; LIX: lower is easier)")
    for name, text in texts.items():
        r = with_rules(text, "B1", terms)
        found = sum(1 for d in r.diagnostics if d.kind == "jargon")
        print(f"    {name:36} KM {r.before.kandel_moles:6.1f} → {r.after.kandel_moles:6.1f}   "
              f"LIX {r.before.lix:5.1f} → {r.after.lix:5.1f}   jargon {found:2}, replaced {len(r.substitutions):2}")

    report = "\n\n".join(texts.values()) * 10
    nlp = french()
    parse = best(lambda: nlp(report), args.repeat)
    rules = best(lambda: (cached_parse.cache_clear(), with_rules(report, "B1", terms)), args.repeat)
    print(f"(b) {len(report)} characters: rules {rules:.2f} s, spaCy parse alone {parse:.2f} s → ratio {rules / parse:.2f}")

    html = (SAMPLES / "texts" / "05-formatted.html").read_text()
    plain = tags.plain(html)
    txt = best(lambda: apertium.translate(plain, "fr", "es"), args.repeat)
    tagged = best(lambda: apertium.translate(html, "fr", "es", html=True), args.repeat)

    async def by_runs():
        async def one(run):
            return apertium.translate(run, "fr", "es")
        return await translate._by_runs(one, html)

    repair = best(lambda: asyncio.run(by_runs()), args.repeat)
    print(f"(c) Apertium fr→es: HTML mode {tagged * 1000:.0f} ms vs text {txt * 1000:.0f} ms → ratio {tagged / txt:.2f}; "
          f"run-by-run repair {repair * 1000:.0f} ms → {repair / tagged:.1f}× HTML mode")

    split = best(lambda: sentences(report), args.repeat)
    summary = best(lambda: extractive.summarize(report, "medium"), args.repeat)
    print(f"(d) extractive summary {summary * 1000:.0f} ms vs sentence split {split * 1000:.0f} ms → ratio {summary / split:.1f}")


if __name__ == "__main__":
    main()
