"""The server core: health, tokens, roles, problem+json errors, the audit log."""

from __future__ import annotations

import json

import httpx

from tests.conftest import plume_cli


def test_health_needs_no_token(server):
    response = httpx.get(f"{server.url}/health")
    assert response.status_code == 200
    assert response.json()["status"] in {"ok", "degraded"}


def test_routes_need_a_token(server):
    response = httpx.get(f"{server.url}/schema/openapi.json")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 401 and "jeton" in body["detail"].lower()
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_wrong_token_is_refused(server):
    response = httpx.get(f"{server.url}/schema/openapi.json", headers={"Authorization": "Bearer plm_nope"})
    assert response.status_code == 401


def test_valid_token_opens_the_api(server):
    with server.client("user") as client:
        assert client.get("/schema/openapi.json").status_code == 200


def test_revoked_token_is_refused(server):
    token = server.add_user("temp-revoked", "user")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{server.url}/schema/openapi.json", headers=headers).status_code == 200
    plume_cli("users", "revoke", "temp-revoked", data=server.data)
    assert httpx.get(f"{server.url}/schema/openapi.json", headers=headers).status_code == 401


def test_tokens_are_stored_hashed(server):
    stored = (server.data / "users.json").read_text()
    for token in server.tokens.values():
        assert token not in stored


def test_unknown_route_is_a_french_problem(server):
    with server.client("user") as client:
        response = client.get("/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "existe pas" in response.json()["detail"]


def test_users_add_prints_token_alone_on_last_line(tmp_path):
    out = plume_cli("users", "add", "marie", "--role", "template-owner", data=tmp_path)
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("plm_") and " " not in token
    listed = plume_cli("users", "list", data=tmp_path).stdout
    assert "marie\ttemplate-owner\tactif" in listed
    again = plume_cli("users", "add", "marie", data=tmp_path, check=False)
    assert again.returncode == 1 and "existe déjà" in again.stderr


def test_audit_log_has_a_line_per_request_without_content(server):
    with server.client("user") as client:
        client.get("/schema/openapi.json", params={"q": "secret-marker-xyz"})
    lines = [json.loads(l) for l in (server.data / "audit.jsonl").read_bytes().split(b"\n") if l]
    assert any(l["route"] == "/schema/openapi.json" and l["user"] == "test-user" and l["status"] == 200 for l in lines)
    assert "secret-marker-xyz" not in (server.data / "audit.jsonl").read_text()
