"""Word sends paragraphs separated by `\\r` (and `\\v` for a manual line break), Windows `\\r\\n`,
LibreOffice sometimes U+2029: every text route reads them as line breaks, over real HTTP."""

from __future__ import annotations

import pytest


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


def test_minutes_factsheet_and_mail_fields_read_word_paragraphs(modelless_server, regulation, samples):
    notes = (samples / "notes" / "01-conseil-general-notes.txt").read_text()
    with modelless_server.client("user") as client:
        sheet = client.post("/v1/text/factsheet", json={"text": regulation.replace("\n", "\r")}).json()
        sheet_ref = client.post("/v1/text/factsheet", json={"text": regulation}).json()
        pv = client.post("/v1/text/minutes", json={"text": notes.replace("\n", "\r")}).json()
        pv_ref = client.post("/v1/text/minutes", json={"text": notes}).json()
        triage = client.post("/v1/mail/triage", json={"from": "a@example.ch", "subject": "Fuite",
                                                       "body": "Bonjour,\r\rIl y a une fuite d'eau.\rMerci"})
    assert sheet["text"] == sheet_ref["text"] and pv["text"] == pv_ref["text"]
    assert triage.status_code == 200
