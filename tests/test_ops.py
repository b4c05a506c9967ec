"""Operations: usage report, audit export and retention, backup/restore, rate limit, token expiry."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from plume.security.audit import AuditLog

from tests.conftest import REPO, plume_cli, start_server


def _seed_audit(data, now=None):
    log = AuditLog(data / "audit.jsonl")
    for user, service, route, ms in [
        ("anne", "Contrôle des habitants", "/v1/templates/{template_id}/render", 120.0),
        ("anne", "Contrôle des habitants", "/v1/templates/{template_id}/render", 80.0),
        ("luc", "Contrôle des habitants", "/v1/templates/{template_id}/render", 100.0),
        ("luc", "Chancellerie", "/v1/text/plain-language", 900.0),
    ]:
        log.write(user=user, service=service, method="POST", route=route, status=200, duration_ms=ms)
    log.write(user="luc", service="Chancellerie", method="POST", route="/v1/text/translate", status=503, duration_ms=5.0)
    log.write(user="luc", method="GET", route="/v1/templates", status=200, duration_ms=3.0)


def test_usage_report_counts_tasks_users_latency_and_time_saved(tmp_path):
    data = tmp_path / "data"
    _seed_audit(data)
    out = plume_cli("usage", "--format", "csv", data=data).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    month = datetime.now(UTC).strftime("%Y-%m")
    render = next(r for r in rows if r["tache"] == "render")
    # Time saved counts only inserted results: none was inserted here (tests/test_capabilities_usage.py).
    assert render == {"mois": month, "tache": "render", "service": "Contrôle des habitants", "moteur": "règles",
                      "requetes": "3", "inserees": "0", "utilisateurs": "2", "latence_mediane_ms": "100.0",
                      "minutes_economisees": "0.0"}
    assert {r["tache"] for r in rows} == {"render", "plain-language"}  # failures and listings are not usage


def test_usage_html_report_has_charts_and_no_script(tmp_path):
    data = tmp_path / "data"
    _seed_audit(data)
    out = plume_cli("usage", "--format", "html", "--from", "2020-01-01", "--to", "2099-12-31", data=data).stdout
    assert out.count("<svg") == 4 and "<script" not in out
    assert "Langage clair" in out and "heures" in out


def test_usage_route_is_for_admins_only(server):
    with server.client("user") as client:
        assert client.get("/v1/admin/usage").status_code == 403
    with server.client("admin") as client:
        response = client.get("/v1/admin/usage", params={"from": "2020-01-01", "format": "json"})
        assert response.status_code == 200 and "rows" in response.json()
        assert client.get("/v1/admin/usage", params={"from": "hier"}).status_code == 422


def test_audit_purge_drops_lines_past_retention(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.write(user="a", method="GET", route="/x", status=200, duration_ms=1.0)
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    old = json.loads(lines[0]) | {"time": (datetime.now(UTC) - timedelta(days=400)).isoformat()}
    (tmp_path / "audit.jsonl").write_text(json.dumps(old) + "\n" + lines[0] + "\n")
    assert log.purge(365) == 1
    assert len(log.read()) == 1


def test_audit_export_filters_by_user(tmp_path):
    data = tmp_path / "data"
    _seed_audit(data)
    out = plume_cli("audit", "export", "--user", "anne", data=data).stdout
    assert [json.loads(l)["user"] for l in out.splitlines()] == ["anne", "anne"]


def test_backup_and_restore_bring_back_users_and_templates(tmp_path):
    data, templates = tmp_path / "data", tmp_path / "templates"
    (templates / "lettre").mkdir(parents=True)
    (templates / "lettre" / "template.toml").write_text('id = "lettre"\n')
    token = plume_cli("users", "add", "anne", data=data).stdout.splitlines()[-1]
    plume_cli("backup", str(tmp_path / "b.tar.gz"), "--templates", str(templates), data=data)
    new_data, new_templates = tmp_path / "new-data", tmp_path / "new-templates"
    plume_cli("restore", str(tmp_path / "b.tar.gz"), "--templates", str(new_templates), data=new_data)
    assert (new_templates / "lettre" / "template.toml").read_text() == 'id = "lettre"\n'
    assert "anne\tuser\tactif" in plume_cli("users", "list", data=new_data).stdout
    assert token not in (new_data / "users.json").read_text()
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a tarball")
    assert plume_cli("restore", str(bad), data=new_data, check=False).returncode == 1


def test_backup_carries_what_the_commune_taught_plume(tmp_path):
    """The triage rules, the service directory, the folder map, the actions, the jargon lexicon and
    what `plume triage learn` learned are the commune's own work: a restore brings them back."""
    data = tmp_path / "data"
    taught = {"triage_rules.toml": "# règles\n", "services.toml": "confirm_below = 0.5\n",
              "mail-folders.toml": "[services]\n", "actions.toml": "[actions]\n", "jargon_fr.toml": "# termes\n",
              "routing/learned.npz": "poids"}
    for name, content in taught.items():
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_text(content, encoding="utf-8")
    plume_cli("backup", str(tmp_path / "b.tar.gz"), "--templates", str(tmp_path / "t"), data=data)
    plume_cli("restore", str(tmp_path / "b.tar.gz"), "--templates", str(tmp_path / "t2"), data=tmp_path / "new")
    for name, content in taught.items():
        assert (tmp_path / "new" / name).read_text(encoding="utf-8") == content, name


def _french_failure(result, code: int, *words: str) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == code, out
    assert "Traceback" not in out and all(w in out for w in words), out


def test_backup_and_restore_fail_in_french_without_a_traceback(tmp_path):
    plume_cli("users", "add", "anne", data=tmp_path / "data")
    missing = tmp_path / "no-such-folder" / "plume.tar.gz"
    _french_failure(plume_cli("backup", str(missing), data=tmp_path / "data", check=False), 1,
                    "Sauvegarde impossible", "Aucune archive")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    _french_failure(plume_cli("backup", str(a_file / "plume.tar.gz"), data=tmp_path / "data", check=False), 1,
                    "Sauvegarde impossible")  # even root cannot write under a file
    garbage = tmp_path / "not-a-backup.tar.gz"
    garbage.write_bytes(b"PK\x03\x04 not a tar at all")
    _french_failure(plume_cli("restore", str(garbage), data=tmp_path / "data", check=False), 1,
                    "pas une sauvegarde Plume", "Rien n'a été modifié")
    assert "anne" in plume_cli("users", "list", data=tmp_path / "data").stdout


def test_a_backup_cut_short_by_a_full_disk_keeps_the_previous_archive_whole(tmp_path):
    data, templates, folder = tmp_path / "data", tmp_path / "templates", tmp_path / "sauvegardes"
    (templates / "lettre").mkdir(parents=True)
    (templates / "lettre" / "template.toml").write_text('id = "lettre"\n')
    folder.mkdir()
    archive = folder / "plume.tar.gz"
    plume_cli("users", "add", "anne", data=data)
    plume_cli("backup", str(archive), "--templates", str(templates), data=data)
    previous = archive.read_bytes()
    (templates / "lettre" / "logo.png").write_bytes(os.urandom(600_000))  # incompressible: the new one is bigger
    # A file-size limit makes every write past 200 kB fail as on a full disk (EFBIG).
    full = subprocess.run(["prlimit", "--fsize=200000", sys.executable, "-m", "plume", "backup", str(archive),
                           "--templates", str(templates), "--data", str(data)], capture_output=True, text=True, cwd=REPO)
    _french_failure(full, 1, "Sauvegarde impossible", "Aucune archive")
    assert archive.read_bytes() == previous  # IT can still restore last night's archive
    assert [p.name for p in folder.iterdir()] == ["plume.tar.gz"]  # and nothing half-written is left beside it


@pytest.mark.parametrize("name", ["../../etc", "anne/droz", "a" * 65, "anne\nadmin", "anne\tdroz", ""])
def test_a_user_name_the_log_and_reports_could_not_hold_is_refused(tmp_path, name):
    result = plume_cli("users", "add", name, data=tmp_path, check=False)
    _french_failure(result, 1, "Nom d'utilisateur" if name else "vide")
    assert plume_cli("users", "list", data=tmp_path).stdout == ""


def test_a_bad_setting_stops_the_server_with_one_french_line(tmp_path):
    _french_failure(plume_cli("serve", "--port", "99999", data=tmp_path, check=False), 2, "Configuration illisible",
                    "réglage invalide", "port")
    config = tmp_path / "plume.toml"
    config.write_text("port = \n", encoding="utf-8")
    _french_failure(plume_cli("serve", "--config", str(config), data=tmp_path, check=False), 2,
                    "Configuration illisible")
    for name in ("anne.droz@lelocle.ch", "Anne Martin", "Luca D'Amico"):  # as docs/operations.md shows
        assert plume_cli("users", "add", name, data=tmp_path).returncode == 0


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    srv = start_server(tmp_path, env={"PLUME_RATE_LIMIT_PER_MINUTE": "3"})
    try:
        with srv.client("user") as client:
            codes = [client.get("/schema/openapi.json").status_code for _ in range(4)]
            assert codes[:3] != [429] * 3 and codes[3] == 429
            last = client.get("/schema/openapi.json")
            assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1
            assert "Trop de requêtes" in last.json()["detail"]
        with srv.client("admin") as other:  # another person is not slowed down
            assert other.get("/schema/openapi.json").status_code != 429
    finally:
        srv.stop()


def test_expired_token_is_refused(tmp_path):
    srv = start_server(tmp_path)
    try:
        token = srv.add_user("temp", "user")
        users = json.loads((srv.data / "users.json").read_text())
        for u in users:
            if u["name"] == "temp":
                u["expires"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        (srv.data / "users.json").write_text(json.dumps(users))
        response = httpx.get(f"{srv.url}/schema/openapi.json", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    finally:
        srv.stop()


def test_rotate_replaces_the_token(tmp_path):
    old = plume_cli("users", "add", "anne", data=tmp_path).stdout.splitlines()[-1]
    new = plume_cli("users", "rotate", "anne", data=tmp_path).stdout.splitlines()[-1]
    assert new != old and new.startswith("plm_")
    listed = plume_cli("users", "list", data=tmp_path).stdout
    assert "anne\tuser\trévoqué" in listed and "anne\tuser\tactif" in listed


def test_tls_served_directly_with_the_configured_certificate(tmp_path):
    import subprocess

    cert, key = tmp_path / "plume.crt", tmp_path / "plume.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    srv = start_server(tmp_path, env={"PLUME_TLS_CERT": str(cert), "PLUME_TLS_KEY": str(key)}, users=False,
                       scheme="https", verify=str(cert))
    try:
        response = httpx.get(srv.url + "/health", verify=str(cert))
        assert srv.url.startswith("https://") and response.status_code == 200
        with pytest.raises(httpx.HTTPError):  # plain HTTP is not served on that port
            httpx.get(srv.url.replace("https://", "http://") + "/health")
    finally:
        srv.stop()


def test_cors_allows_only_the_servers_own_origin(tmp_path):
    srv = start_server(tmp_path, env={"PLUME_PUBLIC_URL": "https://plume.lelocle.ch"}, users=False)
    try:
        def preflight(origin):
            return httpx.options(srv.url + "/v1/templates", headers={
                "Origin": origin, "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization"})
        assert preflight("https://plume.lelocle.ch").headers.get("access-control-allow-origin") == "https://plume.lelocle.ch"
        assert "access-control-allow-origin" not in preflight("https://evil.example").headers
    finally:
        srv.stop()
