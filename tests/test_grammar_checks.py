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
from tests.test_plain_language import Scripted

pytestmark = pytest.mark.skipif(not grammar.CHECKER.available(), reason="python3-grammalecte missing")

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
