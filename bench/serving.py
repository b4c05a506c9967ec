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


async def concurrency(models: Path, model: str, streams: int = 8, tokens: int = 128) -> dict[str, float]:
    """(c) aggregate decode throughput with `streams` concurrent requests vs one."""
    service = await _service(models)
    try:
        slot = service.slot_for_model(model)
        await _one_stream(service, model, 8, "warmup")
        started = time.perf_counter()
        single = await _one_stream(service, model, tokens, "solo")
        single_rate = single / (time.perf_counter() - started)
        started = time.perf_counter()
        counts = await asyncio.gather(*(_one_stream(service, model, tokens, f"u{i}") for i in range(streams)))
        many_rate = sum(counts) / (time.perf_counter() - started)
        return {"engine_max_batch": float(getattr(slot.engine, "max_batch", 1)), "single_tok_s": single_rate,
                f"{streams}_streams_tok_s": many_rate, "ratio": many_rate / single_rate}
    finally:
        await service.stop()


def http_overhead(models: Path, model: str, runs: int = 40, tokens: int = 16) -> dict[str, float]:
    """(d) latency of a non-streamed /v1/chat/completions minus the same generation called directly."""
    from tests.conftest import start_server

    async def direct() -> list[float]:
        service = await _service(models)
        try:
            engine = service.slot_for_model(model).engine
            prompt = engine.format_chat(MESSAGES)
            params = GenerationParams(max_new_tokens=tokens, temperature=0.0)
            for _ in range(3):
                list(engine.generate(prompt, params, CancelToken()))
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                list(engine.generate(prompt, params, CancelToken()))
                times.append(time.perf_counter() - started)
            return times
        finally:
            await service.stop()

    engine_times = asyncio.run(direct())
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), "--models", str(models))
        try:
            with server.client("user") as client:
                body = {"model": model, "messages": MESSAGES, "max_tokens": tokens, "temperature": 0}
                deadline = time.monotonic() + 60
                while client.post("/v1/chat/completions", json=body).status_code != 200:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the server never answered a chat completion")
                    time.sleep(0.2)
                http_times = []
                for _ in range(runs):
                    started = time.perf_counter()
                    response = client.post("/v1/chat/completions", json=body)
                    http_times.append(time.perf_counter() - started)
                    assert response.status_code == 200
        finally:
            server.stop()
    out = {}
    for q in (50, 99):
        out[f"engine_p{q}_ms"] = percentile(engine_times, q) * 1000
        out[f"http_p{q}_ms"] = percentile(http_times, q) * 1000
        out[f"overhead_p{q}_ms"] = out[f"http_p{q}_ms"] - out[f"engine_p{q}_ms"]
    return out


def report_c(models: Path = TINY, model: str = "tiny-llm") -> dict[str, float]:
    result = asyncio.run(concurrency(models, model))
    print(f"(c) {model}: 1 stream {result['single_tok_s']:.0f} tok/s, 8 streams {result['8_streams_tok_s']:.0f} tok/s "
          f"in total -> {result['ratio']:.2f}x (aim >= 4x; engine max_batch={result['engine_max_batch']:.0f})",
          flush=True)
    return result


def report_d(models: Path = TINY, model: str = "tiny-llm") -> dict[str, float]:
    result = http_overhead(models, model)
    print(f"(d) {model}: engine p50 {result['engine_p50_ms']:.1f} ms / p99 {result['engine_p99_ms']:.1f} ms; "
          f"HTTP p50 {result['http_p50_ms']:.1f} ms / p99 {result['http_p99_ms']:.1f} ms; "
          f"overhead p50 {result['overhead_p50_ms']:.1f} ms, p99 {result['overhead_p99_ms']:.1f} ms", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=TINY)
    parser.add_argument("--model", default="tiny-llm")
    parser.add_argument("--only", choices=["c", "d"])
    args = parser.parse_args(argv)
    if args.only in (None, "c"):
        report_c(args.models, args.model)
    if args.only in (None, "d"):
        report_d(args.models, args.model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
