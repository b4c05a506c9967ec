"""The table of routes and the role each needs, generated from the application itself.

docs/security.md embeds it between markers; a test fails when the two disagree, so the document
cannot drift from the code. Regenerate: `.venv/bin/python scripts/route-table.py --write`.
"""

from __future__ import annotations

import re
from pathlib import Path

from litestar import Litestar

from plume.security.auth import PUBLIC_PATHS

BEGIN, END = "<!-- route-table:begin -->", "<!-- route-table:end -->"
DOC = Path(__file__).resolve().parents[3] / "docs" / "security.md"


def route_roles(app: Litestar) -> list[tuple[str, str, str]]:
    rows = set()
    for route in app.routes:
        path = route.path
        public = any(re.search(p, path) for p in PUBLIC_PATHS)
        for handler in getattr(route, "route_handlers", []):
            role = "public" if public else _role(handler)
            methods = sorted(getattr(handler, "http_methods", None) or {"*"})
            for method in methods:
                if method in {"HEAD", "OPTIONS"}:
                    continue
                rows.add((path, method, role))
    return sorted(rows)


def _role(handler) -> str:
    for guard in handler.guards or []:
        name = getattr(guard, "__name__", "")
        if name.startswith("requires_"):
            return name.removeprefix("requires_").replace("_", "-")
    return "user"


def markdown(app: Litestar) -> str:
    lines = ["| route | method | role needed |", "|---|---|---|"]
    lines += [f"| `{path}` | {method} | {role} |" for path, method, role in route_roles(app)]
    return "\n".join(lines)


def embed(doc: str, table: str) -> str:
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    return doc[:start] + "\n" + table + "\n" + doc[end:]

