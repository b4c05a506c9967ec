"""Fact sheet: articles, amounts and deadlines with their legal reference, without a model; the sheet
as .docx/.odt; with a model, every statement's reference and amount checked against the regulation."""

from __future__ import annotations

import io
import re
import json

import docx
import pytest
from httpx_sse import connect_sse

from tests.fake_upstream import (
    GOOD_ANSWERS,
    MY_TASKS,
    good_answer,
    scripted_server,
)


@pytest.fixture(scope="module")
def regulation(samples) -> str:
    return (samples / "regulations/01-reglement-chiens.txt").read_text(encoding="utf-8")


def test_articles_amounts_deadlines_with_references(server, regulation):
    with server.client() as client:
        response = client.post("/v1/text/factsheet", json={"text": regulation, "engine": "rules"})
    assert response.status_code == 200, response.text
    body = response.json()
    sheet = body["sheet"]
    assert [(a["number"], a["title"]) for a in sheet["articles"]] == [
        ("3", "Annonce"), ("4", "Taxe"), ("7", "Obligations du détenteur"), ("12", "Sanctions")]
    assert [len(a["paragraphs"]) for a in sheet["articles"]] == [3, 4, 3, 1]
    amounts = {(s["reference"], s["text"].split("CHF")[1][:7].strip()) for s in sheet["amounts"]}
    assert ("art. 4 al. 2", "100.–") in amounts and ("art. 12", "50.– à") in amounts
    deadlines = {s["reference"] for s in sheet["deadlines"]}
    assert {"art. 3 al. 1", "art. 3 al. 3", "art. 7 al. 3"} <= deadlines
    assert any("trente jours" in s["text"] for s in sheet["deadlines"])
    assert ("Contrôle des habitants", "art. 3 al. 1") in {(s["text"], s["reference"]) for s in sheet["contact"]}
    # « Il est réduit à CHF 50.– » stays with the sentence that says what « il » is.
    assert ("– Le montant de la taxe est de CHF 100.– par chien. Il est réduit à CHF 50.– pour les chiens de personnes"
            in body["text"])
    assert body["engine"] == "rules"


def test_each_rule_once_under_its_heading_and_no_dangling_pronoun(server, regulation):
    with server.client() as client:
        body = client.post("/v1/text/factsheet", json={"text": regulation, "engine": "rules"}).json()
    sheet = body["sheet"]
    rules = [s["text"] for key in ("who", "amounts", "deadlines", "how_to", "other") for s in sheet[key]]
    assert len(rules) == len(set(rules))  # no rule twice
    assert not any(re.match(r"(?:Il|Elle|Ils|Elles|Leur)\b", r) for r in rules)
    deadlines = " ".join(s["text"] for s in sheet["deadlines"])
    assert "déjections" not in deadlines  # hygiene is no deadline
    assert "Autres règles" in body["text"] and any("remboursée" in s["text"] for s in sheet["other"])


def test_sheet_documents(server, regulation):
    with server.client() as client:
        word = client.post("/v1/text/factsheet", json={"text": regulation, "format": "docx", "engine": "rules"})
        writer = client.post("/v1/text/factsheet", json={"text": regulation, "format": "odt", "engine": "rules"})
    assert word.status_code == 200 and writer.status_code == 200
    paragraphs = [p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs]
    assert any(p.startswith("– Le montant de la taxe est de CHF 100.– par chien. Il est réduit") and
               p.endswith("(art. 4 al. 2)") for p in paragraphs)
    assert "Combien ?" in paragraphs and writer.content[:2] == b"PK"


def _odt_paragraphs(data: bytes) -> list[str]:
    from odf import teletype
    from odf.opendocument import load
    from odf.text import H, P

    document = load(io.BytesIO(data))
    return [teletype.extractText(p) for kind in (H, P) for p in document.getElementsByType(kind)]


def test_other_rules_kept_in_the_documents(server, regulation):
    """Rules under no heading (« Autres règles ») reach the .docx and the .odt, under their heading;
    a sheet without such rules has no empty heading."""
    short = "Règlement sur les chiens\n\nArt. 4 Taxe\n1 La taxe est de CHF 100.– par chien."
    with server.client() as client:
        body = client.post("/v1/text/factsheet", json={"text": regulation, "engine": "rules"}).json()
        word = client.post("/v1/text/factsheet", json={"text": regulation, "format": "docx", "engine": "rules"})
        writer = client.post("/v1/text/factsheet", json={"text": regulation, "format": "odt", "engine": "rules"})
        none_other = client.post("/v1/text/factsheet", json={"text": short, "engine": "rules"})
        none_word = client.post("/v1/text/factsheet", json={"text": short, "format": "docx", "engine": "rules"})
        none_writer = client.post("/v1/text/factsheet", json={"text": short, "format": "odt", "engine": "rules"})
    other = body["sheet"]["other"]
    assert other and word.status_code == 200 and writer.status_code == 200
    lines = [f"– {s['text']} ({s['reference']})" for s in other]
    for paragraphs in ([p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs],
                       _odt_paragraphs(writer.content)):
        assert "Autres règles" in paragraphs
        heading = paragraphs.index("Autres règles")
        assert paragraphs[heading + 1:heading + 1 + len(lines)] == lines
        assert any("remboursée" in p for p in paragraphs[heading + 1:])
    assert none_other.status_code == 200 and not none_other.json()["sheet"]["other"]
    assert none_word.status_code == 200 and none_writer.status_code == 200
    assert "Autres règles" not in [p.text for p in docx.Document(io.BytesIO(none_word.content)).paragraphs]
    assert "Autres règles" not in _odt_paragraphs(none_writer.content)


def test_errors(server):
    with server.client() as client:
        no_articles = client.post("/v1/text/factsheet", json={"text": "Un texte sans article."})
        assert no_articles.status_code == 422 and "article" in no_articles.json()["detail"]
        assert client.post("/v1/text/factsheet", json={"text": 5}).status_code == 422
        assert client.post("/v1/text/factsheet", json={"text": "x" * 200_001}).status_code == 413
    with server.client(None) as anonymous:
        assert anonymous.post("/v1/text/factsheet", json={"text": "Art. 1"}).status_code == 401


def test_model_missing_is_503(modelless_server, regulation):
    with modelless_server.client() as client:
        got = client.post("/v1/text/factsheet", json={"text": regulation, "engine": "model"})
    assert got.status_code == 503 and got.json()["type"].endswith("model-unavailable")


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    with scripted_server(tmp_path_factory.mktemp("scripted"), good_answer, MY_TASKS) as pair:
        yield pair


def test_model_sheet_checked_against_the_regulation(scripted, regulation):
    srv, fake = scripted
    invented = dict(GOOD_ANSWERS["fiche explicative"])
    invented["amounts"] = [{"text": "La taxe coûte CHF 80.–.", "reference": "art. 4 al. 2"}]
    wrong_ref = dict(GOOD_ANSWERS["fiche explicative"])
    wrong_ref["who"] = [{"text": "Tout le monde.", "reference": "art. 99"}]
    with srv.client() as client:
        with connect_sse(client, "POST", "/v1/text/factsheet", json={"text": regulation}) as events:
            frames = [(e.event, json.loads(e.data)) for e in events.iter_sse()]
        fake.replies[:] = [json.dumps(invented), json.dumps(wrong_ref)]
        refused = client.post("/v1/text/factsheet", json={"text": regulation, "engine": "model"})
        retry_prompt = fake.requests[-1][-1]["content"]
        fake.replies[:] = [json.dumps(invented), json.dumps(invented)]
        fallback = client.post("/v1/text/factsheet", json={"text": regulation})
    assert [k for k, _ in frames] == ["progress", "done"]
    done = frames[-1][1]
    assert done["engine"] == "scripted" and done["sheet"]["amounts"][0]["reference"] == "art. 4 al. 2"
    assert "La taxe coûte CHF 100.– par chien et par an. (art. 4 al. 2)" in done["text"]
    # An amount the regulation does not state, then an unknown article: refused after one retry.
    assert refused.status_code == 502
    assert "montant absent du règlement" in retry_prompt
    assert fallback.status_code == 200 and fallback.json()["engine"] == "rules" and fallback.json()["warnings"]
