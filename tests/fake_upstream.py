"""A scripted OpenAI-compatible server for the writing-task tests: Plume's upstream engine talks to
it over real HTTP, so the tests see exactly what a model receives and control what it answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FakeUpstream:
    """`replies` (a list) is answered first, one per request; then `default(messages)`."""

    def __init__(self, default: Callable[[list[dict]], str], delay: float = 0.0) -> None:
        self.default = default
        self.delay = delay  # seconds between pieces: a slow model, so that a test can press Stop
        self.sent = 0  # pieces written so far, all requests together (GET / answers it)
        self.replies: list[str] = []
        self.requests: list[list[dict]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake._lock:
                    fake.requests.append(body["messages"])
                    text = fake.replies.pop(0) if fake.replies else fake.default(body["messages"])
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    for piece in (text[i:i + 40] for i in range(0, len(text), 40)):
                        chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        fake.sent += 1
                        if fake.delay:
                            self.wfile.flush()
                            time.sleep(fake.delay)
                    self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # Plume stopped reading: the clerk pressed Stop

            def do_GET(self):  # noqa: N802 - how far the model has written, for a test that presses Stop
                body = json.dumps({"sent": fake.sent}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def catalog(self, path: Path, tasks: list[str]) -> Path:
        path.write_text(f'[[models]]\nid = "scripted"\nkind = "upstream"\nurl = "{self.url}"\nmodel = "scripted"\n'
                        f'tasks = {json.dumps(tasks)}\nlanguages = ["fr"]\ncontext_length = 8192\n')
        return path

    def stop(self) -> None:
        self.httpd.shutdown()


@contextmanager
def scripted_server(tmp: Path, default: Callable[[list[dict]], str], tasks: list[str], delay: float = 0.0,
                    extra: tuple[str, ...] = ()):
    """A real Plume server whose only model is a FakeUpstream: yields (server, fake). `extra`: more
    arguments of `plume serve` (--collections…)."""
    from tests.conftest import start_server

    fake = FakeUpstream(default, delay)
    srv = start_server(tmp, "--models", str(fake.catalog(tmp / "models.toml", tasks)), *extra)
    try:
        wait_model_ready(srv)
        yield srv, fake
    finally:
        srv.stop()
        fake.stop()


def wait_model_ready(server, model: str = "scripted") -> None:
    import time


    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        health = server.health()
        if health.get("models", {}).get("models", {}).get(model, {}).get("status") not in (None, "loading"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{model} still loading")


# What a well-behaved model answers for each writing task (recognised by its system prompt).
GOOD_ANSWERS = {
    "Tu tries le courrier": {"category": "réclamation", "service": "chancellerie", "needs_reply": False,
                             "summary": "L'expéditeur pose une question à l'administration."},
    "Résume en une seule phrase": {"summary": "L'expéditeur demande des renseignements à la commune."},
    "Tu extrais des notes": {"nom": "Autre", "niveau": "second rappel"},
    "procès-verbal": {"discussion": "Le Conseil communal a expliqué que les travaux étaient nécessaires."},
    "fiche explicative": {
        "what": [{"text": "Tout chien doit être annoncé à la commune.", "reference": "art. 3 al. 1"}],
        "who": [{"text": "Les chiens d'assistance ne paient pas la taxe.", "reference": "art. 4 al. 3"}],
        "amounts": [{"text": "La taxe coûte CHF 100.– par chien et par an.", "reference": "art. 4 al. 2"}],
        "deadlines": [{"text": "Annoncez votre chien dans les 30 jours.", "reference": "art. 3 al. 1"}],
        "how_to": [{"text": "Adressez-vous au contrôle des habitants.", "reference": "art. 3 al. 1"}],
        "contact": [{"text": "Contrôle des habitants", "reference": "art. 3 al. 1"}],
    },
}


def good_answer(messages: list[dict]) -> str:
    system = messages[0]["content"]
    for cue, answer in GOOD_ANSWERS.items():
        if cue in system:
            return json.dumps(answer, ensure_ascii=False)
    return "{}"


MY_TASKS = ["triage", "acknowledge", "extract", "minutes", "factsheet"]
