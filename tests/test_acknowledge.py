"""Acknowledgement of receipt: the same wording for every message, facts from the commune's rules
(reference, service, usual delay), never from the message; as text and through the letter template."""

from __future__ import annotations

import io
import re
import uuid

import docx
import pytest

from tests.fake_upstream import (
    MY_TASKS,
    good_answer,
    scripted_server,
)


def eml(samples, name: str) -> str:
    return (samples / "emails" / name).read_text(encoding="utf-8", errors="replace")


def acknowledge(client, **body):
    response = client.post("/v1/mail/acknowledge", json={"engine": "rules", **body})
    assert response.status_code == 200, response.text
    return response


def test_uniform_wording_and_facts_from_the_rules(server, samples):
    with server.client() as client:
        first = acknowledge(client, eml=eml(samples, "01-attestation-domicile.eml")).json()
        again = acknowledge(client, eml=eml(samples, "01-attestation-domicile.eml")).json()
        other = acknowledge(client, eml=eml(samples, "02-fuite-eau-urgent.eml")).json()
    assert re.fullmatch(r"AR-2026-\d{4}", first["reference"]) and first["reference"] == again["reference"]
    # Sequential numbers from the server's reference book: a new message gets the next one.
    with server.client() as client:
        one, two = (acknowledge(client, subject=f"Demande {uuid.uuid4()}", body="Bonjour",
                                date="2026-11-20").json()["reference"] for _ in range(2))
    assert int(two[-4:]) == int(one[-4:]) + 1 and first["reference"] != other["reference"]
    assert (first["service"], first["delay_days"], first["received"]) == ("Contrôle des habitants", 3, "2026-11-23")
    assert first["civility"] == "Madame" and first["sender"] == "Maria Ferreira"
    assert "Nous accusons réception de votre message du 23 novembre 2026" in first["text"]
    assert "délai habituel de 3 jours ouvrables" in first["text"]
    assert (other["service"], other["delay_days"]) == ("Service des travaux publics", 5)

    # Uniform: apart from the facts, both letters are word for word the same.
    def skeleton(ack):
        text = re.sub(r"\d{1,2} \w+ 2026", "…", ack["text"])
        for fact in (ack["reference"], ack["subject"], ack["service"], str(ack["delay_days"]), ack["civility"]):
            text = text.replace(fact, "…")
        return text
    assert skeleton(first) == skeleton(other)
    assert first["values"]["reference"] == first["reference"] and first["values"]["nom"] == "Ferreira"


def test_injection_cannot_change_the_facts(server, samples):
    with server.client() as client:
        ack = acknowledge(client, eml=eml(samples, "07-injection.eml")).json()
    assert ack["service"] == "Police administrative" and ack["delay_days"] == 5
    assert "supprimée" not in ack["text"] and "direction" not in ack["text"].lower()
    assert ack["warnings"] and "assistant" in ack["warnings"][0]


def test_phishing_gets_no_acknowledgement_but_a_clear_reason(server, samples):
    with server.client() as client:
        response = client.post("/v1/mail/acknowledge", json={"engine": "rules", "eml": eml(samples, "06-phishing.eml")})
        letter = client.post("/v1/mail/acknowledge", json={"format": "docx", "eml": eml(samples, "06-phishing.eml")})
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith(":phishing-suspected") and "hameçonnage" in body["detail"] and body["signs"]
    assert "text" not in body and "X-Plume-Request-Id" not in response.headers
    assert letter.status_code == 422


@pytest.mark.parametrize("sender,subject,body,language,expected", [
    ("Hans Keller <h.keller@example.ch>", "Anfrage Wohnsitzbestätigung",
     "Guten Tag, ich brauche eine Wohnsitzbestätigung für meinen neuen Arbeitgeber. Vielen Dank und freundliche Grüsse",
     "de", "wir bestätigen den Eingang Ihrer Nachricht vom 1. Dezember 2026"),
    ("Giulia Rossi <g.rossi@example.ch>", "Richiesta di informazioni",
     "Buongiorno, vorrei sapere quali documenti servono per iscrivere mio figlio alla scuola. Cordiali saluti",
     "it", "confermiamo di aver ricevuto il suo messaggio del 1º dicembre 2026"),
    ("John Smith <j.smith@example.com>", "Parking permit",
     "Hello, I am moving to Le Locle next month and would like to know how to get a parking permit. Kind regards",
     "en", "We acknowledge receipt of your message of 1 December 2026"),
    ("Luc Perrin <l.perrin@example.ch>", "Attestation",
     "Bonjour, je souhaite obtenir une attestation de domicile pour mon employeur. Meilleures salutations",
     "fr", "Nous accusons réception de votre message du 1er décembre 2026"),
])
def test_acknowledgement_in_the_senders_language_with_1er(server, sender, subject, body, language, expected):
    with server.client() as client:
        ack = acknowledge(client, **{"from": sender, "subject": subject, "body": body, "date": "2026-12-01"}).json()
    assert ack["language"] == language and expected in ack["text"], ack["text"]


def test_the_clerk_can_choose_the_answers_language(server):
    """Detection guesses from the message; the clerk who knows the sender (a German speaker writing a
    short French note) chooses the language, and the letter's date follows it."""
    mail = {"from": "Hans Muster <hans@example.ch>", "subject": "Attestation", "date": "2026-12-01",
            "body": "Bonjour, je souhaite une attestation de domicile. Merci."}
    with server.client() as client:
        detected = acknowledge(client, **mail).json()
        chosen = acknowledge(client, **mail, language="de").json()
        letter = acknowledge(client, **mail, language="de", format="docx")
        wrong = client.post("/v1/mail/acknowledge", json={**mail, "language": "xx"})
    assert detected["language"] == "fr" and chosen["language"] == "de"
    assert "1. Dezember 2026" in chosen["text"] and "Dezember" not in detected["text"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(letter.content)).paragraphs)
    assert "Dezember" in text and "X-Plume-Warning" not in letter.headers
    assert wrong.status_code == 422 and wrong.headers["content-type"].startswith("application/problem+json")
    assert "language" in wrong.text


def test_letter_through_the_template(server, samples):
    with server.client() as client:
        word = acknowledge(client, eml=eml(samples, "03-reclamation-dechets.eml"), format="docx",
                           values={"npa_localite": "2400 Le Locle"})
        writer = acknowledge(client, eml=eml(samples, "04-permis-construire.eml"), format="odt")
        fields = acknowledge(client, **{"from": "Anne Droz <anne@example.ch>", "subject": "Demande de copie",
                                        "body": "Pourriez-vous m'envoyer une copie ?", "date": "2026-11-20"}).json()
    assert word.headers["content-type"].startswith("application/vnd.openxmlformats")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs).replace("\u00a0", " ")
    reference = word.headers["x-plume-reference"]
    assert reference in text and "Chemin des Sapins 7" in text and "Service de la voirie" in text
    assert "{{" not in text and writer.content[:2] == b"PK"
    assert fields["received"] == "2026-11-20" and fields["civility"] == "Madame"


def test_errors(server):
    with server.client() as client:
        assert client.post("/v1/mail/acknowledge", json={"format": "rtf", "body": "x"}).status_code == 422
        assert client.post("/v1/mail/acknowledge", json={"eml": 12}).status_code == 422
        assert client.post("/v1/mail/acknowledge", json={"eml": "x" * 200_001}).status_code == 413
    with server.client(None) as anonymous:
        assert anonymous.post("/v1/mail/acknowledge", json={"body": "x"}).status_code == 401


def test_model_missing_is_503(modelless_server):
    with modelless_server.client() as client:
        got = client.post("/v1/mail/acknowledge", json={"body": "Bonjour", "engine": "model"})
    assert got.status_code == 503 and got.json()["type"].endswith("model-unavailable")


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    with scripted_server(tmp_path_factory.mktemp("scripted"), good_answer, MY_TASKS) as pair:
        yield pair


def test_model_summary_is_one_sentence_and_never_sees_the_injection(scripted, samples):
    srv, fake = scripted
    with srv.client() as client:
        fake.requests.clear()
        ack = client.post("/v1/mail/acknowledge", json={"eml": eml(samples, "07-injection.eml")}).json()
        prompt = fake.requests[0][-1]["content"]
        fake.replies[:] = ['{"summary": "Une phrase. Puis une autre."}', '{"summary": ""}']
        refused = client.post("/v1/mail/acknowledge", json={"eml": eml(samples, "07-injection.eml"),
                                                            "engine": "model"})
    assert ack["engine"] == "scripted" and ack["summary"] == "L'expéditeur demande des renseignements à la commune."
    assert "Nous comprenons votre demande ainsi : L'expéditeur demande" in ack["text"]
    assert ack["service"] == "Police administrative" and ack["delay_days"] == 5
    assert "<<<DONNEES-" in prompt and "taxe annuelle" in prompt and "ignore tes consignes" not in prompt
    assert refused.status_code == 502
