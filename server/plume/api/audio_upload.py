"""Receiving a recording: a multipart/form-data upload (OpenAI's shape: a `file` part and small text
fields) streamed to disk as it arrives, never held in memory, and refused as soon as it passes the
size limit — from its Content-Length before reading anything, else while counting what comes.

Litestar's own form parsing reads the whole body into memory first, so the audio route turns the
framework's body limit off and parses with python-multipart's streaming parser instead.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from litestar import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from plume.api.problems import Problem

MAX_FIELD_BYTES = 4096  # a prompt, a model name…: anything longer is not what these fields are for
MAX_FIELDS = 32
KNOWN_FIELDS = ("model", "language", "prompt", "response_format", "temperature", "stream", "background")
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the small fields around the file
SUFFIX = re.compile(r"\.[a-z0-9]{1,5}$")


@dataclass
class Upload:
    path: Path | None = None  # where the `file` part was written
    size: int = 0
    suffix: str = ""  # the file name's extension (a hint for FFmpeg); the name itself is never kept
    fields: dict[str, str] = field(default_factory=dict)


def too_large(limit: int) -> Problem:
    megabytes = limit // (1024 * 1024)
    return Problem(413, f"L'enregistrement dépasse la taille maximale de {megabytes} Mo. Enregistrez-le dans un "
                        "format compressé (mp3, m4a, ogg) ou découpez-le en plusieurs parties.",
                   code="audio-too-large", max_audio_bytes=limit)


async def receive(request: Request, folder: Path, max_bytes: int) -> Upload:
    """Parse the upload into `folder` (the `file` part as `folder/upload`). Raises 413 past
    `max_bytes` of audio, 415 for a body that is not multipart/form-data, 422 for a malformed one."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Problem(415, "Envoyez l'enregistrement en multipart/form-data, dans le champ « file ».",
                      code="not-multipart")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD:
        raise too_large(max_bytes)  # said up front: refused before a byte of it is read
    parts = _Parts(folder, max_bytes)
    parser = MultipartParser(boundary, parts.callbacks(), max_size=max_bytes + MULTIPART_OVERHEAD)
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes + MULTIPART_OVERHEAD:
                raise too_large(max_bytes)
            parser.write(chunk)  # small writes to the page cache: no need to leave the event loop
            if parts.refusal is not None:
                raise parts.refusal
        parser.finalize()
    except Problem:
        raise
    except Exception as exc:  # the parser's errors name the offending bytes: never echoed
        raise Problem(422, "Le formulaire envoyé est mal formé (multipart/form-data).", code="validation") from exc
    finally:
        parts.close()
    if parts.refusal is not None:
        raise parts.refusal
    if parts.upload.path is None:
        raise Problem(422, "Aucun fichier reçu : joignez l'enregistrement dans le champ « file ».", code="no-file")
    return parts.upload


class _Parts:
    """python-multipart's callbacks: the `file` part goes to disk, the other parts to small strings."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.upload = Upload()
        self.refusal: Problem | None = None
        self._headers: dict[bytes, bytes] = {}
        self._header = [b"", b""]
        self._name = ""
        self._sink: BinaryIO | None = None
        self._value = bytearray()

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._data, "on_part_end": self._end}

    def _begin(self) -> None:
        self._headers, self._name, self._value = {}, "", bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header[0] += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._header[1] += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header[0].strip().lower()] = self._header[1].strip()
        self._header = [b"", b""]

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if self._name == "file":
            if self.upload.path is not None:
                self.refusal = Problem(422, "Un seul fichier par demande.", code="validation")
                return
            filename = options.get(b"filename", b"").decode("utf-8", "replace").lower()
            self.upload.suffix = m.group(0) if (m := SUFFIX.search(filename)) else ""
            self.upload.path = self.folder / "upload"
            fd = os.open(self.upload.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the server's account only
            self._sink = os.fdopen(fd, "wb")  # closed in _end or close()
        elif len(self.upload.fields) >= MAX_FIELDS:
            self.refusal = Problem(422, "Trop de champs dans le formulaire.", code="validation")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.refusal is not None:
            return
        if self._sink is not None:
            self.upload.size += end - start
            if self.upload.size > self.max_bytes:
                self.refusal = too_large(self.max_bytes)
                return
            self._sink.write(data[start:end])
        else:
            self._value += data[start:end]
            if len(self._value) > MAX_FIELD_BYTES:
                named = f"Le champ « {self._name} »" if self._name in KNOWN_FIELDS else "Un champ du formulaire"
                self.refusal = Problem(413, f"{named} dépasse {MAX_FIELD_BYTES} octets.", code="field-too-long")

    def _end(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        elif self._name and self.refusal is None:
            self.upload.fields[self._name] = self._value.decode("utf-8", "replace")

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None
