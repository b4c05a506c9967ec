"""Runs last (file name): after the whole suite, no log, audit line, data file or temporary file
holds the sample texts' sentences or names, and no process tried an outbound connection."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import OUTBOUND_LOG, SAMPLES

NAMES = ["Ferreira", "Vuilleumier"]  # from samples/cases, also used as needles below


def _needles() -> list[str]:
    needles = list(NAMES)
    for path in sorted((SAMPLES / "texts").glob("*.txt")) + sorted((SAMPLES / "notes").glob("*.txt")):
        for sentence in re.split(r"(?<=[.!?])\s+", path.read_text(encoding="utf-8")):
            sentence = " ".join(sentence.split())
            if len(sentence) >= 50:
                needles.append(sentence[:50])
    return needles


def _written_files(base: Path) -> list[Path]:
    """Everything a Plume server wrote: data folders (users, audit, uploads) and server logs."""
    files = [p for p in base.rglob("*.log") if p.is_file()]
    for data in base.rglob("data"):
        if data.is_dir() and (data / "users.json").exists():
            files += [p for p in data.rglob("*") if p.is_file()]
    return files


def test_no_sample_text_in_logs_audit_or_data(tmp_path_factory):
    if not SAMPLES.exists():
        pytest.skip("samples missing")
    base = tmp_path_factory.getbasetemp()
    needles = _needles()
    files = _written_files(base)
    hits = []
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        hits += [f"{path.relative_to(base)}: {n[:30]}…" for n in needles if n in text]
    print(f"\nprivacy: searched {len(files)} files for {len(needles)} sentences/names: {len(hits)} hits")
    assert not hits, "\n".join(hits[:20])


def test_no_outbound_connection_was_attempted():
    attempts = OUTBOUND_LOG.read_text().splitlines() if OUTBOUND_LOG.exists() else []
    print(f"\noutbound: {len(attempts)} non-loopback connection attempts")
    assert not attempts, "\n".join(attempts[:20])
