"""Word sends paragraphs separated by `\\r` (and `\\v` for a manual line break), Windows `\\r\\n`,
LibreOffice sometimes U+2029: every text route reads them as line breaks, over real HTTP."""

from __future__ import annotations

import pytest

from tests.conftest import require_tool


@pytest.fixture(scope="module")
def regulation(samples):
    return (samples / "regulations" / "01-reglement-chiens.txt").read_text()


@pytest.mark.parametrize("separator", ["\r", "\r\n", "\u2029", "\v"])
def test_summary_and_measures_see_paragraphs_whatever_the_separator(modelless_server, regulation, separator):
    sent = regulation.replace("\n", separator)
    with modelless_server.client("user") as client:
        reference = client.post("/v1/text/summarize", json={"text": regulation, "engine": "rules"}).json()
        summary = client.post("/v1/text/summarize", json={"text": sent, "engine": "rules"}).json()
        plain = client.post("/v1/text/plain-language", json={"text": sent, "engine": "rules"}).json()
        plain_ref = client.post("/v1/text/plain-language", json={"text": regulation, "engine": "rules"}).json()
    assert summary["text"] == reference["text"]
    assert "(extrait)Art" not in summary["text"] and separator not in summary["text"]
    assert plain["before"]["sentences"] == plain_ref["before"]["sentences"]
    assert separator not in plain["text"]


def test_minutes_and_factsheet_read_word_paragraphs(modelless_server, regulation, samples):
    notes = (samples / "notes" / "01-conseil-general-notes.txt").read_text()
    with modelless_server.client("user") as client:
        sheet = client.post("/v1/text/factsheet", json={"text": regulation.replace("\n", "\r")}).json()
        sheet_ref = client.post("/v1/text/factsheet", json={"text": regulation}).json()
        pv = client.post("/v1/text/minutes", json={"text": notes.replace("\n", "\r")}).json()
        pv_ref = client.post("/v1/text/minutes", json={"text": notes}).json()
    assert sheet["text"] == sheet_ref["text"] and pv["text"] == pv_ref["text"]


# A leak reported by a resident, as a clerk pastes it from Outlook into Word (tests/../samples/emails/02).
LEAK = {"from": "jm.perrenoud@example.net", "subject": "URGENT – fuite d'eau sur la chaussée",
        "body": "Bonjour,\n\nDepuis ce matin, de l'eau jaillit de la chaussée devant le numéro 45 de la rue du "
                "Temple.\nL'eau coule vers les caves des immeubles voisins et le trottoir commence à geler.\n\n"
                "Merci d'envoyer quelqu'un au plus vite.\nJean-Marc Perrenoud, 079 555 12 34"}
NOTES = ("Mme Maria Ferreira\nnée le 14 juin 1987\ndomiciliée rue des Jardins 12, 2400 Le Locle\n"
         "depuis le 1er mars 2019\nattestation pour son employeur")
LETTER = "Madame,\n\nNous avons bien reçu votre demande.\nLe service la traitera prochainement.\n\nSalutations"
SEPARATORS = ["\r", "\r\n", "\u2029", "\v"]


def _post(server, route: str, body: dict) -> dict:
    with server.client("user") as client:
        response = client.post(route, json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("separator", SEPARATORS)
def test_mail_triage_reads_the_body_whatever_the_separator(modelless_server, separator):
    reference = _post(modelless_server, "/v1/mail/triage", LEAK)
    sent = _post(modelless_server, "/v1/mail/triage", {**LEAK, "body": LEAK["body"].replace("\n", separator)})
    assert sent == reference
    # What only the body says was read: the urgency words and the service's words past the first line.
    assert (sent["category"], sent["priority"], sent["service"]) == ("signalement", "urgent", "travaux publics")
    assert sent["needs_reply"] is True and sent["language"] == "fr"
    assert any("au plus vite" in r for r in sent["reasons"]) and any("trottoir" in r for r in sent["reasons"])


@pytest.mark.parametrize("separator", SEPARATORS)
def test_acknowledgement_reads_the_body_whatever_the_separator(modelless_server, separator):
    reference = _post(modelless_server, "/v1/mail/acknowledge", LEAK)
    sent = _post(modelless_server, "/v1/mail/acknowledge", {**LEAK, "body": LEAK["body"].replace("\n", separator)})
    assert {**sent, "reference": "", "text": ""} == {**reference, "reference": "", "text": ""}
    assert sent["text"].replace(sent["reference"], "") == reference["text"].replace(reference["reference"], "")
    assert sent["service"] == "Service des travaux publics" and separator not in sent["text"]


@pytest.mark.parametrize("separator", SEPARATORS)
def test_extraction_reads_each_line_of_the_notes_whatever_the_separator(modelless_server, separator):
    route = "/v1/templates/attestation-domicile/extract"
    reference = _post(modelless_server, route, {"text": NOTES})
    sent = _post(modelless_server, route, {"text": NOTES.replace("\n", separator)})
    assert sent == reference
    # Each value stops at its own line's end: « Ferreira », not « Ferreira\rnée le 14 juin 1987 ».
    values = sent["values"]
    assert (values["prenom"], values["nom"], values["date_naissance"]) == ("Maria", "Ferreira", "1987-06-14")
    assert (values["adresse"], values["npa_localite"]) == ("Rue des Jardins 12", "2400 Le Locle")
    assert values["domicile_depuis"] == "2019-03-01"


@pytest.mark.parametrize("separator", SEPARATORS)
def test_apertium_translation_keeps_the_paragraphs_whatever_the_separator(modelless_server, separator):
    with modelless_server.client("user") as client:
        pairs = client.get("/v1/capabilities").json()["tasks"]["translate"]["pairs"]
    require_tool("fr-es" in pairs, "apertium-fr-es")
    reference = _post(modelless_server, "/v1/text/translate", {"text": LETTER, "source": "fr", "target": "es"})
    sent = _post(modelless_server, "/v1/text/translate",
                 {"text": LETTER.replace("\n", separator), "source": "fr", "target": "es"})
    assert sent == reference and sent["engine"] == "apertium"
    # One paragraph in, one paragraph out, each break as the one kind Plume answers with (\n).
    assert sent["text"].split("\n")[:2] == ["Señora,", ""] and sent["text"].count("\n") == LETTER.count("\n")
    assert separator not in sent["text"] and "Hemos recibido" in sent["text"]
