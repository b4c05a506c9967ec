"""Load: 40 colleagues at once against a real server over loopback, on the tiny models, for a bounded
time (10 minutes for the figures in docs/security.md).

The clients mix what a morning at the commune sends, without pausing between requests: letter renders
of every template (.docx and .odt; the QR-bill letter with a different debtor and amount each time,
so nothing is served from a cache), rules tasks (plain language and proofreading of a paragraph,
triage of a raw e-mail, summary of a report of 1-2 kB), chat completions on the tiny model. Beside them, at a
person's pace: a clerk asking for a PDF letter every 10 s (LibreOffice takes a core for seconds) and
two template owners uploading new versions of one template, each every 10 s, while it is rendered.

A request is lost when no answer comes within `--timeout` (60 s, what the sidebars wait) or the
connection fails; torn when the answer is cut (a letter that is not a whole zip, a 503 without
Retry-After). Prints requests, lost, torn, 5xx other than 503, then p50 / p99 / max per kind and per
template. Exit status 1 when anything was lost, torn or answered 5xx (other than the bounded queue's
503). `--server-pid-file` writes the server's pid (for `py-spy dump --pid`).

`--pause S`: each clerk reads for about S seconds (drawn from 0 to 2 S) after each answer. Without it
(the default) the clerks send without pausing: the server is saturated, and a request's time is
mostly its wait behind the 39 others on 2 cores (Little's law), whatever its own work.

Usage: .venv/bin/python bench/load.py [--seconds 600] [--clients 40] [--pause 0]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import random
import statistics
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.conftest import SAMPLES, TINY_MODELS, start_server  # noqa: E402

CHAT = {"model": "tiny-llm", "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": 16}
UPLOADED = "attestation-domicile"  # the template two owners keep uploading while it is rendered
PDF_TEMPLATE = "confirmation-rendez-vous"
PDF_PAUSE_S = 10.0
UPLOAD_PAUSE_S = 10.0


@dataclass
class Result:
    kind: str       # render, render-pdf, rules:<task>, chat, upload
    template: str   # the template rendered or uploaded ("" otherwise)
    status: int     # 0: no answer (lost)
    whole: bool
    seconds: float


class Load:
    def __init__(self, server, templates: list[dict], until: float, timeout: float, pause: float = 0.0) -> None:
        self.server, self.templates, self.until, self.timeout = server, templates, until, timeout
        self.pause = pause
        self.results: list[Result] = []
        self.texts = sorted((SAMPLES / "texts").glob("*.txt"))
        self.emails = sorted((SAMPLES / "emails").glob("*.eml"))
        # Reports to summarise: the sample texts as one (2 kB), the dog regulation, the council's notes.
        self.reports = ["\n\n".join(p.read_text(encoding="utf-8") for p in self.texts)] + [
            p.read_text(encoding="utf-8") for p in sorted((SAMPLES / "regulations").glob("*.txt"))
            + sorted((SAMPLES / "notes").glob("*.txt"))]
        self.models = {t["id"]: _model_file(t["id"]) for t in templates}
        self.serial = itertools.count()

    def client(self, role: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.server.url, timeout=self.timeout,
                                 headers={"Authorization": f"Bearer {self.server.tokens[role]}"},
                                 limits=httpx.Limits(max_connections=4))

    async def timed(self, kind: str, template: str, send) -> None:
        started = time.perf_counter()
        try:
            response = await send()
            status, whole = response.status_code, _whole(kind, response)
        except httpx.HTTPError:
            status, whole = 0, True
        self.results.append(Result(kind, template, status, whole, time.perf_counter() - started))

    # -- the clients ------------------------------------------------------------------------------
    async def clerk(self, index: int) -> None:
        """Renders mostly; one request in four a rules task, one in eight a chat completion."""
        async with self.client("user") as client:
            for n in itertools.count():
                if time.monotonic() >= self.until:
                    return
                turn = (index + n) % 8
                if turn in (1, 5):
                    await self.rules(client, (index + n) // 8)
                elif turn == 3:
                    await self.timed("chat", "", lambda: client.post("/v1/chat/completions", json=CHAT))
                else:
                    await self.render(client, self.templates[(index * 3 + n) % len(self.templates)],
                                      "odt" if n % 3 == 0 else "docx")
                if self.pause:
                    await asyncio.sleep(random.uniform(0, 2 * self.pause))

    async def render(self, client: httpx.AsyncClient, template: dict, fmt: str) -> None:
        values = {f["name"]: f["example"] for f in template["fields"] if f.get("example") is not None}
        if "montant" in values:  # a new bill each time: a different payment part to draw
            serial = next(self.serial)
            values.update(montant=round(random.uniform(10, 5000), 2), nom=f"Vuilleumier-{serial}")
        kind = "render-pdf" if fmt == "pdf" else "render"
        await self.timed(kind, template["id"], lambda: client.post(
            f"/v1/templates/{template['id']}/render", json={"values": values, "format": fmt}))

    async def rules(self, client: httpx.AsyncClient, n: int) -> None:
        paragraph = self.texts[n % len(self.texts)].read_text(encoding="utf-8")  # 400-600 characters
        task, path, body = [
            ("plain-language", "/v1/text/plain-language", {"text": paragraph, "engine": "rules"}),
            ("triage", "/v1/mail/triage", {"eml": self.emails[n % len(self.emails)].read_text(encoding="utf-8"),
                                           "engine": "rules"}),
            ("summarize", "/v1/text/summarize", {"text": self.reports[n % len(self.reports)], "engine": "rules"}),
            ("proofread", "/v1/text/proofread", {"text": paragraph}),
        ][n % 4]
        await self.timed(f"rules:{task}", "", lambda: client.post(path, json=body))

    async def pdf_clerk(self) -> None:
        template = next(t for t in self.templates if t["id"] == PDF_TEMPLATE)
        async with self.client("user") as client:
            while time.monotonic() < self.until:
                await self.render(client, template, "pdf")
                await asyncio.sleep(PDF_PAUSE_S)

    async def owner(self, index: int) -> None:
        """A new version of one template (its own model again) every few seconds."""
        name, data = self.models[UPLOADED]
        async with self.client("template-owner") as client:
            await asyncio.sleep(index * UPLOAD_PAUSE_S / 2)
            while time.monotonic() < self.until:
                await self.timed("upload", UPLOADED, lambda: client.put(
                    f"/v1/templates/{UPLOADED}", files={"file": (name, data, "application/octet-stream")}))
                await asyncio.sleep(UPLOAD_PAUSE_S)


def _model_file(template_id: str) -> tuple[str, bytes]:
    folder = REPO / "templates" / template_id
    path = folder / "model.docx" if (folder / "model.docx").exists() else folder / "model.odt"
    return path.name, path.read_bytes()


def _whole(kind: str, response: httpx.Response) -> bool:
    if response.status_code == 503:
        return "retry-after" in response.headers
    if response.status_code != 200 or not kind.startswith("render"):
        return True
    if kind == "render-pdf":
        return response.content.startswith(b"%PDF") and b"%%EOF" in response.content[-1024:]
    try:
        with zipfile.ZipFile(io.BytesIO(response.content)) as z:
            return z.testzip() is None
    except zipfile.BadZipFile:
        return False


def _pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def _line(label: str, results: list[Result]) -> str:
    ok = [r.seconds for r in results if 200 <= r.status < 300]
    worst = max((r.seconds for r in results), default=0) * 1000
    return (f"  {label:<28} {len(ok):>6} ok  p50 {_pct(ok, 50):>7.0f} ms  p99 {_pct(ok, 99):>7.0f} ms  "
            f"max {worst:>7.0f} ms")


def report(results: list[Result], clients: int, seconds: float, queue: int, pause: float = 0.0) -> int:
    lost = [r for r in results if r.status == 0]
    torn = [r for r in results if not r.whole]
    errors = [r for r in results if r.status >= 500 and r.status != 503]
    refused = defaultdict(int)
    for r in results:
        if 400 <= r.status < 500:
            refused[f"{r.kind} {r.status}"] += 1
    paced = f", a pause of about {pause:g} s after each answer" if pause else ", no pause"
    print(f"{clients} clients{paced}, {seconds:.0f} s, queue size {queue}: {len(results)} requests, {len(lost)} lost, "
          f"{len(torn)} torn, {len(errors)} errors 5xx other than 503, "
          f"{sum(1 for r in results if r.status == 503)} answered 503 + Retry-After")
    if refused:
        print("  4xx: " + ", ".join(f"{k} × {v}" for k, v in sorted(refused.items())))
    by_kind: dict[str, list[Result]] = defaultdict(list)
    by_template: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_kind[r.kind].append(r)
        if r.kind == "render":
            by_template[r.template].append(r)
    print("per kind:")
    for kind in sorted(by_kind):
        print(_line(kind, by_kind[kind]))
    rules = [r for r in results if r.kind.startswith("rules:") or r.kind == "render"]
    print(_line("render + rules tasks", rules))
    print("renders per template (.docx and .odt):")
    for template in sorted(by_template):
        print(_line(template, by_template[template]))
    return 1 if lost or torn or errors else 0


async def main(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="plume-load-"))
    server = start_server(tmp, "--models", str(TINY_MODELS),
                          env={"PLUME_QUEUE_SIZE": str(args.queue), "PLUME_WARM_UP": "1"})  # as in production
    if args.server_pid_file:
        Path(args.server_pid_file).write_text(str(server.process.pid))
    try:
        deadline = time.monotonic() + 300  # the language tools load in the background, as at 8:00 they are
        while not server.health()["language"]["loaded_at_start"] and time.monotonic() < deadline:
            await asyncio.sleep(1)
        with server.client("user") as c:
            templates = [c.get(f"/v1/templates/{t['id']}").json() for t in c.get("/v1/templates").json()]
        load = Load(server, templates, time.monotonic() + args.seconds, args.timeout, args.pause)
        clerks = args.clients - 3  # the others: one PDF clerk, two template owners
        await asyncio.gather(*(load.clerk(i) for i in range(clerks)), load.pdf_clerk(), load.owner(0), load.owner(1))
    finally:
        server.stop()
    return report(load.results, args.clients, args.seconds, args.queue, args.pause)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--pause", type=float, default=0.0, help="a clerk's mean pause after each answer, seconds")
    parser.add_argument("--queue", type=int, default=8, help="server queue size (small, to show the 503s)")
    parser.add_argument("--timeout", type=float, default=60, help="a request unanswered after this is lost")
    parser.add_argument("--server-pid-file", help="write the server's pid there (for py-spy)")
    sys.exit(asyncio.run(main(parser.parse_args())))
