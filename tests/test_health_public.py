"""What the public /health tells an unauthenticated caller (status and queue depth only), what an
administrator sees, and ids that end with a newline."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import REPO, TINY_MODELS


def test_public_health_shows_no_path_model_or_version(server):
    for headers in ({}, {"Authorization": f"Bearer {server.tokens['user']}"}, {"Authorization": "Bearer plm_faux"}):
        response = httpx.get(f"{server.url}/health", headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"status", "queue_depth"} and body["status"] in {"ok", "degraded"}
        text = response.text
        assert "/" not in text and "tiny" not in text and str(REPO) not in text


def test_admin_sees_the_details(server):
    details = server.health()
    assert {"status", "queue_depth", "version", "models", "templates", "language"} <= set(details)
    if TINY_MODELS.exists():
        assert "tiny-llm" in details["models"]["models"]


def test_modelless_server_is_ok(modelless_server):
    """A server with no model configured runs every task on its rules: a supported mode, not a fault."""
    assert httpx.get(f"{modelless_server.url}/health").json() == {"status": "ok", "queue_depth": 0}


@pytest.mark.parametrize("suffix", ["\\n", "\\r", " "])
def test_template_id_with_a_trailing_newline_is_refused(server, suffix):
    """The id names a folder and appears in the audit log: "lettre\\n" must not pass as "lettre"."""
    source = REPO / "templates" / "attestation-domicile"
    manifest = (source / "template.toml").read_text(encoding="utf-8").replace(
        'id = "attestation-domicile"', f'id = "nouvelle{suffix}"')
    path = "nouvelle" + {"\\n": "%0A", "\\r": "%0D", " ": "%20"}[suffix]
    with server.client("template-owner") as client:
        response = client.put(f"/v1/templates/{path}", files={
            "file": ("model.docx", (source / "model.docx").read_bytes()),
            "manifest": ("template.toml", manifest.encode())})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert not list((server.data / "templates").glob("nouvelle*"))


def test_language_code_with_a_trailing_newline_is_refused(server):
    with server.client("user") as client:
        response = client.post("/v1/text/translate", json={"text": "Bonjour.", "source": "fr", "target": "es\n"})
    assert response.status_code == 422, response.text
    # Refused by the request's validation, not later by a lookup that echoes the value back.
    assert [e["field"] for e in json.loads(response.text)["errors"]] == ["target"]
