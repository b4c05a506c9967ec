"""Load: 40 concurrent clients mixing letter renders and chat completions on the tiny models, for a
bounded time, against a real server over loopback.

Prints requests, lost or torn responses (must be 0), 503 + Retry-After answers (the bounded queue
at work), and p50/p99 latency per kind. Usage: .venv/bin/python bench/load.py [--seconds 30] [--clients 40]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import TINY_MODELS, start_server  # noqa: E402

CHAT = {"model": "tiny-llm", "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": 16}


async def _render_once(client: httpx.AsyncClient, template: dict) -> tuple[str, int, bool]:
    values = {f["name"]: f["example"] for f in template["fields"] if f.get("example") is not None}
    response = await client.post(f"/v1/templates/{template['id']}/render", json={"values": values, "format": "docx"})
    whole = response.status_code != 200 or _is_whole_docx(response.content)
    return "render", response.status_code, whole and (response.status_code != 503 or "retry-after" in response.headers)


async def _chat_once(client: httpx.AsyncClient) -> tuple[str, int, bool]:
    response = await client.post("/v1/chat/completions", json=CHAT)
    whole = True
    if response.status_code == 200:
        body = response.json()
        whole = bool(body["choices"]) and body["usage"]["total_tokens"] > 0
    elif response.status_code == 503:
        whole = "retry-after" in response.headers
    return "chat", response.status_code, whole


def _is_whole_docx(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return z.testzip() is None and "word/document.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


async def _client(url: str, token: str, templates: list[dict], until: float, index: int, results: list) -> None:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        n = 0
        while time.monotonic() < until:
            started = time.perf_counter()
            if (index + n) % 2 == 0 and templates:
                kind, status, whole = await _render_once(client, templates[(index + n) % len(templates)])
            else:
                kind, status, whole = await _chat_once(client)
            results.append((kind, status, whole, time.perf_counter() - started))
            n += 1


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) >= 2 else (values[0] * 1000 if values else 0)


async def main(seconds: float, clients: int, queue: int) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="plume-load-"))
    server = start_server(tmp, "--models", str(TINY_MODELS), env={"PLUME_QUEUE_SIZE": str(queue)})
    try:
        with server.client("user") as c:
            templates = [c.get(f"/v1/templates/{t['id']}").json() for t in c.get("/v1/templates").json()]
        results: list = []
        until = time.monotonic() + seconds
        await asyncio.gather(*(_client(server.url, server.tokens["user"], templates, until, i, results)
                               for i in range(clients)))
    finally:
        server.stop()
    torn = sum(1 for r in results if not r[2])
    errors = [r for r in results if r[1] >= 500 and r[1] != 503]
    print(f"{clients} clients, {seconds:.0f} s, queue size {queue}: {len(results)} requests, "
          f"{torn} lost or torn, {len(errors)} errors 5xx other than 503, "
          f"{sum(1 for r in results if r[1] == 503)} answered 503 + Retry-After")
    for kind in ("render", "chat"):
        ok = [r[3] for r in results if r[0] == kind and r[1] == 200]
        print(f"  {kind}: {len(ok)} ok, p50 {_pct(ok, 50):.0f} ms, p99 {_pct(ok, 99):.0f} ms")
    return 1 if torn or errors else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--queue", type=int, default=8, help="server queue size (small, to show the 503s)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.seconds, args.clients, args.queue)))
