"""Apertium, the rule-based translator (Debian packages `apertium`, `apertium-fr-es`), run as a
subprocess: the no-model default for the language pairs it has installed.

`-f html` makes Apertium keep inline HTML tags around the words they wrap.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

TIMEOUT_S = 60


class ApertiumError(RuntimeError):
    """Apertium failed or took too long (message holds no user text)."""


@cache
def pairs() -> frozenset[tuple[str, str]]:
    """Installed pairs such as ("fr", "es"); empty when Apertium is absent."""
    if shutil.which("apertium") is None:
        return frozenset()
    try:
        listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    found = set()
    for line in listed.split():
        parts = line.strip().split("-")
        if len(parts) == 2 and all(len(p) in (2, 3) for p in parts):
            found.add((parts[0], parts[1]))
    return frozenset(found)


def has_pair(source: str, target: str) -> bool:
    return (source, target) in pairs()


def translate(text: str, source: str, target: str, *, html: bool = False) -> str:
    command = ["apertium", "-u", "-f", "html" if html else "txt", f"{source}-{target}"]
    try:
        done = subprocess.run(command, input=text, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ApertiumError("délai dépassé") from exc
    if done.returncode != 0:
        raise ApertiumError(f"code de sortie {done.returncode}")
    return done.stdout.rstrip("\n") if not text.endswith("\n") else done.stdout
