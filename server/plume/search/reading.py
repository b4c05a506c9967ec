"""What the reading process runs (index.py `read_isolated`): a file → its title and passages.

Kept apart from index.py so that the short-lived reading process imports only the readers and the
cutter (lxml, PDFium), never numpy or an embedder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plume.search.passages import Passage, build_passages
from plume.search.readers import read_file
from plume.security.safezip import ZipLimits


@dataclass
class ReadResult:
    title: str
    passages: list[Passage]


def read_passages(path: Path, max_bytes: int, limits: ZipLimits) -> ReadResult:
    document = read_file(path, max_bytes, limits)
    return ReadResult(document.title, build_passages(document.blocks))
