"""Serving benchmarks, parts (c) and (d) of bench/engine.py (also runnable alone):

(c) total tokens/s with 8 concurrent streams vs 1, through the scheduler and the engine (in process);
(d) HTTP overhead: /v1/chat/completions latency minus the direct engine latency, p50 and p99, against
    a real `plume serve` over loopback.

    .venv/bin/python bench/serving.py [--models onnx_models/tiny/models.toml] [--model tiny-llm]

Ratios are measured in the same run on the same machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "server"))

from plume.config import load_settings  # noqa: E402
from plume.inference.engine import CancelToken, GenerationParams  # noqa: E402
from plume.inference.service import InferenceService  # noqa: E402

TINY = REPO / "onnx_models" / "tiny" / "models.toml"
BENCH_INT4 = Path(os.environ.get("PLUME_BENCH_DIR", Path.home() / ".cache" / "plume" / "bench-llm")) / "onnx-int4"
MESSAGES = [{"role": "system", "content": "Tu es l'assistant de la commune du Locle."},
            {"role": "user", "content": "Rédige un accusé de réception pour une demande de permis de construire."}]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def _service(models: Path, queue_size: int = 64) -> InferenceService:
    service = InferenceService(load_settings(models_file=models, queue_size=queue_size, request_timeout_s=600))
    await service.start()
    for slot in service.slots.values():
        await slot.loaded.wait()
    return service


async def _one_stream(service: InferenceService, model: str, tokens: int, user: str) -> int:
    params = GenerationParams(max_new_tokens=tokens, temperature=0.0)
    # Varied prompts, so no stream can share another's work.
    messages = [*MESSAGES[:-1], {"role": "user", "content": f"{MESSAGES[-1]['content']} Dossier n° {user}."}]
    generation = await service.open(service.slot_for_model(model), messages, params, user=user, task="bench")
    async for _ in generation:
        pass
    return generation.completion_tokens


async def concurrency(models: Path, model: str, streams: int = 8, tokens: int = 128,
                      repeats: int = 3) -> dict[str, float]:
    """(c) aggregate decode throughput with `streams` concurrent requests vs one. Each repeat measures
    one stream then `streams` right after it, so both see the same load on the shared machine; the
    median of the paired ratios is reported."""
    service = await _service(models)
    try:
        slot = service.slot_for_model(model)
        await _one_stream(service, model, 8, "warmup")
        singles, manys, ratios = [], [], []
        for _ in range(repeats):
            started = time.perf_counter()
            single = await _one_stream(service, model, tokens, "solo") / (time.perf_counter() - started)
            started = time.perf_counter()
            counts = await asyncio.gather(*(_one_stream(service, model, tokens, f"u{i}") for i in range(streams)))
            many = sum(counts) / (time.perf_counter() - started)
            singles.append(single)
            manys.append(many)
            ratios.append(many / single)
        return {"engine_max_batch": float(getattr(slot.engine, "max_batch", 1)),
                "single_tok_s": statistics.median(singles), f"{streams}_streams_tok_s": statistics.median(manys),
                "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios)}
    finally:
        await service.stop()


def http_overhead(models: Path, model: str, runs: int = 40, tokens: int = 16) -> dict[str, float]:
    """(d) latency of a non-streamed /v1/chat/completions minus the same generation called directly
    (same prompt, same tokens). The two are interleaved, so load on the shared machine hits both alike."""
    from plume.inference.catalog import create_engine, load_catalog
    from tests.conftest import start_server

    engine = create_engine(load_catalog(models).get(model))
    prompt = engine.format_chat(MESSAGES)
    params = GenerationParams(max_new_tokens=tokens, temperature=0.0)
    body = {"model": model, "messages": MESSAGES, "max_tokens": tokens, "temperature": 0}
    engine_times, http_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), "--models", str(models))
        try:
            with server.client("user") as client:
                _wait_for_model(client, body)
                for i in range(runs + 3):
                    started = time.perf_counter()
                    produced = sum(c.tokens for c in engine.generate(prompt, params, CancelToken()))
                    direct = time.perf_counter() - started
                    started = time.perf_counter()
                    response = client.post("/v1/chat/completions", json=body)
                    over_http = time.perf_counter() - started
                    if response.status_code != 200 or response.json()["usage"]["completion_tokens"] != produced:
                        raise RuntimeError("the server did not generate the same tokens")
                    if i >= 3:  # warm-up
                        engine_times.append(direct)
                        http_times.append(over_http)
        finally:
            server.stop()
    out = {}
    for q in (50, 99):
        out[f"engine_p{q}_ms"] = percentile(engine_times, q) * 1000
        out[f"http_p{q}_ms"] = percentile(http_times, q) * 1000
        out[f"overhead_p{q}_ms"] = out[f"http_p{q}_ms"] - out[f"engine_p{q}_ms"]
    diffs = [h - e for h, e in zip(http_times, engine_times, strict=True)]
    out["paired_overhead_p50_ms"] = percentile(diffs, 50) * 1000
    out["paired_overhead_p99_ms"] = percentile(diffs, 99) * 1000
    return out


def _wait_for_model(client, body: dict) -> None:
    deadline = time.monotonic() + 120
    while client.post("/v1/chat/completions", json=body).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("the server never answered a chat completion")
        time.sleep(0.2)


def bench_catalog(folder: Path, model: str) -> Path:
    """A one-model catalog for an exported decoder folder (the benchmark model)."""
    catalog = Path(tempfile.mkdtemp()) / "models.toml"
    catalog.write_text(f'[[models]]\nid = "{model}"\npath = "{folder}"\nkind = "decoder"\n'
                       'tasks = ["chat"]\nproviders = ["cpu"]\ncontext_length = 2048\n')
    return catalog


def report_c(models: Path | None = None, model: str | None = None) -> dict[str, dict[str, float]]:
    """(c) on the tiny model (overhead-bound) and, when built, the ~200 M-parameter benchmark model in
    int4 (memory-bound on decode, like a real model on the commune's machine)."""
    targets = [(models, model)] if models else [(TINY, "tiny-llm")]
    for folder in (BENCH_INT4, BENCH_INT4.parent / "onnx"):  # int4 and fp32 exports of the same weights
        if models is None and (folder / "genai_config.json").exists():
            targets.append((bench_catalog(folder, f"bench-llm-{folder.name}"), f"bench-llm-{folder.name}"))
    results = {}
    for catalog, name in targets:
        tokens = 128 if name == "tiny-llm" else 96  # enough decode steps that the 8 prefills do not dominate
        result = asyncio.run(concurrency(catalog, name, tokens=tokens, repeats=5 if name == "tiny-llm" else 3))
        print(f"(c) {name}: 1 stream {result['single_tok_s']:.1f} tok/s, 8 streams {result['8_streams_tok_s']:.1f} "
              f"tok/s in total -> {result['ratio']:.2f}x (median of paired runs; range "
              f"{result['ratio_min']:.2f}-{result['ratio_max']:.2f}x; aim >= 4x)", flush=True)
        results[name] = result
    return results


def report_d(models: Path = TINY, model: str = "tiny-llm") -> dict[str, float]:
    result = http_overhead(models, model)
    print(f"(d) {model}: engine p50 {result['engine_p50_ms']:.1f} ms / p99 {result['engine_p99_ms']:.1f} ms; "
          f"HTTP p50 {result['http_p50_ms']:.1f} ms / p99 {result['http_p99_ms']:.1f} ms; "
          f"overhead p50 {result['overhead_p50_ms']:.1f} ms, p99 {result['overhead_p99_ms']:.1f} ms "
          f"(paired per request: p50 {result['paired_overhead_p50_ms']:.1f} ms, "
          f"p99 {result['paired_overhead_p99_ms']:.1f} ms)", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=TINY)
    parser.add_argument("--model", default="tiny-llm")
    parser.add_argument("--only", choices=["c", "d"])
    args = parser.parse_args(argv)
    if args.only in (None, "c"):
        report_c(args.models if args.models != TINY else None, args.model if args.models != TINY else None)
    if args.only in (None, "d"):
        report_d(args.models, args.model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
