"""The lexicon of French administrative jargon with plain alternatives.

Shipped in `language/data/jargon_fr.toml`; the commune adds or changes terms with its own
`jargon_fr.toml` in the server's data folder (same format; an entry with `simple = ""` removes a
term). Read at each request's first use after the file changed, so edits need no restart.
"""

from __future__ import annotations

import re
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

SHIPPED = Path(__file__).with_name("data") / "jargon_fr.toml"
COMMUNE_FILE = "jargon_fr.toml"


@dataclass(frozen=True)
class Term:
    jargon: str
    simple: str
    auto: bool


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    term: Term


class Lexicon:
    def __init__(self, terms: list[Term]) -> None:
        self.terms = {t.jargon.lower(): t for t in terms}
        alternatives = sorted(self.terms, key=len, reverse=True)
        parts = [re.escape(j) + ("" if j.endswith(("'", "’")) else r"(?![\w\-])") for j in alternatives]
        self._pattern = re.compile(r"(?<![\w\-])(?:" + "|".join(parts) + ")", re.IGNORECASE) if parts else None

    def __len__(self) -> int:
        return len(self.terms)

    def find(self, text: str) -> list[Match]:
        if self._pattern is None:
            return []
        return [Match(m.start(), m.end(), self.terms[_normal(m.group(0))]) for m in self._pattern.finditer(text)]


def _normal(found: str) -> str:
    return found.lower().replace("’", "'")


def _read(path: Path) -> list[dict]:
    with open(path, "rb") as fh:
        return tomllib.load(fh).get("termes", [])


def load(data_dir: Path | None = None) -> Lexicon:
    entries = {e["jargon"].lower(): e for e in _read(SHIPPED)}
    commune = data_dir / COMMUNE_FILE if data_dir else None
    if commune is not None and commune.is_file():
        for e in _read(commune):
            entries[e["jargon"].lower()] = e
    terms = [Term(e["jargon"].replace("’", "'"), e.get("simple", ""), bool(e.get("auto", False)))
             for e in entries.values() if e.get("simple")]
    return Lexicon(terms)


_cache: dict[Path | None, tuple[float, Lexicon]] = {}
_loading = threading.Lock()  # one load per change: sixteen first requests built sixteen lexicons


def for_data_dir(data_dir: Path | None) -> Lexicon:
    """The lexicon for this server, reloaded when the commune's file changes."""
    commune = data_dir / COMMUNE_FILE if data_dir else None
    with _loading:
        stamp = commune.stat().st_mtime if commune is not None and commune.is_file() else 0.0
        cached = _cache.get(data_dir)
        if cached is None or cached[0] != stamp:
            cached = (stamp, load(data_dir))
            _cache[data_dir] = cached
        return cached[1]
