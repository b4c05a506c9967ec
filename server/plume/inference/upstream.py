"""An engine that forwards generation to any OpenAI-compatible server (vLLM, TGI, Ollama, llama.cpp
server, NVIDIA NIM — or another Plume). This is how a canton-wide deployment scales out.

Catalog entry (kind = "upstream"):

    [models.redaction-vllm]
    kind = "upstream"
    url = "http://gpu-1.interne:8000/v1"     # base URL, with or without /v1
    model = "Qwen/Qwen2.5-14B-Instruct"      # the upstream's model name (default: the entry id)
    api_key_env = "PLUME_UPSTREAM_KEY"       # environment variable holding the bearer token, if any
    tasks = ["chat", "plain-language", "summarize"]
    context_length = 32768

The upstream applies its own chat template, so this engine takes the chat messages directly
(`generate_chat`). Connection errors and 5xx answers are retried with backoff before the first token;
after the first token a failure ends the generation (retrying would repeat text already sent).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx

from plume.inference.engine import CancelToken, Chunk, Engine, EngineError, GenerationParams
from plume.inference.errors import InferenceRefusal, UpstreamRefused, UpstreamUnavailable

log = logging.getLogger("plume.upstream")

CHARS_PER_TOKEN = 3.5  # rough estimate for French text; the upstream's own count is used for usage


class UpstreamEngine(Engine):
    max_batch = 16  # the upstream batches; let several requests through at once

    def __init__(self, *, model_id: str, url: str, model: str | None = None, api_key: str | None = None,
                 context_length: int = 8192, connect_timeout_s: float = 5.0, read_timeout_s: float = 120.0,
                 retries: int = 3, backoff_s: float = 0.5, max_batch: int | None = None) -> None:
        self.model_id = model_id
        self.context_length = context_length
        self.url = _chat_url(url)
        self.upstream_model = model or model_id
        self.retries = retries
        self.backoff_s = backoff_s
        if max_batch:
            self.max_batch = max_batch
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(headers=headers, timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s))

    @classmethod
    def from_entry(cls, entry: Any) -> UpstreamEngine:
        def get(name: str, default: Any = None) -> Any:
            if isinstance(entry, dict):
                return entry.get(name, default)
            value = getattr(entry, name, None)
            if value is None:
                value = (getattr(entry, "extra", None) or getattr(entry, "options", None) or {}).get(name)
            return default if value is None else value

        url = get("url")
        if not url:
            raise EngineError("catalog entry of kind 'upstream' needs a url")
        key_env = get("api_key_env")
        return cls(model_id=get("id"), url=url, model=get("model"),
                   api_key=os.environ.get(key_env) if key_env else None,
                   context_length=int(get("context_length", 8192)),
                   read_timeout_s=float(get("timeout_s", 120.0)), max_batch=get("max_batch"))

    # -- Engine ---------------------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        # Most OpenAI-compatible servers have no tokenize route; estimate, and trust their usage counts.
        return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))

    def format_chat(self, messages: list[dict[str, str]]) -> str:
        return "\n".join(f"{m['role']}: {m['content']}" for m in messages)

    def generate(self, prompt: str, params: GenerationParams, cancel: CancelToken) -> Iterator[Chunk]:
        return self.generate_chat([{"role": "user", "content": prompt}], params, cancel)

    def generate_chat(self, messages: list[dict[str, str]], params: GenerationParams,
                      cancel: CancelToken) -> Iterator[Chunk]:
        body: dict[str, Any] = {
            "model": self.upstream_model, "messages": messages, "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": params.max_new_tokens, "temperature": params.temperature, "top_p": params.top_p,
        }
        if params.stop:
            body["stop"] = params.stop
        if params.seed is not None:
            body["seed"] = params.seed
        if params.json_schema:
            # Constrained decoding on the upstream (vLLM, llama.cpp server, TGI, Ollama honour it).
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "answer", "schema": json.loads(params.json_schema), "strict": True}}
        streamed = 0
        for attempt in range(self.retries + 1 + ("response_format" in body)):
            try:
                with self.client.stream("POST", self.url, json=body) as response:
                    if response.status_code in (400, 422) and body.pop("response_format", None) is not None:
                        # A server without response_format: ask again without it (the caller checks the JSON).
                        log.warning("upstream %s refused response_format; asking without it", self.url)
                        response.read()
                        continue
                    if response.status_code >= 500 and attempt < self.retries:
                        log.warning("upstream %s answered %s; retrying", self.url, response.status_code)
                        self._pause(attempt, cancel)
                        continue
                    if response.status_code >= 400:
                        raise self._refused(response)
                    finished = False
                    for event in _sse_data(response.iter_lines()):
                        if cancel.cancelled:
                            return
                        if event == _DONE:
                            finished = True
                            break
                        finished = finished or _has_finish_reason(event)
                        text, usage = _parse_event(event)
                        if text:
                            streamed += 1
                            yield Chunk(text, 1)
                        if usage is not None and usage > streamed:
                            # The upstream's own count is the truth; tokens that came in one delta count too.
                            yield Chunk("", usage - streamed)
                            streamed = usage
                    if not finished:
                        # The connection closed mid-answer: a cut text must not pass for a whole one.
                        log.error("upstream %s closed the stream before its end", self.url)
                        raise UpstreamUnavailable(self.url)
                    return
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
                if streamed or attempt >= self.retries:
                    log.error("upstream %s failed: %s", self.url, type(exc).__name__)
                    raise UpstreamUnavailable(self.url) from None
                log.warning("upstream %s unreachable (%s); retrying", self.url, type(exc).__name__)
                self._pause(attempt, cancel)
            except httpx.ReadTimeout:
                log.error("upstream %s timed out", self.url)
                raise UpstreamUnavailable(self.url) from None
        raise UpstreamUnavailable(self.url)

    def _pause(self, attempt: int, cancel: CancelToken) -> None:
        deadline = time.monotonic() + self.backoff_s * (2 ** attempt)
        while time.monotonic() < deadline and not cancel.cancelled:
            time.sleep(0.05)

    def _refused(self, response: httpx.Response) -> InferenceRefusal:
        response.read()
        log.error("upstream %s refused the request with %s", self.url, response.status_code)
        if response.status_code in (400, 413, 422):
            return UpstreamRefused("Le serveur de modèles a refusé la requête (texte trop long ou réglages "
                                   "invalides).", upstream_status=response.status_code)
        return UpstreamUnavailable(self.url)

    def close(self) -> None:
        self.client.close()


def _chat_url(url: str) -> str:
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if not url.endswith("/v1"):
        url += "/v1"
    return url + "/chat/completions"


_DONE = "[DONE]"


def _has_finish_reason(payload: str) -> bool:
    try:
        return any(choice.get("finish_reason") for choice in json.loads(payload).get("choices") or [])
    except (json.JSONDecodeError, AttributeError):
        return False


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The data of each server-sent event (multi-line data joined), then `[DONE]` if the server sent it."""
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                payload = "\n".join(data)
                data = []
                if payload.strip() == _DONE:
                    yield _DONE
                    return
                yield payload
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        # comments (":") and other fields (event, id, retry) carry nothing we need
    if data:
        payload = "\n".join(data).strip()
        yield _DONE if payload == _DONE else payload


def _parse_event(payload: str) -> tuple[str, int | None]:
    """(content delta, completion tokens from a usage block or None)."""
    try:
        event = json.loads(payload)
    except json.JSONDecodeError:
        return "", None
    if "error" in event:
        raise EngineError("upstream sent an error event")
    text = "".join((choice.get("delta") or {}).get("content") or "" for choice in event.get("choices") or [])
    usage = event.get("usage") or None
    return text, (int(usage["completion_tokens"]) if usage and "completion_tokens" in usage else None)
