"""Proofreading through the real server with the real Grammalecte (Debian's python3-grammalecte):
texts with known errors of each kind, offsets that select the error in the text as sent."""

from __future__ import annotations

import pytest

from plume.language.grammar import CHECKER

from tests.conftest import require_tool


@pytest.fixture(autouse=True, scope="module")
def _grammalecte_installed():
    require_tool(CHECKER.available(), "python3-grammalecte")  # fails in CI, skips elsewhere


def proofread(server, text: str, **extra) -> dict:
    with server.client() as client:
        response = client.post("/v1/text/proofread", json={"text": text, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def covering(result: dict, text: str, fragment: str) -> dict:
    start = text.index(fragment)
    hits = [e for e in result["errors"] if e["start"] <= start < e["end"] or start <= e["start"] < start + len(fragment)]
    assert hits, f"no error reported on « {fragment} »: {result['errors']}"
    return hits[0]


@pytest.mark.parametrize("text, fragment, suggestion", [
    ("Les décisions prise par le Conseil communal sont définitives.", "prise", "prises"),  # agreement
    ("Les enfant du quartier attendent le bus.", "enfant", "enfants"),  # agreement
    ("Ils on reçu la décision du Conseil communal.", "on", "ont"),  # homophone
    ("La commune à décidé de réduire la taxe.", "à", "a"),  # homophone
    ("Nous vous prions de nous faire parvenir l'attestation.", "l'", "l’"),  # typographic apostrophe
])
def test_known_errors_are_found_with_their_correction(modelless_server, text, fragment, suggestion):
    result = proofread(modelless_server, text, language="fr")
    assert result["checked"] == "fr"
    error = covering(result, text, fragment)
    assert text[error["start"]:error["end"]] == error["text"]
    assert suggestion in error["suggestions"]
    assert error["message"]


def test_narrow_no_break_space_before_double_punctuation(modelless_server):
    text = "Merci de répondre avant le 15 mars: le délai est court!"
    result = proofread(modelless_server, text, language="fr")
    for mark in (":", "!"):
        error = covering(result, text, mark)
        assert error["kind"] == "typographie"
        assert any("\u00a0" in s or "\u202f" in s for s in error["suggestions"])


def test_offsets_are_those_of_the_text_as_sent_across_paragraphs(modelless_server):
    # Word separates paragraphs with \r; the offsets must still select the error in the original text.
    text = "Objet : demande de permis\r\rLes enfant sont inscrits.\r\nIls on reçu la lettre."
    result = proofread(modelless_server, text, language="fr")
    assert {e["text"] for e in result["errors"]} >= {"enfant", "on"}
    for error in result["errors"]:
        assert text[error["start"]:error["end"]] == error["text"]


def test_clean_text_and_names_give_no_error(modelless_server):
    text = ("Madame, nous accusons réception de votre demande du 1er décembre 2026 concernant "
            "M. Jean-Pierre Vuilleumier, domicilié rue Daniel-JeanRichard 12, 2400 Le Locle.")
    assert proofread(modelless_server, text)["errors"] == []


def test_unambiguous_flag_marks_single_suggestions(modelless_server):
    text = "Les enfant du quartier attendent le bus."
    error = covering(proofread(modelless_server, text, language="fr"), text, "enfant")
    assert error["unambiguous"] is (len(error["suggestions"]) == 1)


def test_german_text_is_not_checked_and_says_so(modelless_server):
    result = proofread(modelless_server, "Wir haben Ihre Anfrage vom 3. März erhalten und prüfen sie.")
    assert result["checked"] is None and result["errors"] == []
    assert "Seul le français" in result["warnings"][0]
    # A stable code beside the sentence, and the language found, for a sidebar that speaks German
    assert result["warning_codes"] == ["only-french"] and result["language"] == "de"


def test_bad_input_is_a_clear_4xx(modelless_server):
    with modelless_server.client() as client:
        assert client.post("/v1/text/proofread", json={"text": ""}).status_code == 422
        assert client.post("/v1/text/proofread", json={"text": "x", "language": "français"}).status_code == 422
        too_long = client.post("/v1/text/proofread", json={"text": "a" * 2_000_000})
        assert too_long.status_code == 413
    with modelless_server.client(role=None) as anonymous:
        assert anonymous.post("/v1/text/proofread", json={"text": "Bonjour"}).status_code == 401
