"""The audit log records the status each client really received, refusals included: the figures the
commune reports (and the data-protection officer reads) come from these lines."""

from __future__ import annotations

import json

import httpx

from tests.conftest import start_modelless


def test_each_audit_line_carries_the_status_sent(tmp_path):
    srv = start_modelless(tmp_path, PLUME_RATE_LIMIT_PER_MINUTE="4", PLUME_MAX_BODY_BYTES="100000")
    received = []
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as anonymous:
            received.append(anonymous.get("/v1/templates").status_code)                          # no token
            received.append(anonymous.get("/v1/templates", headers={"Authorization": "Bearer plm_faux"}).status_code)
        with srv.client("user") as user:
            received.append(user.get("/v1/admin/usage").status_code)                             # role too low
            received.append(user.post("/v1/text/plain-language", json={"text": 5}).status_code)  # wrong type
        with srv.client("template-owner") as owner:
            received.append(owner.post("/v1/text/plain-language", content=b"{" + b" " * 200_000 + b"}",
                                       headers={"Content-Type": "application/json"}).status_code)  # body too large
        with srv.client("admin") as admin:  # 4 per minute: the fifth request is refused
            received += [admin.get("/v1/templates").status_code for _ in range(5)]
    finally:
        srv.stop()
    assert received == [401, 401, 403, 422, 413, 200, 200, 200, 200, 429]
    lines = [json.loads(line) for line in (srv.data / "audit.jsonl").read_text().splitlines()]
    assert [line["status"] for line in lines] == received
    assert [line.get("user") for line in lines] == [None, None, "test-user", "test-user", "test-template-owner"] + \
        ["test-admin"] * 5
