"""A slow network between the pane and the real Plume server: every request is forwarded as is, and
a Server-Sent Events answer comes back one event at a time with a pause between them — so a test can
press Stop while a result is being written."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


class Proxy:
    def __init__(self) -> None:
        self.url = ""
        self.streams_finished = 0  # event streams forwarded to their end (not stopped by the pane)


def _handler(upstream: str, delay: float, proxy: Proxy) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            with httpx.Client(timeout=120) as client, client.stream(
                    self.command, upstream + self.path, headers=headers, content=body) as response:
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                streaming = response.headers.get("content-type", "").startswith("text/event-stream")
                if not streaming:
                    data = response.read()
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_header("Connection", "close")
                self.end_headers()
                buffer = ""
                try:
                    for chunk in response.iter_text():
                        buffer += chunk.replace("\r\n", "\n")  # events end with a blank line, \r\n or \n
                        while "\n\n" in buffer:
                            event, buffer = buffer.split("\n\n", 1)
                            self.wfile.write((event + "\n\n").encode("utf-8"))
                            self.wfile.flush()
                            time.sleep(delay)
                    if buffer:
                        self.wfile.write(buffer.encode("utf-8"))
                    proxy.streams_finished += 1
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the pane stopped reading: Stop was pressed

        do_GET = do_POST = do_PUT = do_DELETE = _forward

    return Forward


@contextmanager
def slow_proxy(upstream: str, delay: float = 0.3) -> Iterator[Proxy]:
    proxy = Proxy()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, delay, proxy))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
