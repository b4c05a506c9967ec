"""The two bundled sentence embedders search fuses: a German question lands nearest the French article
that answers it, and e5 embeds questions and passages each with its own prefix, as it was trained."""

from __future__ import annotations

import numpy as np
import pytest

from plume.search.dense import embed_passages, embed_queries, embedders_for

PASSAGES = ["Règlement sur les chiens › Art. 11 Montant\nLa taxe annuelle s'élève à CHF 120.– pour le premier chien.",
            "Règlement sur les déchets › Art. 5 Ordures ménagères\nLes ordures sont collectées le mardi.",
            "Règlement de police › Art. 13 Dimanches\nLes tondeuses à gazon sont interdites le dimanche."]


@pytest.mark.parametrize("name", ["e5-small", "use-multilingual-v3"])
def test_a_german_question_is_nearest_the_french_article_that_answers_it(name):
    (embedder,) = embedders_for([name], None)
    passages = embed_passages(embedder, PASSAGES)
    for question, expected in (("Wie hoch ist die Hundesteuer pro Jahr?", 0), ("Darf ich am Sonntag den Rasen mähen?", 2)):
        scores = passages @ embed_queries(embedder, [question])[0]
        assert int(np.argmax(scores)) == expected, (name, question, scores)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1, atol=1e-4)


def test_e5_embeds_a_question_and_a_passage_differently():
    (e5,) = embedders_for(["e5-small"], None)
    text = "taxe des chiens"
    assert float(embed_queries(e5, [text])[0] @ embed_passages(e5, [text])[0]) < 0.999
