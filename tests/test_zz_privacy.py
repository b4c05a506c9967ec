"""Runs last (file name): after the whole suite, no log, audit line, data file or temporary file
holds the sample texts' sentences or names. (Outbound connections: tests/test_outbound_strace.py.)"""

from __future__ import annotations

import email
import email.policy
import re
import tempfile
from pathlib import Path


from tests.conftest import REPO, SAMPLES, SESSION_START

TRIAGE_HELD_OUT = REPO / "tests" / "data" / "triage" / "heldout" / "emails"

NAMES = ["Ferreira", "Vuilleumier"]  # from samples/cases, also used as needles below


def _needles() -> list[str]:
    needles = list(NAMES)
    texts = [p.read_text(encoding="utf-8") for p in sorted((SAMPLES / "texts").glob("*.txt"))
             + sorted((SAMPLES / "notes").glob("*.txt"))]
    # The held-out e-mails the routing tests send to a server that learned (tests/test_routing_learn.py).
    texts += [email.message_from_bytes(p.read_bytes(), policy=email.policy.default).get_content()
              for p in sorted(TRIAGE_HELD_OUT.glob("*.eml"))]
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            sentence = " ".join(sentence.split())
            if len(sentence) >= 50:
                needles.append(sentence[:50])
    return needles


def _written_files(base: Path) -> list[Path]:
    """Everything a Plume server wrote: data folders (users, audit, uploads), server logs, and the
    temporary files it may have left (rendering, PDF conversion) in the system's temp folder."""
    files = [p for p in base.rglob("*.log") if p.is_file()]
    for data in base.rglob("data"):
        if data.is_dir() and (data / "users.json").exists():
            # Uploaded template versions are the commune's own models, kept on purpose (their
            # examples may reuse the sample names); everything else must hold no text.
            files += [p for p in data.rglob("*") if p.is_file() and "templates" not in p.relative_to(data).parts]
    temp = Path(tempfile.gettempdir())
    for entry in temp.glob("plume*"):
        try:
            if entry.stat().st_mtime >= SESSION_START and not str(entry).startswith(str(base)):
                files += [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        except FileNotFoundError:  # removed by its process while the sweep walked
            continue
    return files


def _hits(base: Path) -> tuple[int, list[str]]:
    needles = _needles()
    files = _written_files(base)
    hits = []
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:  # a temporary file its process removed while the sweep walked
            continue
        hits += [f"{path}: {n[:30]}…" for n in needles if n in text]
    return len(files), hits


def test_the_sweep_finds_a_planted_leak():
    assert SAMPLES.is_dir(), f"samples missing: {SAMPLES}"
    with tempfile.TemporaryDirectory(prefix="leak-") as tmp:  # outside the suite's folders
        data = Path(tmp) / "data"
        data.mkdir()
        (data / "users.json").write_text("[]")
        (data / "audit.jsonl").write_text('{"note": "Maria Ferreira"}\n')
        assert _hits(Path(tmp))[1]


def test_no_sample_text_in_logs_audit_or_data(tmp_path_factory):
    assert SAMPLES.is_dir(), f"samples missing: {SAMPLES}"
    count, hits = _hits(tmp_path_factory.getbasetemp())
    print(f"\nprivacy: searched {count} files for {len(_needles())} sentences/names: {len(hits)} hits")
    assert not hits, "\n".join(hits[:20])

