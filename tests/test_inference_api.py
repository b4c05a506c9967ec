"""The inference API over real HTTP with the tiny models: /v1/models, /v1/chat/completions (plain and
streamed), /metrics, cancellation, the bounded queue, input limits, a broken model, and the upstream
engine forwarding to a second real Plume server."""

from __future__ import annotations

import json
import re
import shutil
import time
from contextlib import ExitStack

import httpx
import pytest
from httpx_sse import connect_sse

from tests.conftest import TINY_MODELS, free_port, start_server

pytestmark = pytest.mark.skipif(not TINY_MODELS.exists(), reason="tiny models not built")

HELLO = [{"role": "system", "content": "Tu es l'assistant de la commune."},
         {"role": "user", "content": "Rédige un accusé de réception pour une demande de permis de construire."}]


# Greedy, the tiny model never meets its end token after this prompt: 8100 tokens take several seconds.
ENDLESS = {"model": "tiny-llm", "messages": [{"role": "user", "content": "Bonjour"}], "temperature": 0,
           "max_tokens": 8100}


def chat(client: httpx.Client, **body) -> httpx.Response:
    return client.post("/v1/chat/completions", json={"model": "tiny-llm", "messages": HELLO, "temperature": 0, **body})


def wait_ready(server, model: str = "tiny-llm") -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        health = server.health()
        if health["models"]["models"].get(model, {}).get("status") != "loading":
            return health
        time.sleep(0.2)
    raise AssertionError("model still loading")


def tokens_generated(server, model: str = "tiny-llm") -> float:
    with server.client("admin") as admin:
        text = admin.get("/metrics").text
    found = re.search(rf'^plume_tokens_generated_total\{{model="{model}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def stream_frames(client: httpx.Client, **body) -> list[str]:
    payload = {"model": "tiny-llm", "messages": HELLO, "temperature": 0, "stream": True, **body}
    with connect_sse(client, "POST", "/v1/chat/completions", json=payload) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return [event.data for event in source.iter_sse()]


@pytest.fixture(scope="module")
def ready(server):
    wait_ready(server)
    return server


# -- catalog and plain completions --------------------------------------------------------------------


def test_models_lists_the_catalog_with_its_state(ready):
    with ready.client("user") as client:
        body = client.get("/v1/models").json()
    assert body["object"] == "list"
    models = {m["id"]: m for m in body["data"]}
    assert {"tiny-llm", "tiny-mt"} <= models.keys()
    llm = models["tiny-llm"]
    assert llm["object"] == "model" and llm["kind"] == "decoder" and "chat" in llm["tasks"]
    assert llm["loaded"] is True and llm["status"] == "ready"


def test_chat_completion_has_the_openai_shape(ready):
    with ready.client("user") as client:
        response = chat(client, max_tokens=12)
        again = chat(client, max_tokens=12)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "tiny-llm" and isinstance(body["created"], int)
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["message"]["role"] == "assistant"
    assert isinstance(choice["message"]["content"], str) and choice["message"]["content"]
    assert choice["finish_reason"] in {"stop", "length"}
    usage = body["usage"]
    assert 0 < usage["completion_tokens"] <= 12
    assert usage["prompt_tokens"] > 10  # the system and user messages with the chat template
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert again.json()["choices"][0]["message"]["content"] == choice["message"]["content"]  # greedy


def test_streaming_sends_openai_chunks_then_done_and_usage_adds_up(ready):
    with ready.client("user") as client:
        plain = chat(client, max_tokens=16).json()
        before = tokens_generated(ready)
        frames = stream_frames(client, max_tokens=16, stream_options={"include_usage": True})
        after = tokens_generated(ready)
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(data) for data in frames[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content = [c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]]
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finish[-1] in {"stop", "length"} and not any(finish[:-1])
    usage = chunks[-1]["usage"]
    assert chunks[-1]["choices"] == []
    # The same text as the non-streamed answer, and the counts agree with each other and with /metrics.
    assert "".join(content) == plain["choices"][0]["message"]["content"]
    assert usage == plain["usage"]
    assert after - before == usage["completion_tokens"]
    assert sum(1 for piece in content if piece) <= usage["completion_tokens"]


def test_stop_sequence_cuts_the_answer(ready):
    with ready.client("user") as client:
        full = chat(client, max_tokens=24).json()["choices"][0]["message"]["content"]
        stop = full[len(full) // 2: len(full) // 2 + 2]
        cut = chat(client, max_tokens=24, stop=[stop]).json()["choices"][0]
    assert cut["message"]["content"] == full[: full.index(stop)]
    assert cut["finish_reason"] == "stop"


# -- refusals ---------------------------------------------------------------------------------------------


def test_unknown_model_is_a_french_404(ready):
    with ready.client("user") as client:
        response = client.post("/v1/chat/completions", json={"model": "gpt-4", "messages": HELLO})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "n'existe pas" in response.json()["detail"]


def test_too_long_input_is_413_and_bad_max_tokens_422(ready):
    long_text = " ".join(["La commune du Locle informe la population des travaux de réfection."] * 1200)
    with ready.client("user") as client:
        too_long = client.post("/v1/chat/completions",
                               json={"model": "tiny-llm", "messages": [{"role": "user", "content": long_text}]})
        zero = chat(client, max_tokens=0)
    assert too_long.status_code == 413
    problem = too_long.json()
    assert "trop long" in problem["detail"] and problem["context_length"] == 8192
    assert problem["prompt_tokens"] > 8192
    assert zero.status_code == 422 and "max_tokens" in zero.json()["detail"]


def test_metrics_need_an_admin_token_and_hold_no_content(ready):
    with ready.client("user") as client:
        assert chat(client, max_tokens=4).status_code == 200
        assert client.get("/metrics").status_code == 403
    assert httpx.get(f"{ready.url}/metrics").status_code == 401
    with ready.client("admin") as admin:
        response = admin.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in ("plume_queue_depth", "plume_tokens_generated_total", "plume_tokens_per_second",
                 "plume_request_latency_seconds_bucket", "plume_inference_requests_total"):
        assert name in text
    assert 'task="chat"' in text
    assert "permis de construire" not in text and "commune" not in text.replace("commune's", "")


# -- cancellation and the queue -----------------------------------------------------------------------------


def test_client_disconnect_stops_the_generation(ready):
    with ready.client("user") as client:
        before = tokens_generated(ready)
        with client.stream("POST", "/v1/chat/completions", json={**ENDLESS, "stream": True}) as response:
            assert response.status_code == 200
            for i, _line in enumerate(response.iter_lines()):
                if i > 6:
                    break  # leaving the block closes the connection mid-stream
    time.sleep(1.0)
    stopped_at = tokens_generated(ready)
    time.sleep(1.0)
    assert tokens_generated(ready) == stopped_at  # nothing more is generated
    assert stopped_at - before < 4000  # and it stopped long before the end
    health = ready.health()["models"]
    assert health["admitted"] == 0


def test_full_queue_answers_503_with_retry_after(tmp_path):
    server = start_server(tmp_path, "--models", str(TINY_MODELS), env={"PLUME_QUEUE_SIZE": "1"})
    try:
        wait_ready(server)
        with ExitStack() as streams, server.client("user") as anne, server.client("template-owner") as bruno:
            # Long requests until every engine slot is busy and one waits: the queue is then full.
            for _ in range(12):
                response = streams.enter_context(anne.stream("POST", "/v1/chat/completions",
                                                             json={**ENDLESS, "stream": True}))
                assert response.status_code == 200
                if server.health()["models"]["queue_depth"] == 1:
                    break
            else:
                raise AssertionError("no request ever waited")
            refused = chat(bruno, max_tokens=4)
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert int(refused.headers["retry-after"]) >= 1
        assert "file d'attente" in refused.json()["detail"]
        time.sleep(0.5)
        with server.client("template-owner") as bruno:
            assert chat(bruno, max_tokens=4).status_code == 200  # the places are free again
    finally:
        server.stop()


# -- a broken model and the upstream engine --------------------------------------------------------------


def test_broken_model_degrades_health_and_answers_503_with_install_command(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(TINY_MODELS.parent / "tiny-llm", models / "broken-llm")
    (models / "broken-llm" / "model.onnx").write_bytes(b"\x08\x07 this is not an onnx graph" * 50)
    catalog = models / "models.toml"
    catalog.write_text('[[models]]\nid = "broken-llm"\npath = "broken-llm"\nkind = "decoder"\n'
                       'runtime = "onnxruntime-genai"\ntasks = ["chat", "summarize"]\nlanguages = ["fr"]\n'
                       'context_length = 2048\n')
    server = start_server(tmp_path, "--models", str(catalog))
    try:
        health = wait_ready(server, "broken-llm")
        assert health["status"] == "degraded"
        assert httpx.get(f"{server.url}/health").json() == {"status": "degraded", "queue_depth": 0}  # public view
        report = health["models"]["models"]["broken-llm"]
        assert report["status"] == "unavailable" and report["reason"]
        assert report["check_command"] == f"plume models check --models {catalog} --id broken-llm"
        assert any("broken-llm" in line for line in health["models"]["problems"])
        with server.client("user") as client:
            response = chat(client, model="broken-llm", max_tokens=4)
            listed = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
        with server.client("admin") as admin:  # the command is for IT; a clerk's answer has none
            problem = chat(admin, model="broken-llm", max_tokens=4).json()
        assert response.status_code == 503 and "install_command" not in response.json()
        assert problem["install_command"] == ("plume models add DOSSIER_DU_MODELE --id ID_DU_MODELE --kind decoder "
                                              f"--tasks chat --models {catalog}")
        assert f"plume models check --models {catalog} --id broken-llm" in problem["detail"]
        assert "indisponible" in problem["detail"] and "Traceback" not in response.text
        assert listed["broken-llm"]["loaded"] is False
    finally:
        server.stop()


def test_missing_catalog_still_serves_and_says_ok(tmp_path):
    """No catalog is no model configured, a supported mode (rules only): monitoring must not alarm."""
    server = start_server(tmp_path, "--models", str(tmp_path / "absent.toml"))
    try:
        assert httpx.get(f"{server.url}/health").json() == {"status": "ok", "queue_depth": 0}
        health = server.health()
        assert health["status"] == "ok" and "absent.toml" in " ".join(health["models"]["notes"])
        with server.client("user") as client:
            assert client.get("/v1/models").json()["data"] == []
    finally:
        server.stop()


def test_upstream_engine_forwards_to_a_second_plume_server(ready, tmp_path):
    dead_port = free_port()
    catalog = tmp_path / "models.toml"
    catalog.write_text(
        '[[models]]\nid = "via-upstream"\nkind = "upstream"\n'
        f'url = "{ready.url}/v1"\nmodel = "tiny-llm"\napi_key_env = "PLUME_TEST_UPSTREAM_KEY"\n'
        'tasks = ["chat"]\nlanguages = ["fr"]\ncontext_length = 8192\n\n'
        '[[models]]\nid = "upstream-down"\nkind = "upstream"\n'
        f'url = "http://127.0.0.1:{dead_port}"\nmodel = "x"\ntasks = ["chat"]\ncontext_length = 4096\n')
    front = start_server(tmp_path, "--models", str(catalog), env={"PLUME_TEST_UPSTREAM_KEY": ready.tokens["user"]})
    try:
        wait_ready(front, "via-upstream")
        with ready.client("user") as direct:
            expected = chat(direct, max_tokens=10).json()
        before = tokens_generated(ready)
        with front.client("user") as client:
            forwarded = chat(client, model="via-upstream", max_tokens=10)
            frames = stream_frames(client, model="via-upstream", max_tokens=10,
                                   stream_options={"include_usage": True})
            down = chat(client, model="upstream-down", max_tokens=4)
        assert forwarded.status_code == 200, forwarded.text
        body = forwarded.json()
        assert body["model"] == "via-upstream"
        assert body["choices"][0]["message"]["content"] == expected["choices"][0]["message"]["content"]
        assert body["usage"]["completion_tokens"] == expected["usage"]["completion_tokens"]
        # The second server really did the work: its own counter grew by both forwarded generations.
        assert tokens_generated(ready) - before == 2 * expected["usage"]["completion_tokens"]
        chunks = [json.loads(f) for f in frames[:-1]]
        streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        assert frames[-1] == "[DONE]" and streamed == expected["choices"][0]["message"]["content"]
        assert chunks[-1]["usage"]["completion_tokens"] == expected["usage"]["completion_tokens"]
        # An upstream that does not answer: retried, then a clear 502, never a hang or a stack trace.
        assert down.status_code == 502 and "ne répond pas" in down.json()["detail"]
    finally:
        front.stop()



def test_time_limit_answers_504_and_stops_the_engine(tmp_path):
    server = start_server(tmp_path, "--models", str(TINY_MODELS), env={"PLUME_REQUEST_TIMEOUT_S": "0.3"})
    try:
        wait_ready(server)
        with server.client("user") as client:
            response = client.post("/v1/chat/completions", json=ENDLESS)  # seconds of work, far past the limit
        assert response.status_code == 504
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "temps maximal" in response.json()["detail"]
        time.sleep(0.5)
        stopped_at = tokens_generated(server)
        time.sleep(0.5)
        assert tokens_generated(server) == stopped_at < 4000
    finally:
        server.stop()


def test_translation_model_answers_chat_completions(ready):
    with ready.client("user") as client:
        response = client.post("/v1/chat/completions", json={
            "model": "tiny-mt", "max_tokens": 20,
            "messages": [{"role": "user", "content": "Nous accusons réception de votre demande."}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["choices"][0]["message"]["content"] and 0 < body["usage"]["completion_tokens"] <= 20


def test_upstream_retries_a_failing_server_before_the_first_token():
    """A real HTTP server that fails once (503), then streams: the engine retries, parses the SSE
    (comments, role-only deltas, usage frame) and counts tokens as the upstream does."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from plume.inference.engine import CancelToken, GenerationParams
    from plume.inference.upstream import UpstreamEngine

    calls = []

    class Flaky(BaseHTTPRequestHandler):
        def do_POST(self):
            calls.append((self.headers.get("Authorization"), json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            if len(calls) == 1:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = (": keep-alive\n\n"
                    'data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n'
                    'data: {"choices":[{"index":0,"delta":{"content":"Bon"}}]}\n\n'
                    'data: {"choices":[{"index":0,"delta":{"content":"jour"}}]}\n\n'
                    'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}\n\n'
                    "data: [DONE]\n\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        engine = UpstreamEngine(model_id="flaky", url=f"http://127.0.0.1:{httpd.server_port}", model="upstream-name",
                                api_key="secret", backoff_s=0.05)
        chunks = list(engine.generate_chat([{"role": "user", "content": "Salut"}], GenerationParams(max_new_tokens=5),
                                           CancelToken()))
    finally:
        httpd.shutdown()
    assert "".join(c.text for c in chunks) == "Bonjour"
    assert sum(c.tokens for c in chunks) == 5  # the upstream's own count
    assert len(calls) == 2
    authorization, body = calls[1]
    assert authorization == "Bearer secret"
    assert body["model"] == "upstream-name" and body["stream"] is True and body["max_tokens"] == 5


def test_client_leaving_a_plain_request_stops_the_generation_too(ready):
    before = tokens_generated(ready)
    with ready.client("user", timeout=0.5) as client, pytest.raises(httpx.ReadTimeout):
        client.post("/v1/chat/completions", json=ENDLESS)  # the client gives up and hangs up
    time.sleep(1.0)
    stopped_at = tokens_generated(ready)
    time.sleep(1.0)
    assert tokens_generated(ready) == stopped_at
    assert stopped_at - before < 4000
