"""Faults: the server keeps serving and /health tells the truth when a disk fills during an upload,
the process is killed during an upload, a model's files vanish while serving, or an engine dies
mid-stream. (A generation past its time limit: tests/test_inference_api.py.)"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.conftest import REPO, TINY_MODELS, start_server

TEMPLATE = "attestation-domicile"


def _padded_docx(extra_bytes: int) -> bytes:
    """The real template with an incompressible extra part, to make its size what the test needs."""
    source = zipfile.ZipFile(REPO / "templates" / TEMPLATE / "model.docx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("customXml/pad.bin", os.urandom(extra_bytes), compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def _revisions(client) -> list[int]:
    return [v["revision"] for v in client.get(f"/v1/templates/{TEMPLATE}/versions").json()]


def test_disk_full_during_upload_keeps_the_old_version(tmp_path):
    # A file-size limit on the server process makes every write past 300 kB fail like a full disk.
    srv = start_server(tmp_path, wrapper=("prlimit", "--fsize=300000"))
    try:
        with srv.client("template-owner") as client:
            small = client.put(f"/v1/templates/{TEMPLATE}", files={"file": ("model.docx", _padded_docx(1000))})
            assert small.status_code in (200, 201), small.text
            before = _revisions(client)
            big = client.put(f"/v1/templates/{TEMPLATE}", files={"file": ("model.docx", _padded_docx(400_000))})
            assert big.status_code == 507, big.text
            assert "Espace disque insuffisant" in big.json()["detail"]
            assert _revisions(client) == before
            assert not list((srv.data / "templates" / TEMPLATE).glob(".staging-*"))
            render = client.post(f"/v1/templates/{TEMPLATE}/render", json={"values": _examples(client), "format": "docx"})
            assert render.status_code == 200
    finally:
        srv.stop()


def _examples(client) -> dict:
    fields = client.get(f"/v1/templates/{TEMPLATE}").json()["fields"]
    return {f["name"]: f["example"] for f in fields if f.get("example") is not None}


def test_killed_during_upload_loses_nothing_and_leaves_nothing_torn(tmp_path):
    srv = start_server(tmp_path)
    tokens = srv.tokens
    with srv.client("template-owner") as client:
        assert client.put(f"/v1/templates/{TEMPLATE}", files={"file": ("model.docx", _padded_docx(1000))}).status_code in (200, 201)
        before = _revisions(client)

    def slow_body():
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"model.docx\"\r\n\r\n"
        for _ in range(50):
            time.sleep(0.05)
            yield b"x" * 10_000

    def upload():
        try:
            httpx.put(f"{srv.url}/v1/templates/{TEMPLATE}", content=slow_body(), timeout=30,
                      headers={"Authorization": f"Bearer {tokens['template-owner']}",
                               "Content-Type": "multipart/form-data; boundary=b"})
        except httpx.HTTPError:
            pass  # the server died under it: expected

    thread = threading.Thread(target=upload)
    thread.start()
    time.sleep(0.8)
    srv.process.send_signal(signal.SIGKILL)
    srv.process.wait(10)
    thread.join(30)
    # As if killed while writing a version: a half-written staging folder is left behind.
    torn = srv.data / "templates" / TEMPLATE / ".staging-torn"
    torn.mkdir()
    (torn / "model.docx").write_bytes(b"PK\x03\x04 half")

    (tmp_path / "restart").mkdir()
    again = start_server(tmp_path / "restart", "--data", str(srv.data), users=False)
    again.tokens = tokens
    try:
        assert not torn.exists()  # removed when the server starts, not at the next upload
        with again.client("template-owner") as client:
            assert _revisions(client) == before
            assert client.post(f"/v1/templates/{TEMPLATE}/render",
                               json={"values": _examples(client), "format": "docx"}).status_code == 200
            assert client.put(f"/v1/templates/{TEMPLATE}", files={"file": ("model.docx", _padded_docx(10))}).status_code in (200, 201)
            assert _revisions(client) == before + [max(before) + 1]
            assert not torn.exists()
    finally:
        again.stop()


def test_model_files_removed_while_serving(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(TINY_MODELS.parent, models)
    srv = start_server(tmp_path, "--models", str(models / "models.toml"))
    chat = {"model": "tiny-llm", "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": 4}
    try:
        with srv.client("user") as client:
            _wait_ready(srv, "tiny-llm")
            assert client.post("/v1/chat/completions", json=chat).status_code == 200
            shutil.rmtree(models / "tiny-llm")
            health = srv.health()
            assert health["status"] == "degraded"
            assert health["models"]["models"]["tiny-llm"]["status"] == "files-missing"
            # Still loaded in memory: the secretaries keep working until IT reinstalls it.
            assert client.post("/v1/chat/completions", json=chat).status_code == 200
    finally:
        srv.stop()


def _wait_ready(srv, model: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if srv.health()["models"]["models"][model]["status"] == "ready":
            return
        time.sleep(0.2)
    pytest.fail(f"{model} never became ready")


class _DyingUpstream:
    """An OpenAI-compatible server that sends two tokens, then drops the connection."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in ("Bon", "jour"):
                    self.wfile.write(f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': piece}}]})}\n\n".encode())
                    self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_engine_dying_mid_stream_ends_the_stream_cleanly(tmp_path):
    upstream = _DyingUpstream()
    catalog = tmp_path / "models.toml"
    catalog.write_text(f'[[models]]\nid = "mourant"\nkind = "upstream"\nurl = "{upstream.url}"\nmodel = "m"\n'
                       'tasks = ["chat"]\nlanguages = ["fr"]\ncontext_length = 4096\n')
    srv = start_server(tmp_path, "--models", str(catalog))
    chat = {"model": "mourant", "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": 8}
    try:
        with srv.client("user") as client:
            _wait_ready(srv, "mourant")
            with client.stream("POST", "/v1/chat/completions", json={**chat, "stream": True}) as response:
                frames = [line for line in response.iter_lines() if line.startswith("data:")]
            # The text so far, then an error frame: never a normal "stop" that passes a cut text for a whole one.
            assert '"content":"Bonjour"' in "".join(frames)
            assert '"error"' in frames[-2] and frames[-1] == "data: [DONE]"
            assert '"finish_reason":"stop"' not in "".join(frames)
            plain = client.post("/v1/chat/completions", json=chat)
            assert plain.status_code in (502, 503, 504) and plain.headers["content-type"].startswith("application/problem+json")
            assert httpx.get(f"{srv.url}/health").status_code == 200  # still serving
            assert client.get("/v1/templates").status_code == 200
    finally:
        srv.stop()
        upstream.httpd.shutdown()
