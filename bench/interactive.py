"""Interactive work first (issue 24): a one-paragraph request's time to first token while long
summaries run, on the reference model, with the scheduler's compute turns on and off, same run.

Each way gets a fresh server on the reference model (its catalog: --models, default
$PLUME_REFERENCE_CATALOG or ~/.cache/plume/reference-model/models.toml). Eight colleagues each ask
for a summary of a 6 kB report (about 1,700 prompt tokens; "short" length, up to 200 new tokens);
a few seconds later a clerk asks, one after the other, for plain-language rewrites of a paragraph
(400-600 characters) and reads each until its first words appear (then she moves on: the request
is closed). Printed per way: the short requests' time to first token (p50 / p95 / each), and the
summaries' (p50) and how many finished while the clerk worked. "before": `interactive_first`
off, the scheduler as it was; "after": on.

    .venv/bin/python bench/interactive.py [--summaries 8] [--short 6] [--ways before,after]

About 10 minutes on the 2-core machine, most of it in the "before" way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.conftest import SAMPLES, start_server  # noqa: E402

DEFAULT_CATALOG = Path(os.environ.get("PLUME_REFERENCE_CATALOG",
                                      Path.home() / ".cache" / "plume" / "reference-model" / "models.toml"))
STREAM = {"Accept": "text/event-stream"}


def report_text() -> str:
    parts = [p.read_text(encoding="utf-8") for folder in ("texts", "regulations", "notes")
             for p in sorted((SAMPLES / folder).glob("*.txt"))]
    return "\n\n".join(parts)


def paragraphs() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((SAMPLES / "texts").glob("*.txt"))]


async def first_delta(client: httpx.AsyncClient, path: str, body: dict, timeout: float) -> float | None:
    """Seconds to the first `delta` event of a streamed task (None: none within `timeout`); the
    request is closed there."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout), client.stream("POST", path, json=body, headers=STREAM) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if line == "event: delta":
                    return time.perf_counter() - started
                if line == "event: error":
                    raise RuntimeError(f"{path}: error event")
    except TimeoutError:
        return None
    return None


async def summary(client: httpx.AsyncClient, text: str, results: list) -> None:
    started = time.perf_counter()
    first = None
    try:
        async with client.stream("POST", "/v1/text/summarize", headers=STREAM,
                                 json={"text": text, "engine": "model", "length": "short"}) as response:
            async for line in response.aiter_lines():
                if line == "event: delta" and first is None:
                    first = time.perf_counter() - started
                if line == "event: done":
                    results.append((first, time.perf_counter() - started))
                    return
    except (asyncio.CancelledError, httpx.HTTPError):
        results.append((first, None))
        raise


def wait_ready(server, model: str) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        health = server.health()
        status = health.get("models", {}).get("models", {}).get(model, {}).get("status")
        if status == "ready" and health["language"]["loaded_at_start"]:
            return
        if status == "unavailable":
            raise SystemExit(f"{model}: {health['models']['models'][model].get('reason')}")
        time.sleep(1)
    raise SystemExit(f"{model} not ready after 10 minutes")


async def one_way(name: str, catalog: Path, summaries: int, shorts: int, timeout: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"plume-interactive-{name}-"))
    server = start_server(tmp, "--models", str(catalog), env={
        "PLUME_INTERACTIVE_FIRST": "1" if name == "after" else "0", "PLUME_WARM_UP": "1",
        "PLUME_REQUEST_TIMEOUT_S": "1800", "PLUME_QUEUE_SIZE": "64"})
    try:
        model = next(m["id"] for m in server.client().get("/v1/models").json()["data"])
        wait_ready(server, model)
        tokens = [server.add_user(f"collegue-{i}", "user") for i in range(summaries)]
        text, done, shorts_ttft = report_text(), [], []
        clients = [httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {t}"}, timeout=None)
                   for t in [*tokens, server.tokens["user"]]]
        running = [asyncio.create_task(summary(c, text, done)) for c in clients[:summaries]]
        await asyncio.sleep(5)  # the summaries are reading their reports
        clerk = clients[-1]
        for paragraph in (paragraphs() * shorts)[:shorts]:
            shorts_ttft.append(await first_delta(clerk, "/v1/text/plain-language",
                                                 {"text": paragraph, "engine": "model"}, timeout))
            await asyncio.sleep(2)
        finished = len([d for d in done if d[1] is not None])
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        for c in clients:
            await c.aclose()
        long_first = [d[0] for d in done if d[0] is not None]
        return {"short": shorts_ttft, "summaries_first": long_first, "finished": finished}
    finally:
        server.stop()


def describe(values: list[float | None], timeout: float) -> str:
    shown = [v if v is not None else timeout for v in values]
    if not shown:
        return "none"
    p95 = statistics.quantiles(shown, n=20, method="inclusive")[18] if len(shown) > 1 else shown[0]
    each = ", ".join(f"{v:.1f}" if v is not None else f">{timeout:.0f}" for v in values)
    return f"p50 {statistics.median(shown):.1f} s, p95 {p95:.1f} s ({each})"


async def main(args: argparse.Namespace) -> None:
    results = {}
    for name in args.ways.split(","):
        started = time.perf_counter()
        results[name] = await one_way(name, args.models, args.summaries, args.short, args.timeout)
        r = results[name]
        print(f"{name}: short requests' first token {describe(r['short'], args.timeout)}; summaries' first token "
              f"{describe(r['summaries_first'], args.timeout)}; {r['finished']}/{args.summaries} summaries finished "
              f"while the clerk worked ({time.perf_counter() - started:.0f} s)", flush=True)
    if {"before", "after"} <= results.keys():
        before = statistics.median(v if v is not None else args.timeout for v in results["before"]["short"])
        after = statistics.median(v if v is not None else args.timeout for v in results["after"]["short"])
        print(f"short requests' median time to first token, before/after: {before / after:.1f}x")
    print(json.dumps(results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=DEFAULT_CATALOG)
    parser.add_argument("--summaries", type=int, default=8)
    parser.add_argument("--short", type=int, default=6)
    parser.add_argument("--ways", default="before,after")
    parser.add_argument("--timeout", type=float, default=240, help="a short request's longest wait, seconds")
    asyncio.run(main(parser.parse_args()))
