"""Plain language without a model never makes a text worse — measured on sentences the rules were
NOT written on (new administrative French, written for these tests only), over real HTTP.

A sample set the rules were tuned on cannot measure the rules: keep these sentences out of any
tuning, and add new ones rather than editing these when a rule changes."""

from __future__ import annotations

import re

import pytest
from plume.language.facts import missing
from plume.language.plain_rules import new_grammar_errors

ROUTE = "/v1/text/plain-language"

# 33 words, no safe cut, no jargon to swap: the rules can do nothing safe (the sidebars' tests use it too).
NOTHING_SAFE = ("Toute personne désirant obtenir une place d'amarrage au port communal pour la saison estivale "
                "adresse sa demande écrite accompagnée d'une copie du permis de navigation au service des sports "
                "avant la fin février.")

UNSEEN = [
    "Le paiement de la taxe d'amarrage doit intervenir préalablement aux travaux d'entretien du ponton.",
    "Les travaux de façade ont été réalisés antérieurement à l'octroi du permis, ce qui constitue une infraction.",
    "Conformément au règlement du cimetière, les concessions échues sont reprises par la commune après un "
    "avis publié dans la Feuille officielle.",
    "Le service des eaux coupera l'alimentation le 14 avril 2027 entre 8 h et 11 h ; les habitants du quartier "
    "des Jeanneret prévoient une réserve d'eau, mais les commerces disposeront d'une citerne mobile installée "
    "devant la poste de la rue Daniel-JeanRichard.",
    NOTHING_SAFE,
    "Le requérant est tenu de s'acquitter de l'émolument de CHF 85.– afférent à l'établissement de l'attestation "
    "dans un délai de dix jours dès réception de la facture.",
    "La bibliothèque ferme ses portes du 22 décembre au 4 janvier, toutefois la boîte de retour reste accessible "
    "jour et nuit devant l'entrée principale du collège Jehan-Droz.",
    "Les propriétaires de chiens sont tenus de ramasser les déjections sur le domaine public, faute de quoi une "
    "amende de CHF 40.– leur sera infligée par la police locale.",
    "Nous accusons réception de votre courrier du 9 mai et vous informons que votre dossier a été transmis au "
    "Service de l'urbanisme, qui statuera ultérieurement sur votre requête.",
    "L'accès à la déchetterie est réservé aux habitants de la commune munis de leur carte, et les entreprises "
    "doivent s'adresser à la déchetterie régionale de Cernier, car les quantités qu'elles apportent dépassent "
    "les capacités du site communal.",
]


def _post(server, text, level="B1"):
    with server.client("user") as client:
        response = client.post(ROUTE, json={"text": text, "level": level, "engine": "rules"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("level", ["B1", "A2"])
@pytest.mark.parametrize("text", UNSEEN, ids=[f"phrase-{i}" for i in range(len(UNSEEN))])
def test_rules_never_make_an_unseen_text_worse(modelless_server, text, level):
    body = _post(modelless_server, text, level)
    out = body["text"]
    assert missing(text, out) == []  # every number, date, amount and name kept
    assert body["after"]["kandel_moles"] >= body["before"]["kandel_moles"]
    assert new_grammar_errors(text, out) == []
    assert not re.search(r"\b(?:avant|après|pour|selon) (?:au|aux)\b", out)
    assert body["changed"] == (out != text)
    if body["changed"]:
        assert body["checks"] == {"facts": True, "readability": True, "grammar": True}
    else:  # nothing safe: said so, with what to rewrite
        assert body["warnings"] and body["diagnostics"]


def test_whole_expressions_are_replaced_never_half_of_one(modelless_server):
    out = _post(modelless_server, UNSEEN[0])["text"]
    assert "avant les travaux" in out and "avant aux" not in out


def test_a_long_sentence_is_split_at_safe_boundaries_only(modelless_server):
    text = UNSEEN[3]
    body = _post(modelless_server, text)
    assert body["after"]["sentences"] > body["before"]["sentences"]
    assert body["after"]["words_per_sentence"] < body["before"]["words_per_sentence"]
    splits = [s for s in body["substitutions"] if s["kind"] == "split"]
    assert splits and all(text[s["start"]:s["end"]] == s["original"] for s in splits)
    assert all(s["original"].lstrip().startswith((";", ",")) for s in splits)  # at « ; » or « , mais »…
    assert "Les habitants du quartier des Jeanneret" in body["text"] or "Mais les commerces" in body["text"]


def test_a2_is_stricter_than_b1(modelless_server):
    text = ("La piscine des Fiottets ferme le 30 septembre pour des travaux, mais la patinoire du Communal "
            "ouvre le 5 octobre.")
    b1, a2 = _post(modelless_server, text, "B1"), _post(modelless_server, text, "A2")
    assert b1["text"] == text and not b1["changed"]  # 18 words: fine at B1
    assert a2["changed"] and a2["after"]["sentences"] == 2 and "Mais la patinoire" in a2["text"]


def test_nothing_safe_to_do_is_said_with_the_diagnostics(modelless_server):
    text = NOTHING_SAFE
    body = _post(modelless_server, text)
    assert body["text"] == text and body["changed"] is False and body["substitutions"] == []
    assert any("aucune modification sûre" in w or "aucune coupure sûre" in w for w in body["warnings"])
    assert any(d["kind"] == "long_sentence" for d in body["diagnostics"])
    # a stable code beside the French sentence, so a German sidebar can say it too
    assert body["warning_codes"][0] == "nothing-safe" and "aucune modification sûre" in body["warnings"][0]
    assert len(body["warning_codes"]) == len(body["warnings"])


def test_a_text_the_rules_changed_carries_no_nothing_safe_code(modelless_server):
    body = _post(modelless_server, UNSEEN[0])
    assert body["changed"] and "nothing-safe" not in body["warning_codes"]


def test_a_swap_that_would_break_grammar_is_only_suggested(modelless_server):
    own = modelless_server.data / "jargon_fr.toml"
    own.write_text('termes = [{ jargon = "guichet unique", simple = "accueil", auto = true }]\n', encoding="utf-8")
    try:
        text = "Adressez-vous au guichet unique de l'Hôtel de Ville. Le guichet unique ouvre à 8 h."
        body = _post(modelless_server, text)
    finally:
        own.unlink()
    assert "au accueil" not in body["text"] and "Le accueil" not in body["text"]
    assert any(d["kind"] == "jargon" and d["suggestion"] == "accueil" for d in body["diagnostics"])
