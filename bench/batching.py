"""Concurrent requests on one model: onnxruntime-genai's own continuous-batching `og.Engine` against
Plume's BatchDecoder (plain onnxruntime, static batches, right padding), at 1, 4 and 8 concurrent
requests: total tokens/s, time to first token, peak memory. Each measurement runs in its own process
(so peak memory is that of one way of serving, weights included).

    .venv/bin/python bench/batching.py --model FOLDER [--concurrency 1,4,8] [--tokens 128] [--ways og-engine,batch-decoder]

FOLDER: an onnxruntime-genai export, e.g. the reference model of scripts/reference-model.sh.
Nothing is asserted: figures are printed, for docs/inference.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
SAMPLES = REPO / "tests" / "data" / "samples"
WAYS = ("og-engine", "batch-decoder")


def prompts(engine, n: int) -> list[str]:
    """n different summary requests (different lengths, as real traffic), from the samples."""
    texts = sorted(p for p in SAMPLES.rglob("*.txt") if not p.name.endswith(".expected.txt"))[: max(n, 1)]
    texts = (texts * n)[:n] if texts else ["Le Conseil général a adopté le budget 2027."] * n
    return [engine.format_chat([{"role": "user", "content": "Résume ce texte en trois phrases :\n\n"
                                 + Path(t).read_text(encoding="utf-8")[: 300 + 150 * i]}])
            for i, t in enumerate(texts)]


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_batch_decoder(engine, texts: list[str], tokens: int) -> tuple[int, list[float]]:
    """Today's path: GenAIEngine.generate_batch (one og generator alone, BatchDecoder for several)."""
    from plume.inference.engine import CancelToken, GenerationParams

    start, total, first = time.perf_counter(), 0, [0.0] * len(texts)
    for step in engine.generate_batch(texts, GenerationParams(max_new_tokens=tokens),
                                      [CancelToken() for _ in texts]):
        for i, chunk in enumerate(step):
            if chunk is not None and chunk.tokens:
                total += chunk.tokens
                first[i] = first[i] or time.perf_counter() - start
    return total, first


def run_og_engine(engine, texts: list[str], tokens: int) -> tuple[int, list[float]]:
    import numpy as np
    import onnxruntime_genai as og

    runner = og.Engine(engine.model)
    requests = {}
    start = time.perf_counter()
    for i, text in enumerate(texts):
        request = runner.create_request()
        options = og.TurnOptions(request)
        options.set_max_generated_tokens(tokens)
        options.set_do_sample(False)
        request.begin_turn(np.array(engine.encode(text), dtype=np.int32), options)
        requests[id(request)] = (i, request)
    buffer = runner.create_event_buffer(256)
    total, first = 0, [0.0] * len(texts)
    while runner.has_pending_requests():
        for event in runner.run(buffer):
            i = requests[id(event.request)][0] if id(event.request) in requests else None
            if event.flags & og.EngineEventFlags.TOKEN:
                total += 1
                if i is not None:
                    first[i] = first[i] or time.perf_counter() - start
    return total, first


def worker(way: str, folder: Path, n: int, tokens: int) -> dict:
    from plume.inference.onnx_genai import GenAIEngine

    engine = GenAIEngine(folder, model_id=folder.name, providers=["cpu"])
    texts = prompts(engine, n)
    run = run_og_engine if way == "og-engine" else run_batch_decoder
    run(engine, texts[: min(n, 2)], 2)  # warm-up (for several: opens the BatchDecoder's session)
    start = time.perf_counter()
    total, first = run(engine, texts, tokens)
    seconds = time.perf_counter() - start
    return {"way": way, "concurrency": n, "tokens": total, "seconds": round(seconds, 2),
            "tokens_per_s": round(total / seconds, 2), "ttft_mean_s": round(sum(first) / len(first), 2),
            "ttft_max_s": round(max(first), 2), "peak_rss_mb": round(peak_rss_mb())}


def measure(folder: Path, concurrency: list[int], tokens: int, ways: tuple[str, ...] = WAYS) -> list[dict]:
    rows = []
    for n in concurrency:
        for way in ways:
            out = subprocess.run([sys.executable, __file__, "--worker", way, "--model", str(folder), "--n", str(n),
                                  "--tokens", str(tokens)], capture_output=True, text=True, check=False)
            if out.returncode:
                rows.append({"way": way, "concurrency": n, "error": out.stderr.strip().splitlines()[-1:]})
            else:
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--concurrency", default="1,4,8")
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--ways", default=",".join(WAYS), help="og-engine,batch-decoder (default: both)")
    parser.add_argument("--worker", choices=WAYS)
    parser.add_argument("--n", type=int, default=1)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.model, args.n, args.tokens)))
        return 0
    measure(args.model, [int(c) for c in args.concurrency.split(",")], args.tokens, tuple(args.ways.split(",")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
