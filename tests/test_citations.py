"""The checker of answers written from numbered passages (plume.language.citations), on its own: what
it lets through (the same figure written another way) and what it stops (a figure the cited passage
does not state, a sentence without citation, a citation to no passage). Through the server:
test_search_answer.py."""

from __future__ import annotations

from plume.language.citations import check_answer, split_sentences

DOG_TAX = ("Règlement communal sur la détention et la taxe des chiens, art. 11\n1 La taxe annuelle s'élève à CHF 120.– "
           "pour le premier chien.\n2 Pour chaque chien supplémentaire, la taxe est de CHF 1'000.–.")
BILLING = ("Règlement communal sur la détention et la taxe des chiens, art. 13\nLa taxe est facturée en février et "
           "payable dans les 30 jours dès la date de facturation. Du 1er avril au 15 juillet 2026, dès 22 heures.")
PASSAGES = [DOG_TAX, BILLING]


def kinds(answer: str) -> list[str]:
    return [p.kind for p in check_answer(answer, PASSAGES).problems]


def test_the_same_figures_written_another_way_pass():
    assert kinds("La taxe annuelle est de 120 francs [1]. Le deuxième chien coûte CHF 1000.– [1]. "
                 "Elle se paie dans les trente jours, selon l'art. 13 [2]. Silence dès 22h, du 1er avril [2].") == []
    assert kinds("Die Steuer beträgt CHF 120.– [1]. Sie ist innert 30 Tagen zu bezahlen [2].") == []


def test_a_figure_the_cited_passage_does_not_state_is_named_by_kind():
    assert kinds("La taxe annuelle est de CHF 150.– [1].") == ["amount"]
    assert kinds("Elle se paie dans les 60 jours [2].") == ["deadline"]
    assert kinds("Elle se paie dans les 30 jours [1].") == ["deadline"]  # true, but not in the passage it cites
    assert kinds("Voir l'art. 12 [2].") == ["article"]
    assert kinds("Du 2 avril [2]. Dès 23h [2].") == ["date", "time"]
    problem = check_answer("La taxe annuelle est de CHF 150.– [1].", PASSAGES).problems[0]
    assert problem.public == "un montant absent du passage cité [1]" and "150" not in problem.public
    assert "CHF 150.–" in problem.for_model  # the retry prompt names it to the model


def test_citations_must_be_there_and_point_to_a_passage():
    checked = check_answer("La taxe coûte CHF 120.–. [1] Rien ici. Et ceci [4].", PASSAGES)
    assert [(s.text, s.citations) for s in checked.sentences] == [("La taxe coûte CHF 120.–. [1]", [1]),
                                                                   ("Rien ici.", []), ("Et ceci [4].", [4])]
    assert [p.kind for p in checked.problems] == ["no-citation", "unknown-citation"]
    assert [s.text for s in checked.supported] == ["La taxe coûte CHF 120.–. [1]"]
    assert split_sentences("Selon l'art. 11 al. 2, le deuxième chien coûte plus [1, 2].")[0].citations == [1, 2]


def test_a_sentence_citing_passages_that_hold_none_of_its_figures_names_them():
    checked = check_answer("La taxe est de CHF 120.– [1, 2]. Elle existe [1, 2].", PASSAGES)
    assert [(p.kind, p.sentence) for p in checked.problems] == [("idle-citation", 0)]
    assert checked.problems[0].public == "une citation [2] qui n'appuie aucun chiffre de sa phrase"
