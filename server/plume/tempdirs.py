"""The server's own temporary folder: everything temporary it and its helpers make goes there, what an
earlier run left there is removed when the server starts, and what it made when it stops.

The helpers are multiprocessing's fork server (its `pymp-*` folder for its socket), each PDF
conversion (`plume-pdf-*`, LibreOffice's throw-away profile and LibreOffice's own temporary files)
and anything else using `tempfile`. Each stopped server used to leave a `pymp-*` folder in /tmp:
uvicorn re-raises SIGTERM once the application has shut down, which ended the process before
Python's exit handlers (multiprocessing's removes that folder) could run; `plume serve` now turns
SIGTERM into a normal exit (cli/serve.py). A server killed outright cannot clean up: its leftovers
stay in this folder until the next start of the same server removes them.

The folder is `<data>/tmp` (one server per data folder), or `plume-<hash of the data folder>` in the
system's temporary folder (else /tmp) when that path is too long: the fork server's socket path in
it must fit in the 107 bytes a Unix socket address allows.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

# When this process loaded Plume: anything older in its temporary folder was left by another run.
_LOADED = time.time()
_SOCKET_PATH_ROOM = 70  # + "/pymp-XXXXXXXX/listener-XXXXXXXX" (33) stays under 107 bytes


class TempRoot:
    def __init__(self, data_dir: Path) -> None:
        own = Path(data_dir).resolve() / "tmp"
        name = f"plume-{hashlib.sha256(str(own).encode('utf-8')).hexdigest()[:12]}"
        candidates = [own, Path(tempfile.gettempdir()) / name, Path("/tmp") / name]
        self.path = next((p for p in candidates if len(str(p)) <= _SOCKET_PATH_ROOM), candidates[-1])
        self._before: tuple[str | None, str | None] | None = None

    def enter(self) -> None:
        """Remove what an earlier run left, and make the folder this process's temporary folder and its
        children's (TMPDIR)."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        for entry in self.path.iterdir():
            if entry.lstat().st_mtime < _LOADED:
                _remove(entry)
        self._before = (tempfile.tempdir, os.environ.get("TMPDIR"))
        tempfile.tempdir = str(self.path)
        os.environ["TMPDIR"] = str(self.path)

    def leave(self) -> None:
        """Back to the temporary folder before `enter`; what this run made removed, except the fork
        server's `pymp-*` folder, which multiprocessing removes as the process exits (another
        application in this same process may still need the fork server)."""
        if self._before is not None:
            tempfile.tempdir, tmpdir = self._before
            if tmpdir is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = tmpdir
            self._before = None
        for entry in self.path.iterdir() if self.path.is_dir() else []:
            if not entry.name.startswith("pymp-"):
                _remove(entry)


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)
