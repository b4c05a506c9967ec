"""Grammalecte as a check where Plume itself writes French (issue 13, item 4): a model's rewrite that
brings an error its source did not have is never handed over as an improvement; a translation into
French says how many possible errors it holds."""

from __future__ import annotations

import asyncio

import pytest

from plume.language import grammar
from plume.language.lexicon import load
from plume.language.plain_rules import check
from plume.tasks import plain_language, translate
from plume.tasks.common import InvalidModelOutput
from tests.conftest import require_tool
from tests.test_plain_language import Scripted


@pytest.fixture(autouse=True, scope="module")
def _grammalecte_installed():
    require_tool(grammar.CHECKER.available(), "python3-grammalecte")  # fails in CI, skips elsewhere

SOURCE = ("Conformément aux dispositions réglementaires en vigueur, les enfants domiciliés dans la commune "
          "sont inscrits d'office à l'école enfantine le 1er août 2027.")


def test_new_errors_are_those_the_source_did_not_have():
    assert grammar.new_errors(SOURCE, SOURCE) == []
    worse = SOURCE.replace("les enfants domiciliés", "les enfant domiciliés")
    (found,) = grammar.new_errors(SOURCE, worse)
    assert worse[found.start:found.end] == "enfant"
    # An error already in the source is the author's, not Plume's.
    assert grammar.new_errors(worse, worse.replace("le 1er août", "dès le 1er août")) == []


def test_the_rules_refuse_an_output_with_a_new_error():
    worse = SOURCE.replace("sont inscrits", "sont inscrit")
    assert check(SOURCE, worse)["grammar"] is False
    assert check(SOURCE, SOURCE)["grammar"] is True


def test_a_rewrite_with_a_new_spelling_error_is_retried_then_refused():
    # The reference model once returned its input with « courrir » in it, and it was accepted.
    bad = ("Les enfants qui habitent dans la commune vont à l'école enfantine le 1er août 2027. "
           "Ils peuvent y courrir.")
    model = Scripted(bad, bad)
    with pytest.raises(InvalidModelOutput):
        asyncio.run(plain_language.with_model(model, SOURCE, "B1", load(None)))
    assert len(model.asked) == 2 and "courrir" in model.asked[1][-1].content  # the retry names the error


def test_a_translation_into_french_reports_its_possible_errors():
    clean = translate.TranslateResult(text="La taxe est due le 1er mars.", source="de", target="fr", engine="x")
    flawed = translate.TranslateResult(text="Les taxe sont due le 1er mars.", source="de", target="fr", engine="x")
    english = translate.TranslateResult(text="Les taxe sont due.", source="fr", target="en", engine="x")
    assert asyncio.run(translate._checked(clean, html=False)).warnings == []
    (warning,) = asyncio.run(translate._checked(flawed, html=False)).warnings
    assert "faute(s) possible(s)" in warning
    assert asyncio.run(translate._checked(english, html=False)).warnings == []  # only French is checked


# -- over real HTTP: Apertium es→fr, then Grammalecte on the French it wrote -----------------------------------

FAUTES = "faute(s) possible(s) de grammaire ou d'orthographe"


def translated(server, text: str, source: str = "es", target: str = "fr") -> dict:
    with server.client() as client:
        pairs = client.get("/v1/capabilities").json()["tasks"]["translate"]["pairs"]
        require_tool(f"{source}-{target}" in pairs, "apertium-fr-es")  # fails in CI, skips elsewhere
        response = client.post("/v1/text/translate", json={"text": text, "source": source, "target": target})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["source"], body["target"], body["engine"]) == (source, target, "apertium")
    return body


def test_a_spanish_text_translated_into_french_counts_the_errors_apertium_kept(modelless_server):
    # Apertium carries the sender's agreement mistakes word for word into French: « Les taxe sont due ».
    body = translated(modelless_server, "Las tasa son debidas antes del 31 de marzo. Los perro "
                                                    "estan registrado en la oficina municipal.")
    assert "Les taxe sont due" in body["text"]
    (warning,) = [w for w in body["warnings"] if FAUTES in w]
    counted = int(warning.split("contient ")[1].split(" faute")[0])
    assert counted == len(grammar.errors_in(body["text"])) and counted >= 3, (counted, body["text"])
    assert "relisez-la" in warning and "« Corriger »" in warning


def test_a_clean_spanish_text_translated_into_french_has_no_error_warning(modelless_server):
    body = translated(modelless_server, "El consejo municipal ha decidido que los niños del pueblo "
                                                    "van a la escuela el primero de agosto.")
    assert "Le conseil municipal a décidé" in body["text"]
    assert grammar.errors_in(body["text"]) == [] and body["warnings"] == []


def test_a_translation_out_of_french_is_not_proofread_as_french(modelless_server):
    # Grammalecte would find errors in every Spanish word: no count means the check was not run on it.
    body = translated(modelless_server, "Les taxe sont due avant le 31 mars.", "fr", "es")
    assert not any(FAUTES in w for w in body["warnings"]) and grammar.errors_in(body["text"])
