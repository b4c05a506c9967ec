"""`plume triage` on a real folder with a broken message in it, its CSV for Excel (fr-CH) and a reader
that stops early — all through the real command."""

from __future__ import annotations

import csv
import io
import json
import mailbox
import os
import shutil
import subprocess
import sys
import tomllib

import pytest

from tests.conftest import REPO, plume_cli

# Messages as they arrive from the outside world: header garbage, an unknown charset, no header at all.
MALFORMED = {
    "02a-to-garbage.eml": b"From: x@example.ch\nTo: a@[\nSubject: Test\n\nBonjour\n",
    "02b-utf7.eml": b"From: x@example.ch\nTo: <a@b>,\xe2\x80\xb9\nSubject: =?utf-7?Q?+AGEAYgBj-?=\n"
                    b"Content-Type: text/plain; charset=\"utf-7\"\n\n+AGEAYgBj-\n",
    "02c-binary.eml": bytes(range(256)) * 8,
}
PRIORITIES = {"urgent": "urgente", "high": "haute", "normal": "normale", "low": "basse"}


def triage(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plume", "triage", *args], capture_output=True, cwd=REPO,
                          timeout=180, **kwargs)


@pytest.fixture(scope="module")
def expected(samples):
    return tomllib.loads((samples / "emails" / "expected.toml").read_text(encoding="utf-8"))


@pytest.fixture
def folder(samples, tmp_path):
    for eml in (samples / "emails").glob("*.eml"):
        shutil.copy(eml, tmp_path)
    for name, data in MALFORMED.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "02d-enorme.eml").write_bytes(b"Subject: x\n\n" + b"a" * (26 * 1024 * 1024))  # over 25 MB
    return tmp_path


def test_an_unreadable_message_is_named_and_the_batch_goes_on(folder, expected):
    out = triage(str(folder), "--quiet", text=True)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    rows = json.loads(out.stdout)
    files = [r["file"] for r in rows]
    assert [f for f in files if f in expected] == sorted(expected)  # every real message, in order
    assert "02d-enorme.eml" in out.stderr and "02d-enorme.eml" not in files
    for name in MALFORMED:  # each broken one is sorted, or named, or both (sorted with its unreadable
        assert name in files or name in out.stderr, name  # header named): never silently lost
    by_file = {r["file"]: r for r in rows}
    assert all(by_file[f]["priority"] == expected[f]["priority"] for f in expected)


def test_no_readable_message_is_exit_3(tmp_path):
    (tmp_path / "enorme.eml").write_bytes(b"Subject: x\n\n" + b"a" * (26 * 1024 * 1024))
    out = triage(str(tmp_path), "--quiet", text=True)
    assert out.returncode == 3 and "enorme.eml" in out.stderr and "Aucun message" in out.stderr
    assert json.loads(out.stdout) == []
    empty = tmp_path / "vide"
    empty.mkdir()
    assert triage(str(empty), "--quiet").returncode == 0  # nothing to read is not a failure


def test_csv_opens_in_excel_fr_ch(samples, expected):
    out = triage(str(samples / "emails"), "--format", "csv", "--quiet")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents right
    text = out.stdout.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert list(table[0]) == ["fichier", "catégorie", "priorité", "service", "langue", "échéance",
                              "réponse attendue", "résumé", "raisons", "hameçonnage"]
    assert [r["fichier"] for r in table] == sorted(expected)
    for row in table:
        want = expected[row["fichier"]]
        assert row["priorité"] == PRIORITIES[want["priority"]]
        assert row["réponse attendue"] == ("oui" if want["needs_reply"] else "non")
        if want.get("deadline"):
            year, month, day = want["deadline"].split("-")
            assert row["échéance"] == f"{day}.{month}.{year}"
    assert {r["langue"] for r in table} <= {"français", "allemand", "italien", "anglais"}


def test_a_reader_that_stops_early_gets_no_traceback(samples, tmp_path):
    box = mailbox.mbox(tmp_path / "courrier.mbox")
    for _ in range(60):  # ~480 rows: more than a pipe holds, so the writer meets the closed end
        for eml in sorted((samples / "emails").glob("*.eml")):
            box.add(eml.read_bytes())
    box.flush()
    for fmt in ("csv", "json"):
        process = subprocess.Popen([sys.executable, "-m", "plume", "triage", str(tmp_path / "courrier.mbox"),
                                    "--format", fmt, "--quiet"], cwd=REPO, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        process.stdout.readline()  # like `| head -1`
        process.stdout.close()
        stderr = process.stderr.read().decode()
        assert process.wait(120) == 0, stderr
        assert "BrokenPipe" not in stderr and "Traceback" not in stderr and "Exception ignored" not in stderr


@pytest.mark.parametrize("command", [["templates", "list"], ["users", "list"]])
def test_any_command_read_by_a_reader_that_stops_early_gets_no_traceback(command, tmp_path):
    """`plume templates list | head -1`: the pipe closes before Plume writes; that is not an error."""
    extra = ["--data", str(tmp_path)] if command[0] == "users" else []
    if command[0] == "users":
        plume_cli("users", "add", "anne", "--role", "user", data=tmp_path)
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    process = subprocess.run([sys.executable, "-m", "plume", *command, *extra], cwd=REPO, stdout=write,
                             stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write)
    assert process.returncode == 0, process.stderr
    assert "Traceback" not in process.stderr and "Exception ignored" not in process.stderr
