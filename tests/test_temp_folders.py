"""Temporary folders (plume/tempdirs.py): a stopped server leaves nothing in the temporary folder (each
used to leave a `pymp-*` folder there), and one killed outright has its leftovers removed when it
starts again. The server is given a system temporary folder of its own (TMPDIR), to see what it leaves
there, beside its own temporary folder (plume.tempdirs.TempRoot)."""

from __future__ import annotations

import shutil

from plume.tempdirs import TempRoot

from tests.conftest import REPO, start_modelless, start_server

MODEL = REPO / "templates" / "attestation-domicile" / "model.docx"


def work(srv) -> None:
    """An upload (checked in a process of the fork server) and, where LibreOffice is, a PDF letter."""
    response = srv.client("template-owner").put("/v1/templates/attestation-domicile",
                                                files={"file": ("model.docx", MODEL.read_bytes())})
    assert response.status_code == 201, response.text
    if shutil.which("soffice"):
        response = srv.client().post("/v1/templates/attestation-domicile/render", json={"values": {}, "format": "pdf"})
        assert response.status_code in (200, 422), response.text


def left(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_a_stopped_server_leaves_no_temporary_folder(tmp_path):
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    srv = start_modelless(tmp_path, TMPDIR=str(system_tmp))
    try:
        work(srv)
    finally:
        srv.stop()  # SIGTERM, as systemd stops it
    assert left(system_tmp) == []
    assert left(TempRoot(srv.data).path) == []
    assert srv.process.returncode == 0  # a normal exit: Python's exit handlers ran


def test_a_killed_servers_leftovers_are_removed_when_it_starts_again(tmp_path):
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    srv = start_modelless(tmp_path, TMPDIR=str(system_tmp))
    try:
        work(srv)
    finally:
        srv.process.kill()
        srv.process.wait()
    leftovers = left(TempRoot(srv.data).path)
    assert any(name.startswith("pymp-") for name in leftovers), leftovers  # what a killed process cannot remove
    again = start_server(tmp_path, "--models", str(tmp_path / "no-catalog.toml"), env={"TMPDIR": str(system_tmp)},
                         users=False)  # the same server: same data folder, same people
    again.tokens = srv.tokens
    try:
        assert not set(left(TempRoot(again.data).path)) & set(leftovers)
        work(again)
    finally:
        again.stop()
    assert left(system_tmp) == [] and left(TempRoot(again.data).path) == []
