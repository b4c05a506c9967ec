"""Writing the server's own files so that a crash, a full disk or a power cut never leaves half of one.

Every file Plume rewrites in place (users, audit purge, actions, reference book, mailbox state,
search index manifests…) goes through `atomic_write`: the new content is written to a temporary file
in the same folder, flushed to disk, renamed over the old one, and the folder itself flushed so the
rename survives a power cut. A reader sees the old file or the new one, never a mixture.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, content: bytes | str, *, mode: int | None = None) -> None:
    """Replace `path` with `content` (str is written as UTF-8). `mode`: permissions of the new file
    (e.g. 0o600 for secrets), set before it takes the final name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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
