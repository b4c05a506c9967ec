"""French readability measures, checked against values computed by hand."""

from __future__ import annotations

import pytest
from plume.language.readability import RARE_ZIPF, measure, syllables
from plume.language.sentences import sentences, words

# By hand: 2 sentences, 9 words.
#   « Le chat dort. »                                   le 1, chat 1, dort 1                    = 3 syllables
#   « La commune perçoit une taxe annuelle. »           la 1, com-mu-ne 2 (mute e), per-çoit 2,
#                                                       une 1, taxe 1, an-nuel-le 2             = 9 syllables
#   words/sentence 4.5, syllables/word 12/9
#   Kandel-Moles = 207 − 1.015 × 4.5 − 73.6 × 12/9 = 207 − 4.5675 − 98.1333 = 104.2992
#   long words (> 6 letters): commune, perçoit, annuelle = 3
#   LIX = 4.5 + 100 × 3/9 = 37.83 ; RIX = 3/2 = 1.5
SHORT = "Le chat dort. La commune perçoit une taxe annuelle."


def test_hand_computed_values():
    m = measure(SHORT)
    assert (m.sentences, m.words, m.long_words) == (2, 9, 3)
    assert m.words_per_sentence == 4.5
    assert m.kandel_moles == 104.3
    assert m.lix == 37.8
    assert m.rix == 1.5
    assert m.rare_word_share == 0
    assert m.passives == 0


@pytest.mark.parametrize("word,count", [
    ("chat", 1), ("commune", 2), ("perçoit", 2), ("annuelle", 2), ("émolument", 4), ("règles", 1),
    ("aujourd'hui", 3), ("peut-être", 2), ("2026", 1),
])
def test_syllables(word, count):
    assert syllables(word) == count


def test_rare_words_use_the_documented_zipf_threshold():
    # émolument (Zipf 1.8) and exigible (2.5) are under 3.0; « est » is among the commonest words.
    assert RARE_ZIPF == 3.0
    assert measure("L'émolument est exigible.").rare_word_share == pytest.approx(2 / 3, abs=0.001)


def test_passives_and_nominalisations_found_by_spacy():
    m = measure("La taxe est perçue par la commune. La délivrance de l'autorisation suit le paiement.")
    assert m.passives == 1
    assert m.nominalisations == 3  # délivrance, autorisation, paiement


def test_sentences_ignore_abbreviations_and_end_at_line_breaks():
    text = "Voir l'art. 14 al. 2 du règlement. M. Dupont paie CHF 1'234.50 avant le 3 mars.\nTitre\nSuite du texte."
    found = sentences(text)
    assert [s.text for s in found] == [
        "Voir l'art. 14 al. 2 du règlement.", "M. Dupont paie CHF 1'234.50 avant le 3 mars.", "Titre", "Suite du texte.",
    ]
    assert all(text[s.start:s.end] == s.text for s in found)
    assert words("L'émolument de 1'234.50 francs, peut-être.") == ["L'émolument", "de", "1'234.50", "francs", "peut-être"]


def test_jargon_heavy_sample_reads_harder_than_plain_text(samples):
    heavy = measure((samples / "texts" / "01-taxe-dechets.txt").read_text())
    assert heavy.sentences == 1 and heavy.words > 60
    assert heavy.kandel_moles < measure(SHORT).kandel_moles - 50
    assert heavy.lix > 60


def test_empty_text_measures_zero():
    m = measure("   ")
    assert m.words == 0 and m.kandel_moles == 0


def test_a_long_paragraph_is_split_in_linear_time():
    """The largest text a route accepts, as one paragraph: its sentences came back after minutes when
    each full stop searched the whole line before it. A generous bound, to catch a quadratic return."""
    import time

    from plume.language.sentences import sentences

    unit = "Selon l'art. 3 al. 2, le requérant paie l'émolument. La décision est définitive. "
    text = unit * (200_000 // len(unit))
    started = time.monotonic()
    found = sentences(text)
    assert time.monotonic() - started < 10
    assert len(found) == 2 * (200_000 // len(unit))  # « art. » and « al. » end nothing
    assert found[0].text == "Selon l'art. 3 al. 2, le requérant paie l'émolument."
