"""Writing the server's own files so that a crash, a full disk or a power cut never leaves half of one.

Every file Plume rewrites in place (users, audit purge, actions, reference book, mailbox state,
search index manifests…) goes through `atomic_write`: the new content is written to a temporary file
in the same folder, flushed to disk, renamed over the old one, and the folder itself flushed so the
rename survives a power cut. A reader sees the old file or the new one, never a mixture. Content
too big to hold in memory (a backup archive) is written through `atomic_writer`, the same steps.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: Path, content: bytes | str, *, mode: int | None = None) -> None:
    """Replace `path` with `content` (str is written as UTF-8). `mode`: permissions of the new file
    (e.g. 0o600 for secrets), set before it takes the final name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    with atomic_writer(path, mode=mode) as fh:
        fh.write(data)


@contextmanager
def atomic_writer(path: Path, *, mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary file to write `path`'s new content to, bit by bit; it replaces `path` when the block
    ends, and is removed if the block raises. The folder must exist (it is not created)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename or a new file in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
