"""Constrained decoding: a JSON schema given with a request bounds what the engine may write.

GenAIEngine uses onnxruntime-genai's guidance (llguidance); the upstream engine sends OpenAI's
`response_format`, and asks again without it when the server does not know it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from plume.inference.engine import CancelToken, GenerationParams

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "onnx_models" / "tiny" / "tiny-llm"
SCHEMA = {"type": "object", "properties": {"avis": {"enum": ["oui", "non"]}}, "required": ["avis"],
          "additionalProperties": False}


@pytest.fixture(scope="module")
def llm():
    from plume.inference.onnx_genai import GenAIEngine

    return GenAIEngine(TINY, model_id="tiny-llm", providers=["cpu"])


def _text(chunks) -> str:
    return "".join(c.text for c in chunks)


def test_random_weights_write_json_matching_the_schema_only_when_constrained(llm):
    prompt = llm.format_chat([{"role": "user", "content": "Réponds oui ou non."}])
    free = _text(llm.generate(prompt, GenerationParams(max_new_tokens=40), CancelToken()))
    constrained = _text(llm.generate(prompt, GenerationParams(max_new_tokens=40, json_schema=json.dumps(SCHEMA)),
                                     CancelToken()))
    with pytest.raises(ValueError):
        json.loads(free)  # gibberish: the tiny model knows nothing
    assert json.loads(constrained)["avis"] in ("oui", "non")


def test_constrained_prompts_in_one_batch_each_match_the_schema(llm):
    prompts = [llm.format_chat([{"role": "user", "content": text}]) for text in ("Oui ?", "Non, vraiment pas ?")]
    texts = ["", ""]
    params = GenerationParams(max_new_tokens=40, json_schema=json.dumps(SCHEMA))
    for step in llm.generate_batch(prompts, params, [CancelToken(), CancelToken()]):
        for i, chunk in enumerate(step):
            texts[i] += chunk.text if chunk else ""
    assert [json.loads(t)["avis"] in ("oui", "non") for t in texts] == [True, True]


class _Upstream:
    """An OpenAI-compatible server that records request bodies; it may refuse response_format."""

    def __init__(self, refuse_response_format: bool) -> None:
        self.bodies: list[dict] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                upstream.bodies.append(body)
                if refuse_response_format and "response_format" in body:
                    self.send_response(400)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                chunk = {"choices": [{"index": 0, "delta": {"content": '{"avis": "oui"}'}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode())

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.mark.parametrize("refuses", [False, True])
def test_upstream_gets_the_schema_as_response_format_and_falls_back_without_it(refuses):
    from plume.inference.upstream import UpstreamEngine

    server = _Upstream(refuse_response_format=refuses)
    engine = UpstreamEngine(model_id="amont", url=server.url, retries=0)
    try:
        params = GenerationParams(max_new_tokens=20, json_schema=json.dumps(SCHEMA))
        text = _text(engine.generate_chat([{"role": "user", "content": "?"}], params, CancelToken()))
    finally:
        engine.close()
        server.httpd.shutdown()
    assert json.loads(text) == {"avis": "oui"}
    first = server.bodies[0]["response_format"]
    assert first["type"] == "json_schema" and first["json_schema"]["schema"] == SCHEMA
    assert len(server.bodies) == (2 if refuses else 1)
    if refuses:
        assert "response_format" not in server.bodies[1]


def test_answer_schemas_sent_to_the_engine_allow_only_their_own_keys():
    """With keys left open, guided decoding let the reference model write a key « nom\\": » and then
    run on inside a key until its token limit, twice in a row: a 502 on a request that passed on
    every other try. Every object of the schema Plume sends is closed; a map (dict) stays a map."""
    import asyncio

    import msgspec

    from plume.inference.base import Completion, Message
    from plume.tasks.common import closed_schema, complete_structured

    class Person(msgspec.Struct):
        nom: str | None = None

    Answer = msgspec.defstruct("Answer", [("titulaire", Person), ("montants", dict[str, float]), ("motif", str | None)])

    class Recording:
        schemas: list = []

        async def complete(self, task, messages, **options):
            self.schemas.append(options["json_schema"])
            return Completion(text='{"titulaire": {"nom": "Ferreira"}, "montants": {}, "motif": null}',
                              model="scripted", prompt_tokens=1, completion_tokens=1)

    recording = Recording()
    value, _ = asyncio.run(complete_structured(recording, "extract", [Message("user", "x")], Answer))
    sent = recording.schemas[0]
    objects = [d for d in _walk(sent) if d.get("type") == "object"]
    assert value.titulaire.nom == "Ferreira" and len(objects) == 3
    for obj in objects:
        if "properties" in obj:
            assert obj["additionalProperties"] is False, obj
        else:  # the map keeps its value schema: any key, numbers only
            assert obj["additionalProperties"] == {"type": "number"}
    assert sent == closed_schema(msgspec.json.schema(Answer)) != msgspec.json.schema(Answer)


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
