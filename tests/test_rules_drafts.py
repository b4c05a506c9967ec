"""Summaries, minutes and fact sheets without a model, over real HTTP: the amounts, dates and
decisions stay; words agree; no filler, no duplicate, no sentence whose pronoun points elsewhere.
Samples from tests/data/samples and new texts the rules were not written on."""

from __future__ import annotations

import re

import pytest

PRONOUN = re.compile(r"^(?:Il|Elle|Ils|Elles|Leur|Leurs)\b")

# New material, not used to write the rules.
UNSEEN_REGULATION = """Règlement concernant l'utilisation des salles communales (extrait)

Art. 5 Réservation
1 La réservation d'une salle se fait auprès de la gérance des bâtiments au moins quinze jours avant la manifestation.
2 Elle n'est définitive qu'après le versement d'un acompte.

Art. 8 Tarifs
1 La location de la grande salle est de CHF 350.– par jour. Elle est réduite à CHF 120.– pour les sociétés locales.
2 Le nettoyage est facturé CHF 80.– en sus lorsque la salle n'est pas rendue propre.

Art. 11 Horaires
Les manifestations prennent fin à 2 h au plus tard. Le bruit est interdit sur le parking après 22 h.
"""

UNSEEN_NOTES = """Séance Conseil général 18.03.2027, 19h00, Hôtel de Ville
Présidence: C. Robert. Présents 35/41.

1. Naturalisation de M. Keller
 - rapport de la commission favorable
 - vote: accepté 33 oui, 0 non, 2 abst.
2. Pétition horaires piscine
 - pétitionnaires: ouverture le dimanche matin, euh, dès 8 h
 - vote: refusé 12 oui, 21 non, 2 abst.
3. Comptes 2026
 - vote: acceptés 34 oui, 1 non
"""


def _post(server, route, text, **extra):
    with server.client("user") as client:
        response = client.post(route, json={"text": text, "engine": "rules", **extra})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("length", ["short", "medium"])
def test_regulation_summary_keeps_the_tax_and_no_dangling_pronoun(modelless_server, samples, length):
    text = (samples / "regulations" / "01-reglement-chiens.txt").read_text()
    summary = _post(modelless_server, "/v1/text/summarize", text, length=length)["text"]
    assert "CHF 100.–" in summary
    lines = summary.splitlines()
    assert not any(PRONOUN.match(line) for line in lines) and not any(re.match(r"\d\s", line) for line in lines)
    assert len(lines) == len(set(lines))


def test_unseen_regulation_summary_and_sheet(modelless_server):
    summary = _post(modelless_server, "/v1/text/summarize", UNSEEN_REGULATION, length="short")["text"]
    assert "CHF 350.–" in summary
    assert not any(PRONOUN.match(line) for line in re.split(r"(?<=\.)\s+|\n", summary))
    sheet = _post(modelless_server, "/v1/text/factsheet", UNSEEN_REGULATION)
    rules = [s["text"] for key in ("who", "amounts", "deadlines", "how_to", "other") for s in sheet["sheet"][key]]
    assert len(rules) == len(set(rules)) and not any(PRONOUN.match(r) for r in rules)
    assert any("CHF 350.–" in r and "Elle est réduite à CHF 120.–" in r for r in rules)
    assert any(r.startswith("La réservation") and "Elle n'est définitive" in r for r in rules)


def test_notes_summary_says_what_was_voted(modelless_server, samples):
    notes = (samples / "notes" / "01-conseil-general-notes.txt").read_text()
    summary = _post(modelless_server, "/v1/text/summarize", notes, length="short")["text"]
    votes = [line for line in summary.splitlines() if "vote" in line]
    assert votes and all(re.search(r"Crédit|Motion", line) for line in votes)


def test_transcript_summary_and_minutes_drop_fillers(modelless_server, samples):
    transcript = (samples / "notes" / "02-transcript-extrait.txt").read_text()
    summary = _post(modelless_server, "/v1/text/summarize", transcript, length="medium")["text"]
    minutes = _post(modelless_server, "/v1/text/minutes", transcript)["text"]
    for text in (summary, minutes):
        assert not re.search(r"\beuh\b", text, re.I)
    assert "Présidence : Présidente" not in minutes  # a role is not a name
    assert "2. Crédit" in minutes  # « Le crédit est accepté » says what point 2 was


def test_minutes_agree_the_decision_with_what_was_voted(modelless_server, samples):
    notes = (samples / "notes" / "01-conseil-general-notes.txt").read_text()
    text = _post(modelless_server, "/v1/text/minutes", notes)["text"]
    assert "Décision : Acceptée par 29 oui" in text and "Décision : Accepté par 31 oui" in text
    unseen = _post(modelless_server, "/v1/text/minutes", UNSEEN_NOTES)["text"]
    assert "Décision : Acceptée par 33 oui" in unseen  # une naturalisation
    assert "Décision : Refusée par 12 oui" in unseen  # une pétition
    assert "Décision : Acceptés par 34 oui" in unseen  # des comptes
    assert "euh" not in unseen


NOTES_WITHOUT_NUMBERS = """Réunion commission des sports 2.12.2026
- M. Dupont présente le budget 2027 de la patinoire.
- Mme Favre propose de refaire la route d'accès : 12 oui
La buvette reste fermée en janvier.
- vote : accepté 5 oui, 1 non
Fin 20h15."""

TRANSCRIPT_WRAPPED = """[00:00:05] Présidente : Premier point, le crédit pour la patinoire.
[00:00:20] M. Dupont : Le crédit couvre la toiture
et les vestiaires, pour CHF 480'000.
[00:01:10] Présidente : Le crédit est accepté par 30 oui, 2 non."""


def test_minutes_lose_no_note_the_clerk_wrote(modelless_server):
    """Notes with no numbered points, a line without a dash, a vote said inside a remark, a long turn
    of a transcript wrapped onto two lines: all of it reaches the minutes."""
    notes = _post(modelless_server, "/v1/text/minutes", NOTES_WITHOUT_NUMBERS)
    text = notes["text"]
    for kept in ("budget 2027 de la patinoire", "refaire la route d'accès", "La buvette reste fermée en janvier"):
        assert kept in text, text
    assert "Notes de séance" in text and "Décision : Accepté par 5 oui, 1 non." in text
    assert "Réunion commission" not in text.split("Notes de séance")[1] and "La séance est levée à 20 h 15." in text
    assert notes["minutes"]["date"] == "2026-12-02" and notes["minutes"]["items"][0]["number"] == 0
    wrapped = _post(modelless_server, "/v1/text/minutes", TRANSCRIPT_WRAPPED)["text"]
    assert "Le crédit couvre la toiture et les vestiaires, pour CHF 480'000." in wrapped, wrapped
