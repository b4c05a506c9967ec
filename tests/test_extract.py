"""Case notes → letter fields: every value a careful clerk extracts from the sample cases, without a
model; a model only fills what the rules left missing, and its answer is checked."""

from __future__ import annotations

import tomllib

import pytest

from tests.fake_upstream import (
    MY_TASKS,
    good_answer,
    scripted_server,
)


def cases(samples):
    for expected in sorted((samples / "cases").glob("*.expected.toml")):
        want = tomllib.loads(expected.read_text(encoding="utf-8"))
        yield want["template"], expected.with_name(expected.name.replace(".expected.toml", ".txt")), want["values"]


def test_rules_extract_every_expected_value(server, samples):
    checked = 0
    with server.client() as client:
        for template, notes, want in cases(samples):
            response = client.post(f"/v1/templates/{template}/extract",
                                   json={"text": notes.read_text(encoding="utf-8"), "engine": "rules"})
            assert response.status_code == 200, response.text
            got = response.json()
            assert got["engine"] == "rules"
            assert {k: got["values"].get(k) for k in want} == want, notes.name
            assert not set(want) & set(got["missing"])
            checked += len(want)
    assert checked >= 19


def test_written_dates_amounts_and_what_is_missing(server):
    text = ("Monsieur Jean de Montmollin, Route de France 8, 2400 Le Locle. Facture n° F-2026/77 du 2 mars 2026 "
            "pour le raccordement au réseau, montant CHF 1'234.50, premier rappel le 1er avril 2026.")
    with server.client() as client:
        got = client.post("/v1/templates/relance-facture/extract", json={"text": text, "engine": "rules"}).json()
    values = got["values"]
    assert values["civilite"] == "Monsieur" and values["prenom"] == "Jean" and values["nom"] == "de Montmollin"
    assert values["adresse"] == "Route de France 8" and values["npa_localite"] == "2400 Le Locle"
    assert values["numero_facture"] == "F-2026/77" and values["montant"] == 1234.5
    assert values["date_facture"] == "2026-03-02" and values["date_premier_rappel"] == "2026-04-01"
    assert "delai_jours" in got["missing"] and "objet" in got["uncertain"]


def test_errors(server):
    with server.client() as client:
        assert client.post("/v1/templates/inexistant/extract", json={"text": "x"}).status_code == 404
        assert client.post("/v1/templates/relance-facture/extract", json={"texte": "x"}).status_code == 422
        assert client.post("/v1/templates/relance-facture/extract", json={"text": " "}).status_code == 422
        assert client.post("/v1/templates/relance-facture/extract",
                           json={"text": "x" * 200_001}).status_code == 413
    with server.client(None) as anonymous:
        assert anonymous.post("/v1/templates/relance-facture/extract", json={"text": "x"}).status_code == 401


def test_model_missing_is_503(modelless_server):
    with modelless_server.client() as client:
        got = client.post("/v1/templates/relance-facture/extract", json={"text": "M. Dupont", "engine": "model"})
    assert got.status_code == 503 and got.json()["type"].endswith("model-unavailable") and "install_command" not in got.json()


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    with scripted_server(tmp_path_factory.mktemp("scripted"), good_answer, MY_TASKS) as pair:
        yield pair


def test_model_fills_only_what_the_rules_missed(scripted, samples):
    srv, fake = scripted
    _, notes, want = [c for c in cases(samples) if c[0] == "relance-facture"][0]
    with srv.client() as client:
        got = client.post("/v1/templates/relance-facture/extract", json={"text": notes.read_text(encoding="utf-8")})
        fake.replies[:] = ['{"date_facture": "3 septembre"}', '{"date_facture": "hier"}']
        refused = client.post("/v1/templates/relance-facture/extract",
                              json={"text": "Relancer M. Dupont.", "engine": "model"})
    body = got.json()
    assert body["engine"] == "rules+scripted"
    assert body["values"]["nom"] == want["nom"]          # found by the rules: the model's "Autre" is ignored
    assert body["values"]["niveau"] == "second rappel"   # missing for the rules, proposed by the model…
    assert "niveau" in body["uncertain"]                  # …and marked for the clerk to check
    user = fake.requests[0][-1]["content"]
    assert "<<<DONNEES-" in user and "Vuilleumier" in user
    # A date that is not a date, twice: a clear error, never half the values.
    assert refused.status_code == 502 and "values" not in refused.json()
