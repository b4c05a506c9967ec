"""What a clerk meets first, over real HTTP: /v1/capabilities offers only what works (install commands
for admins only), and the usage report counts time saved only for results the clerk inserted."""

from __future__ import annotations

import re

import pytest
from plume.ops.usage import RequestLedger
from plume.security.audit import AuditLog

from tests.conftest import require_tool, start_modelless, start_server

HEADER = "X-Plume-Request-Id"


def _capabilities(server, role="user"):
    with server.client(role) as client:
        response = client.get("/v1/capabilities")
    assert response.status_code == 200, response.text
    return response.json()["tasks"]


def test_modelless_capabilities_offer_apertium_targets_only_and_no_command_to_a_clerk(modelless_server):
    tasks = _capabilities(modelless_server)
    assert set(tasks) >= {"translate", "plain-language", "summarize", "minutes", "factsheet", "acknowledge",
                          "triage", "extract", "render"}
    translate = tasks["translate"]
    assert translate["available"] is True and translate["engines"] == ["apertium"]
    assert "fr-es" in translate["pairs"] and "fr-de" not in translate["pairs"]
    assert translate["targets"][0] == "es" and "de" not in translate["targets"]
    assert translate["default_target"] == "es"
    assert translate["languages"]["es"] == "espagnol" and translate["languages_de"]["es"] == "Spanisch"
    plain = tasks["plain-language"]
    assert plain["available"] and plain["engines"] == ["rules"] and plain["levels"] == ["B1", "A2"]
    assert tasks["render"]["available"] and tasks["render"]["templates"] > 0
    assert "docx" in tasks["minutes"]["formats"] and tasks["acknowledge"]["languages"] == ["fr", "de", "it", "en"]
    for name, entry in tasks.items():
        assert "install" not in entry
        # All works but the actions and the transcription of recordings, which need a model, and search and
        # its answers, which need collections (docs/search.md).
        assert entry["reason"] is None or name in ("actions", "transcribe", "search", "answer")
    assert "plume models" not in str(tasks)


def test_admin_sees_the_install_command(modelless_server):
    tasks = _capabilities(modelless_server, "admin")
    assert tasks["translate"]["install"].startswith("plume models add") and "--tasks translate" in tasks["translate"]["install"]
    assert tasks["summarize"]["install"].startswith("plume models add")


def test_capabilities_need_a_token(modelless_server):
    with modelless_server.client(None) as client:
        assert client.get("/v1/capabilities").status_code == 401


def test_without_any_translator_translation_is_off_with_a_sentence_for_the_clerk(tmp_path):
    srv = start_modelless(tmp_path, PATH=str(tmp_path / "no-programs"))  # no Apertium, no LibreOffice
    try:
        tasks = _capabilities(srv)
    finally:
        srv.stop()
    translate = tasks["translate"]
    assert translate["available"] is False and translate["targets"] == [] and translate["default_target"] is None
    assert "traduction n'est pas disponible" in translate["reason"] and "plume" not in translate["reason"]
    assert "Übersetzung" in translate["reason_de"]
    assert "pdf" not in tasks["render"]["formats"]


def test_tiny_models_add_their_engines(server):
    tasks = _capabilities(server)
    assert "rules" in tasks["summarize"]["engines"] and len(tasks["summarize"]["engines"]) == 2
    assert len(tasks["translate"]["engines"]) >= 2  # a model and Apertium
    assert {"fr-de", "fr-es"} <= set(tasks["translate"]["pairs"])


# -- honest usage ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("usage")
    config = tmp / "plume.toml"
    config.write_text('[minutes_saved]\n"plain-language" = 7\n')
    srv = start_server(tmp, "--models", str(tmp / "no-catalog.toml"), env={"PLUME_CONFIG": str(config)})
    yield srv
    srv.stop()


TEXT = "Le requérant est tenu de s'acquitter de l'émolument dans un délai de trente jours."


def test_task_responses_carry_a_request_id_and_only_inserted_results_save_time(counted):
    with counted.client("user") as client:
        first = client.post("/v1/text/plain-language", json={"text": TEXT})
        second = client.post("/v1/text/plain-language", json={"text": TEXT, "level": "A2"})
        summary = client.post("/v1/text/summarize", json={"text": TEXT})
        listing = client.get("/v1/templates")
        ids = [r.headers.get(HEADER) for r in (first, second, summary)]
        assert all(i and re.fullmatch(r"[0-9a-f]{16}", i) for i in ids) and len(set(ids)) == 3
        assert HEADER not in listing.headers  # not a result
        assert client.post("/v1/usage/inserted", json={"request_id": ids[0]}).status_code == 204
        assert client.post("/v1/usage/inserted", json={"request_id": ids[0]}).status_code == 204  # counted once
        unknown = client.post("/v1/usage/inserted", json={"request_id": "0123456789abcdef"})
        assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
        assert "inconnu" in unknown.json()["detail"]
        assert client.post("/v1/usage/inserted", json={"request_id": "x; rm -rf"}).status_code in (400, 422)
    with counted.client("template-owner") as other:  # someone else's result
        assert other.post("/v1/usage/inserted", json={"request_id": ids[1]}).status_code == 404
    with counted.client("admin") as admin:
        report = admin.get("/v1/admin/usage", params={"format": "json"}).json()
        html = admin.get("/v1/admin/usage", params={"format": "html"}).text
    plain = [r for r in report["rows"] if r["task"] == "plain-language"]
    assert len(plain) == 1 and plain[0]["engine"] == "rules"
    assert (plain[0]["requests"], plain[0]["inserted"], plain[0]["minutes_saved"]) == (2, 1, 7.0)
    summarize = next(r for r in report["rows"] if r["task"] == "summarize")
    assert summarize["inserted"] == 0 and summarize["minutes_saved"] == 0
    assert "inséré" in report["method"] and report["minutes_per_task"]["plain-language"] == 7
    assert "Méthode" in html and "Langage clair : 7 min" in html


def test_rendered_letters_carry_a_request_id(counted):
    with counted.client("user") as client:
        template = "attestation-domicile"  # its examples fill every required field
        fields = client.get(f"/v1/templates/{template}").json()["fields"]
        values = {f["name"]: f["example"] for f in fields if f.get("example") is not None}
        first = client.post(f"/v1/templates/{template}/render", json={"values": values})
        second = client.post(f"/v1/templates/{template}/render", json={"values": values})
        refused = client.post(f"/v1/templates/{template}/render", json={"values": {}})
    assert first.status_code == 200 and second.status_code == 200, first.text
    ids = [first.headers.get(HEADER), second.headers.get(HEADER)]
    assert all(i and re.fullmatch(r"[0-9a-f]{16}", i) for i in ids) and ids[0] != ids[1], ids
    assert refused.status_code == 422 and HEADER not in refused.headers  # a refusal is no result


def test_ids_from_before_a_restart_are_found_in_the_audit_log(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.write(user="anne", method="POST", route="/v1/text/summarize", status=200, duration_ms=3.0,
              request_id="00112233aabbccdd")
    ledger = RequestLedger(log.read)
    assert ledger.belongs_to("00112233aabbccdd", "anne") and not ledger.belongs_to("00112233aabbccdd", "luc")
    fresh = ledger.issue("luc")
    assert ledger.belongs_to(fresh, "luc") and not ledger.belongs_to(fresh, "anne")


def test_plain_language_scores_come_with_a_band_in_words(modelless_server):
    with modelless_server.client("user") as client:
        body = client.post("/v1/text/plain-language", json={"text": TEXT}).json()
    bands = {"very-hard", "hard", "fairly-hard", "medium", "fairly-easy", "easy"}
    assert body["before"]["band"] in bands and body["after"]["band"] in bands


def test_proofreading_and_actions_are_announced(modelless_server, server):
    with modelless_server.client() as client:
        tasks = client.get("/v1/capabilities").json()["tasks"]
    assert tasks["proofread"]["engines"] == ["grammalecte"] and tasks["proofread"]["languages"] == ["fr"]
    assert tasks["proofread"]["available"] is (tasks["proofread"]["reason"] is None)
    # Without a model the commune's actions are listed but cannot run: one sentence says why.
    assert tasks["actions"]["available"] is False and tasks["actions"]["count"] >= 3
    assert "modèle" in tasks["actions"]["reason"] and "install" not in tasks["actions"]
    with server.client() as client:
        assert client.get("/v1/capabilities").json()["tasks"]["actions"]["engines"] == ["tiny-llm"]


def test_a_result_the_rules_wrote_after_a_failed_model_is_counted_as_the_rules(tmp_path):
    """engine "auto": a model that answers twice with something unusable gives way to the rules. The
    result the clerk gets is the rules' work, and the usage report must say so, streamed or not."""
    from litestar.testing import TestClient
    from plume.app import create_app
    from plume.config import load_settings
    from plume.ops.usage import engine_of, task_of
    from plume.security.tokens import UserStore

    from tests.test_plain_language import Scripted

    settings = load_settings(data_dir=tmp_path / "data", models_file=tmp_path / "no-catalog.toml")
    token = UserStore(settings.users_file).add("anne", "user")
    app = create_app(settings)
    with TestClient(app) as client:
        app.state.services.inference = Scripted(*["Pas du JSON."] * 4)
        headers = {"Authorization": f"Bearer {token}"}
        mail = {"from": "anne@example.ch", "subject": "Bruit", "body": "Nos voisins font du bruit chaque nuit."}
        plain = client.post("/v1/mail/triage", json={**mail, "engine": "auto"}, headers=headers)
        streamed = client.post("/v1/text/plain-language", json={"text": TEXT, "engine": "auto"},
                               headers={**headers, "Accept": "text/event-stream"})
    assert plain.status_code == 200 and any("règles" in w for w in plain.json()["warnings"]), plain.text
    assert streamed.status_code == 200 and "event: done" in streamed.text and "règles" in streamed.text
    lines = [e for e in AuditLog(settings.audit_file).read() if task_of(e) in ("triage", "plain-language")]
    assert [(task_of(e), engine_of(e)) for e in lines] == [("triage", "rules"), ("plain-language", "rules")]


def test_proofreading_is_counted_as_the_rules_work(counted):
    """Grammalecte is a checker, not a model: the Council's report must not credit a model with it."""
    from plume.language.grammar import CHECKER
    require_tool(CHECKER.available(), "python3-grammalecte")  # fails in CI, skips elsewhere
    with counted.client("user") as client:
        assert client.post("/v1/text/proofread", json={"text": "Ils on reçu la décision."}).status_code == 200
    with counted.client("admin") as admin:
        report = admin.get("/v1/admin/usage", params={"format": "json"}).json()
        html = admin.get("/v1/admin/usage", params={"format": "html"}).text
    rows = [r for r in report["rows"] if r["task"] == "proofread"]
    assert [(r["engine"], r["requests"]) for r in rows] == [("rules", 1)]
    assert "Correction" in html
