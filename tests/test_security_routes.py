"""Every route, checked for its role: no token → 401, revoked token → 401, too weak a role → 403.
The list of routes comes from the application itself, so a new route is checked the day it lands."""

from __future__ import annotations

import re
import tempfile

import httpx
import pytest
from plume.app import create_app
from plume.config import load_settings
from plume.security.route_table import BEGIN, DOC, END, markdown, route_roles

from tests.conftest import plume_cli

APP = create_app(load_settings(data_dir=tempfile.mkdtemp()))
ROUTES = [r for r in route_roles(APP) if r[2] != "public" and not r[0].startswith("/schema/{")]
RANK = {"user": 0, "template-owner": 1, "admin": 2}


def _concrete(path: str) -> str:
    return re.sub(r"\{([a-z_]+)(:[a-z]+)?\}", lambda m: "attestation-domicile" if "template" in m.group(1) else "x", path)


def test_security_doc_lists_every_route_with_its_role():
    doc = DOC.read_text()
    embedded = doc[doc.index(BEGIN) + len(BEGIN):doc.index(END)].strip()
    assert embedded == markdown(APP), "docs/security.md is stale: .venv/bin/python scripts/route-table.py --write"


@pytest.mark.parametrize(("path", "method", "role"), ROUTES, ids=[f"{m} {p}" for p, m, _ in ROUTES])
def test_route_refuses_missing_revoked_and_weak_tokens(server, path, method, role):
    url = server.url + _concrete(path)
    assert httpx.request(method, url, json={}).status_code == 401
    assert httpx.request(method, url, json={}, headers={"Authorization": "Bearer plm_forged"}).status_code == 401
    for weaker, rank in RANK.items():
        if rank < RANK[role]:
            response = httpx.request(method, url, json={}, headers={"Authorization": f"Bearer {server.tokens[weaker]}"})
            assert response.status_code == 403, f"{weaker} reached {method} {path}"
            assert response.headers["content-type"].startswith("application/problem+json")


def test_revoked_token_is_refused_everywhere(server):
    token = server.add_user("soon-revoked", "admin")
    plume_cli("users", "revoke", "soon-revoked", data=server.data)
    for path, method, _ in ROUTES:
        response = httpx.request(method, server.url + _concrete(path), json={},
                                 headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, f"{method} {path}"
