"""Nobody waits behind someone else's work (issue 24), through the real server over HTTP.

What a colleague sends (a 5,000-part e-mail, a model's long answer to check, forty PDF letters) is
worked on off the event loop, in worker threads of its own lane: `/health` and the other requests
keep answering meanwhile. These are behaviour tests on latency, made not to be flaky: each compares
with the same server idle a moment before (its slowest answer over as long a time is the machine's
noise), allows a margin over that, and takes the best of three tries, since on a shared 2-core
machine the scheduler alone delays an answer by 200–400 ms now and then; the stalls they catch last
as long as the other person's work, a second or more, in every try.
"""

from __future__ import annotations

import io
import itertools
import re
import threading
import time
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import REPO, start_modelless

# 5,000 parts, under the 200,000 characters a text may have: parsed in 1–2 s on the 2-core machine.
MANY_PARTS = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\n{i}\r\n" for i in range(5000))
HUGE_MAIL = ("From: a@example.ch\r\nTo: guichet@example.ch\r\nSubject: Demande\r\nMIME-Version: 1.0\r\n"
             f"Content-Type: multipart/mixed; boundary=b\r\n\r\n{MANY_PARTS}--b--\r\n")


class HealthWatch:
    """Polls /health from a thread, one request after the other, recording each answer's time."""

    @classmethod
    def quiet(cls, url: str, seconds: float = 2.0) -> float:
        """/health's slowest answer over `seconds` of an idle server: the test machine's own noise."""
        with cls(url) as watch:
            time.sleep(seconds)
        return max(watch.times)

    def __init__(self, url: str) -> None:
        self.url, self.times, self._stop = url, [], threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                client.get(f"{self.url}/health").raise_for_status()
                self.times.append(time.perf_counter() - started)  # the last one may end after the work
                time.sleep(0.01)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def health_while(server, send, tries: int = 3) -> list[tuple[float, float, float]]:
    """(/health's worst answer while `send()` runs, the idle server's worst over as long, how long
    `send()` took), for each try until one keeps /health within 100 ms of the idle figure."""
    results = []
    for _ in range(tries):
        started = time.perf_counter()
        send()  # once unwatched: first uses out of the way, and how long it takes
        noise = HealthWatch.quiet(server.url, seconds=max(2.0, time.perf_counter() - started))
        with HealthWatch(server.url) as watch:
            started = time.perf_counter()
            send()
            took = time.perf_counter() - started
        results.append((max(watch.times, default=took), noise, took))
        if results[-1][0] <= 0.1 + noise:
            break
    return results


def within_100_ms(results: list[tuple[float, float, float]]) -> bool:
    return any(worst <= 0.1 + noise for worst, noise, _ in results)


def described(results: list[tuple[float, float, float]]) -> str:
    return "; ".join(f"/health {worst:.3f} s at worst during {took:.1f} s of work (idle: {noise:.3f} s)"
                     for worst, noise, took in results)


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory):
    srv = start_modelless(tmp_path_factory.mktemp("load"))
    yield srv
    srv.stop()


@pytest.mark.parametrize("route", ["/v1/mail/triage", "/v1/mail/acknowledge"])
def test_a_5000_part_mail_does_not_delay_health(idle_server, route):
    """The parse of a 5,000-part message used to run in the request handler, on the event loop: every
    other request froze 1.1–1.9 s, /health for the whole parse."""
    with idle_server.client() as client:
        def send() -> None:
            response = client.post(route, json={"eml": HUGE_MAIL, "engine": "rules"})
            assert response.status_code == 200, response.text

        results = health_while(idle_server, send)
    assert within_100_ms(results), described(results)


def test_checking_a_model_answer_does_not_delay_health(tmp_path, samples):
    """A model's rewrite is checked (spaCy's reading, Grammalecte, the facts) before the clerk gets it.
    Those checks ran on the event loop: under 40 clients, uploads and letters waited behind them
    past their 60 s (issue 24, seen in a stack dump of the loaded server)."""
    from tests.fake_upstream import scripted_server

    texts = [p.read_text(encoding="utf-8") for p in sorted((samples / "texts").glob("*.txt"))]
    source = "\n\n".join(texts * 2)[:8000]
    answers = itertools.count()

    def answer(_messages) -> str:  # as long as the source, other sentences, new each time: every check runs
        n = next(answers)
        return "\n\n".join(texts[n % len(texts):] + texts[:n % len(texts)] + texts)[:7900] + f" Réponse {n}."

    with scripted_server(tmp_path, answer, ["plain-language"]) as (srv, _fake), \
            srv.client() as client:
        def send() -> None:
            response = client.post("/v1/text/plain-language", json={"text": source, "engine": "auto"})
            assert response.status_code == 200, response.text

        results = health_while(srv, send)
    assert within_100_ms(results), described(results)


# A stand-in for LibreOffice under load: each conversion takes half a second and costs no CPU, so that
# sixty PDF letters make a backlog of 15 s on any machine (the real one is in test_template_qrbill.py).
SLOW_SOFFICE = """#!/bin/sh
while [ $# -gt 1 ]; do [ "$1" = "--outdir" ] && outdir="$2"; shift; done
sleep 0.5
name=$(basename "$1"); printf '%%PDF-1.4\\n%%%%EOF\\n' > "$outdir/${name%.*}.pdf"
"""


def timed(send) -> float:
    started = time.perf_counter()
    send()
    return time.perf_counter() - started


def examples(template_id: str) -> dict:
    """The template's example values (its template.toml), a letter that renders."""
    manifest = tomllib.loads((REPO / "templates" / template_id / "template.toml").read_text(encoding="utf-8"))
    return {f["name"]: f["example"] for f in manifest["fields"] if "example" in f}


def model_file(template_id: str, copies: int = 1) -> tuple[str, bytes]:
    """The template's model.docx; with `copies`, its body that many times over (the same fields): a
    longer letter, slower to check and prepare."""
    path = REPO / "templates" / template_id / "model.docx"
    if copies == 1:
        return path.name, path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for name in source.namelist():
            data = source.read(name)
            if name == "word/document.xml":
                text = data.decode("utf-8")
                body = re.search(r"<w:body>(.*)<w:sectPr", text, re.DOTALL).group(1)
                data = text.replace(body, body * copies).encode("utf-8")
            copy.writestr(name, data)
    return path.name, out.getvalue()


def test_a_backlog_of_pdf_letters_holds_neither_letters_nor_uploads(tmp_path):
    """Sixty PDF letters wait for LibreOffice's two conversions at a time. They used to wait holding a
    worker thread each, from the one pool every render and upload shared: a one-page letter, or a new
    version of a template, then waited for PDFs that were not theirs. Now PDFs wait in their own lane."""
    soffice = tmp_path / "soffice"
    soffice.write_text(SLOW_SOFFICE)
    soffice.chmod(0o755)
    srv = start_modelless(tmp_path, PLUME_SOFFICE=str(soffice))
    try:
        user, owner = srv.client(), srv.client("template-owner")
        letter = {"values": examples("attestation-domicile"), "format": "docx"}

        def render(fmt: str = "docx") -> None:
            response = user.post("/v1/templates/attestation-domicile/render", json={**letter, "format": fmt})
            assert response.status_code == 200, response.text

        def upload() -> None:
            name, data = model_file("confirmation-rendez-vous")
            response = owner.put("/v1/templates/confirmation-rendez-vous", files={"file": (name, data)})
            assert response.status_code == 201, response.text

        render_alone, upload_alone = min(timed(render) for _ in range(3)), timed(upload)
        with ThreadPoolExecutor(64) as pool:
            pdfs = [pool.submit(render, "pdf") for _ in range(60)]
            time.sleep(1.0)  # the backlog is there: two converting, the others waiting
            render_during, upload_during = timed(render), timed(upload)
            backlog = sum(not p.done() for p in pdfs)
            for p in pdfs:
                p.result()
    finally:
        srv.stop()
    assert backlog >= 20, f"only {backlog} PDF letters were still waiting: no backlog to test against"
    assert render_during <= max(1.0, 10 * render_alone), (render_alone, render_during)
    assert upload_during <= 2 * upload_alone + 2.0, (upload_alone, upload_during)


def test_renders_and_uploads_of_one_template_do_not_wait_on_each_other(idle_server):
    """Two owners upload new versions of a template while clerks keep writing letters with it: each
    letter takes its usual time (the version in place serves until the new one is ready), and each
    upload the time of its own work (checking and preparing its version, and at most the other
    upload's, which it follows). The model is 60 letters long, so that its work takes seconds."""
    template = "reponse-reclamation"
    user, owner = idle_server.client(), idle_server.client("template-owner")
    letter = {"values": examples(template), "format": "docx"}
    name, data = model_file(template, copies=60)

    def render() -> None:
        response = user.post(f"/v1/templates/{template}/render", json=letter)
        assert response.status_code == 200, response.text

    def upload() -> float:
        started = time.perf_counter()
        response = owner.put(f"/v1/templates/{template}", files={"file": (name, data)})
        assert response.status_code == 201, response.text
        return time.perf_counter() - started

    render_alone, upload_alone = min(timed(render) for _ in range(3)), min(upload() for _ in range(2))
    renders: list[float] = []
    with ThreadPoolExecutor(2) as pool:
        uploads = [pool.submit(upload) for _ in range(2)]
        while not all(u.done() for u in uploads):
            renders.append(timed(render))
        took = [u.result() for u in uploads]
    assert len(renders) >= 5, renders
    assert max(renders) <= max(1.0, 10 * render_alone), (render_alone, max(renders))
    assert max(took) <= 2 * upload_alone + 2.0, (upload_alone, took)
