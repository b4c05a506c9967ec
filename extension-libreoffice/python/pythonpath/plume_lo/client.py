"""The Plume HTTP API over the standard library (LibreOffice's Python on Windows has no pip).

TLS is verified against the system's certificate store (ssl.create_default_context). Every failure
becomes a PlumeError whose `key` names a message in i18n, so the user reads French or German,
never a Python traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass

from plume_lo import i18n


class PlumeError(Exception):
    def __init__(self, key: str, status: int | None = None, **values) -> None:
        super().__init__(key)
        self.key = key
        self.status = status
        self.values = values

    def message(self, language: str) -> str:
        # The server's own sentence is written for the clerk, in French: shown as is in a French UI.
        if self.key in SERVER_SENTENCE and language == "fr" and self.values.get("detail"):
            return str(self.values["detail"])
        return i18n.text(language, self.key, **self.values)


# Answers whose `detail` the server writes for the clerk (a missing model, a refusal such as phishing).
SERVER_SENTENCE = ("no_model", "refused")


@dataclass
class Client:
    base_url: str
    token: str
    timeout: float = 180.0
    # The id the server gave its last answer (header X-Plume-Request-Id): the sidebar sends it back
    # when the clerk inserts that result, so the usage report counts only results really used.
    last_request_id: str = ""
    # A letter not in the language asked for: the server's French warning (header X-Plume-Warning).
    last_warning: str = ""

    def get_json(self, path: str):
        return json.loads(self._request("GET", path))

    def post_json(self, path: str, body: dict):
        return json.loads(self._request("POST", path, body))

    def post_file(self, path: str, body: dict) -> bytes:
        return self._request("POST", path, body)

    def delete(self, path: str) -> None:
        self._request("DELETE", path)

    def post_recording(self, path: str, recording: str, fields: dict, on_sent, stopped):
        """POST a recording as multipart/form-data (field `file`), read from disk block by block, never
        whole in memory: `on_sent(bytes so far, total)` as it goes; None once `stopped()` (abandoned).
        The file goes under a neutral name: its own name (often a person's) never leaves the machine."""
        body = _Multipart(recording, fields, on_sent, stopped)
        request = self._prepare("POST", path, None)
        request.data = body
        request.add_header("Content-Type", f"multipart/form-data; boundary={body.boundary}")
        request.add_header("Content-Length", str(body.length))
        try:
            with self._errors():
                with _opener().open(request, timeout=self.timeout) as response:
                    self.last_request_id = response.headers.get("X-Plume-Request-Id") or ""
                    whole = response.read()
        except PlumeError:
            if body.stopped_early:
                return None
            raise
        finally:
            body.close()
        return json.loads(whole)

    def events(self, path: str, stopped):
        """GET a Server-Sent Events stream: yields (event, payload) as they come, until the server ends
        it or `stopped()` is true. A dropped connection raises PlumeError (the caller may open it again)."""
        request = self._prepare("GET", path, None, "text/event-stream")
        with self._errors():
            with _opener().open(request, timeout=self.timeout) as response:
                for event, payload in _messages(response):
                    if stopped():
                        return
                    yield event, payload

    def report_inserted(self, request_ids) -> None:
        """Tell the server these results went into a document (POST /v1/usage/inserted).

        Best effort: an older server without the route, or a network hiccup, must never stop
        the clerk's insertion, which has already happened."""
        for request_id in request_ids:
            if request_id:
                try:
                    self._request("POST", "/v1/usage/inserted", {"request_id": request_id})
                except PlumeError:
                    pass

    def stream(self, path: str, body: dict, on_text, stopped) -> dict | None:
        """POST asking for Server-Sent Events (docs/writing-tasks.md): `on_text(text_so_far)` as the
        model writes. Returns the final answer (the `done` event, or the JSON of a server that does not
        stream), or None as soon as `stopped()` is true: the text so far is then the caller's to keep."""
        accept = "text/event-stream, application/json, application/problem+json"
        with self._errors():
            with _opener().open(self._prepare("POST", path, body, accept), timeout=self.timeout) as response:
                self.last_request_id = response.headers.get("X-Plume-Request-Id") or ""
                if "text/event-stream" in (response.headers.get("Content-Type") or ""):
                    return _read_events(response, on_text, stopped)
                whole = response.read()
        return json.loads(whole)  # outside: an unreadable answer is not a connection failure

    def _prepare(self, method: str, path: str, body: dict | None,
                 accept: str = "application/json, application/problem+json, */*") -> urllib.request.Request:
        url = self.base_url.rstrip("/") + path
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", accept)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        return request

    def _request(self, method: str, path: str, body: dict | None = None) -> bytes:
        with self._errors():
            with _opener().open(self._prepare(method, path, body), timeout=self.timeout) as response:
                self.last_request_id = response.headers.get("X-Plume-Request-Id") or ""
                self.last_warning = urllib.parse.unquote(response.headers.get("X-Plume-Warning") or "")
                return response.read()

    @contextlib.contextmanager
    def _errors(self):
        """Every failure of the connection or of the server as a PlumeError with a message for the clerk."""
        try:
            yield
        except PlumeError:
            raise
        except urllib.error.HTTPError as exc:
            raise _problem(exc) from None
        except ssl.SSLError:
            raise PlumeError("tls") from None
        except (socket.timeout, TimeoutError):
            raise PlumeError("timeout") from None
        except urllib.error.URLError as exc:  # urllib wraps the cause: a refused certificate, a timeout…
            if isinstance(exc.reason, ssl.SSLError):
                raise PlumeError("tls") from None
            if isinstance(exc.reason, (socket.timeout, TimeoutError)):
                raise PlumeError("timeout") from None
            raise PlumeError("unreachable", url=self.base_url) from None
        except OSError:
            raise PlumeError("unreachable", url=self.base_url) from None
        except ValueError:  # a malformed URL in the settings
            raise PlumeError("unreachable", url=self.base_url) from None


def _opener() -> urllib.request.OpenerDirector:
    """Straight to the commune's server: never through a proxy (the text must not leave the premises);
    HTTPS verified against the system's certificates (on Windows, its certificate store)."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                       urllib.request.HTTPSHandler(context=ssl.create_default_context()))


def _messages(response):
    """The (event, payload) messages of a Server-Sent Events stream, one at a time as they come. Hand
    written: the standard library has no SSE reader, and LibreOffice's Python on Windows has no pip."""
    event, data = "message", []
    for raw in response:  # one line at a time, as the server sends them
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
        elif not line and data:
            try:
                payload = json.loads("\n".join(data))
            except ValueError:
                payload = {}
            yield event, payload
            event, data = "message", []


def _read_events(response, on_text, stopped) -> dict | None:
    """`delta` {text} adds to the text, `restart` starts it again, `done` ends with the whole answer,
    `error` carries a problem; `progress` and unknown events are skipped."""
    text = ""
    for event, payload in _messages(response):
        if stopped():
            return None
        if event == "delta":
            text += str(payload.get("text") or "") if isinstance(payload, dict) else ""
            on_text(text)
        elif event == "restart":
            text = ""
            on_text(text)
        elif event == "done":
            return payload if isinstance(payload, dict) else {"text": text}
        elif event == "error":
            raise problem_of(payload)
    if stopped():
        return None
    raise PlumeError("bad_answer")  # the stream ended without its `done` event


def problem_of(payload) -> PlumeError:
    """An `error` event's problem ({"status", "detail"…}) as the matching message."""
    payload = payload if isinstance(payload, dict) else {}
    return _problem_of(int(payload.get("status") or 500), payload, "")


class _Multipart:
    """A multipart/form-data body read by http.client block by block: the fields, then the recording
    streamed from disk. Hand written: the standard library builds no multipart body."""

    BLOCK = 256 * 1024

    def __init__(self, recording: str, fields: dict, on_sent, stopped) -> None:
        self.boundary = "plume-" + uuid.uuid4().hex
        suffix = os.path.splitext(recording)[1].lower()
        head = "".join(f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                       for name, value in fields.items())
        head += (f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="enregistrement{suffix}"'
                 f'\r\nContent-Type: application/octet-stream\r\n\r\n')
        self.head, self.tail = head.encode("utf-8"), f"\r\n--{self.boundary}--\r\n".encode()
        self.size = os.path.getsize(recording)
        self.length = len(self.head) + self.size + len(self.tail)
        self.file = open(recording, "rb")
        self.on_sent, self.stopped = on_sent, stopped
        self.sent, self.stopped_early = 0, False
        self.parts = [self.head, None, self.tail]  # None: the file's place

    def read(self, size: int = -1) -> bytes:
        if self.stopped():
            self.stopped_early = True
            raise OSError("stopped by the clerk")  # breaks the upload; the server then deletes what came
        while self.parts:
            part = self.parts[0]
            if part is None:
                block = self.file.read(self.BLOCK)
                if block:
                    self.sent += len(block)
                    self.on_sent(self.sent, self.size)
                    return block
                self.parts.pop(0)
                continue
            self.parts.pop(0)
            return part
        return b""

    def close(self) -> None:
        self.file.close()


def _problem(exc: urllib.error.HTTPError) -> PlumeError:
    """An RFC 9457 problem+json answer -> the matching message."""
    try:
        problem = json.loads(exc.read() or b"{}")
    except ValueError:
        problem = {}
    return _problem_of(exc.code, problem, exc.reason)


def _problem_of(status: int, problem, reason) -> PlumeError:
    if not isinstance(problem, dict):
        problem = {}
    detail = str(problem.get("detail") or reason or status)
    if status == 401:
        return PlumeError("unauthorized", status)
    if status == 403:
        return PlumeError("forbidden", status)
    if status == 413:
        return PlumeError("too_long", status)
    if status == 503 and (problem.get("install_command") or problem.get("type", "").endswith("model-unavailable")):
        return PlumeError("no_model", status, detail=str(problem.get("detail") or ""))
    if status == 504:
        return PlumeError("timeout", status)
    errors = [e for e in problem.get("errors") or [] if isinstance(e, dict) and e.get("message")]
    if status == 422 and errors:  # values the clerk typed: the server names each field by its label
        return PlumeError("invalid_values", status, detail=" ".join(str(e["message"]) for e in errors))
    if status == 422 and problem.get("detail"):  # a refusal explained, e.g. a message that looks like phishing
        return PlumeError("refused", status, detail=detail)
    return PlumeError("server_error", status, detail=detail)


def quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")
