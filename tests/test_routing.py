"""Routing a mail to its service (issue 23), in process with the real bundled embedder: the
incremental ridge is the ridge scikit-learn solves, learning in two steps is learning at once, a
correction moves a mail's share, the chain says who decided and how sure it is, pins win, and the
store holds no text. (Through the real CLI, Dovecot and HTTP: tests/test_routing_learn.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from plume.mail.parse import MailMessage, from_fields, parse_message
from plume.routing import store
from plume.routing.classifier import Statistics, solve
from plume.routing.directory import DEFAULT_DIRECTORY, DirectoryError, load_directory
from plume.routing.features import routing_text
from plume.routing.learning import learn
from plume.routing.router import (SHIPPED_VECTORS, Router, descriptions_key, router_for,
                                  with_directory_services)
from plume.routing.sources import FiledMail, mail_key
from plume.tasks.triage import load_rules, triage_by_rules
from tests.triage_mails import generate


@pytest.fixture(scope="module")
def embedder():
    from plume.inference.embeddings import bundled_embedder

    return bundled_embedder()


def filed(mails, service_of=None) -> list[FiledMail]:
    out = []
    for m in mails:
        header = m.raw.split(b"\n\n", 1)[0]
        out.append(FiledMail(mail_key(header), "x", service_of(m) if service_of else m.service, None,
                             lambda raw=m.raw: parse_message(raw)))
    return out


def test_ridge_from_statistics_is_scikit_learns_ridge_classifier():
    from sklearn.linear_model import RidgeClassifier

    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(120, 16)), rng.integers(0, 3, 120)
    weights = rng.choice([1.0, 3.0], 120)
    stats = Statistics.empty(3, 16)
    stats.add(x, labels, weights)
    ours = solve(stats, alpha=0.7)
    theirs = RidgeClassifier(alpha=0.7).fit(x, labels, sample_weight=weights)
    assert np.allclose(ours.coef, theirs.coef_, atol=1e-8) and np.allclose(ours.intercept, theirs.intercept_)


def test_statistics_add_up_and_a_correction_moves_a_mails_share():
    rng = np.random.default_rng(1)
    x, labels = rng.normal(size=(40, 8)), rng.integers(0, 2, 40)
    whole, first, second = Statistics.empty(2, 8), Statistics.empty(2, 8), Statistics.empty(2, 8)
    whole.add(x, labels, np.ones(40))
    first.add(x[:25], labels[:25], np.ones(25))
    first.add(x[25:], labels[25:], np.ones(15))  # a second learning adds to the first
    assert np.allclose(solve(first).coef, solve(whole).coef)
    # Mail 0 moved from its service to the other: as if it had been filed there from the start.
    second.add(x, labels, np.ones(40))
    second.add(x[:1], labels[:1], np.ones(1), sign=-1.0)
    second.add(x[:1], 1 - labels[:1], np.ones(1))
    moved = labels.copy()
    moved[0] = 1 - labels[0]
    again = Statistics.empty(2, 8)
    again.add(x, moved, np.ones(40))
    assert np.allclose(solve(second).coef, solve(again).coef)


def test_routing_text_keeps_the_mails_own_words():
    mail = from_fields("anne@example.ch", "RE: AW: Bruit", "Bonjour,\n\nLes voisins font la fête chaque nuit "
                       "jusqu'à trois heures du matin.\n\nMeilleures salutations\nAnne\n\nEnvoyé de mon iPhone\n\n"
                       "Le 3 mars, Commune <info@lelocle.ch> a écrit :\n> Votre facture est échue.")
    assert routing_text(mail) == "Bruit Les voisins font la fête chaque nuit jusqu'à trois heures du matin."
    short = from_fields("", "", "Carte d'identité périmée, que faire ?\n\nMerci")
    assert "identité" in routing_text(short)  # a short mail keeps its short lines
    assert len(routing_text(from_fields("", "x", "mot " * 1000))) <= 600
    # Undecodable header words and bytes a header kept as surrogates are no text (nor a crash).
    broken = MailMessage("x", subject="=?x-unknown?Q?caf=E9?= \udcff\ufffd travaux", body="La route est \ud800fermée depuis hier.")
    assert routing_text(broken) == "travaux La route est fermée depuis hier."


def test_the_shipped_directory_vectors_are_those_of_the_shipped_directory(embedder):
    """Else `scripts/directory-vectors.py` was not run after editing routing/data/services.toml."""
    with np.load(SHIPPED_VECTORS) as archive:
        assert archive["key"].tobytes() == descriptions_key(embedder.id, load_directory().descriptions())


def test_without_learning_the_directory_routes_what_no_keyword_names(embedder, tmp_path):
    router = router_for(tmp_path)  # no services.toml, no learning: the shipped directory alone
    rules = with_directory_services(load_rules(), router.directory)

    def route(subject, body, sender="x@example.ch"):
        mail = from_fields(sender, subject, body)
        return router.route(mail, triage_by_rules(mail, rules), rules)

    school = route("Gita", "Buongiorno, quanto costa la gita scolastica di fine anno della classe di mia figlia?")
    assert (school.service, school.decided_by) == ("écoles", "directory") and school.service_confidence >= 0.6
    assert any(r.startswith("service « écoles » selon l'annuaire") for r in school.reasons)
    keyword = route("Facture", "Bonjour, ma facture d'eau est fausse.")
    assert (keyword.service, keyword.decided_by) == ("finances", "rules")
    vague = route("Question", "Bonjour, pourriez-vous me rappeler ? Merci.")
    assert vague.service_confidence < 0.6 and any(r.startswith("service à confirmer") for r in vague.reasons)
    empty = route("", "")
    assert (empty.service, empty.decided_by, empty.service_confidence) == (rules.default_service, "default", 0.0)


def test_a_pinned_sender_or_phrase_decides_with_certainty(embedder, tmp_path):
    shipped = DEFAULT_DIRECTORY.read_text(encoding="utf-8")
    (tmp_path / "services.toml").write_text(shipped + '\n[[pins]]\nservice = "finances"\nsenders = ["@fiduciaire.ch"]\n'
                                            'phrases = ["taxe des chiens"]\n', encoding="utf-8")
    router = router_for(tmp_path)
    rules = with_directory_services(load_rules(), router.directory)
    for sender, body in (("compta@fiduciaire.ch", "Voici les plans de la véranda."),
                         ("anne@example.ch", "Je paie la taxe des chiens en deux fois ?")):
        mail = from_fields(sender, "Demande", body)
        got = router.route(mail, triage_by_rules(mail, rules), rules)
        assert (got.service, got.decided_by, got.service_confidence) == ("finances", "rules", 1.0), got.reasons
    (tmp_path / "services.toml").write_text(shipped + '\n[[pins]]\nservice = "cadastre"\nphrases = ["x"]\n',
                                            encoding="utf-8")
    with pytest.raises(DirectoryError, match="cadastre"):
        router_for(tmp_path)


def test_learning_routes_with_its_confidence_and_stores_no_text(embedder, tmp_path):
    mails = generate(160, seed=5)
    directory = load_directory()
    report = learn(filed(mails), directory, tmp_path, embedder)
    assert report.outcomes["nouveau"] == 160 and report.embedded <= 160
    assert {f.service for f in report.figures if f.learned} == {m.service for m in mails}
    validated = sum(f.validated for f in report.figures)
    right = sum(round(f.recall * f.validated) for f in report.figures if f.recall is not None)
    assert validated == 160 and right / validated >= 0.8  # cross-validated: never seen by the router that routed it

    again = learn(filed(mails), directory, tmp_path, embedder)  # nothing new: nothing read, nothing embedded
    assert again.outcomes == {"inchange": 160} and again.embedded == 0

    router = Router(directory, embedder, store.load(store.path_in(tmp_path)))
    rules = with_directory_services(load_rules(), directory)
    mail = from_fields("x@example.ch", "Schulbus", "Der Schulbus fährt seit Montag nicht mehr bei unserem Haus vorbei.")
    got = router.route(mail, triage_by_rules(mail, rules), rules)
    assert (got.service, got.decided_by) == ("écoles", "learned") and 0.6 <= got.service_confidence <= 1

    saved = store.path_in(tmp_path).read_bytes()
    import zipfile

    with zipfile.ZipFile(store.path_in(tmp_path)) as archive:
        contents = b"".join(archive.read(name) for name in archive.namelist())
    for m in mails[:40]:
        text = parse_message(m.raw)
        for needle in (text.subject, text.sender_address, routing_text(text)[20:60]):
            assert needle.encode("utf-8") not in contents and needle.encode("utf-8") not in saved


def test_two_learnings_never_save_over_each_other_and_nothing_found_keeps_nothing(embedder, tmp_path):
    import fcntl

    from plume.routing.learning import Busy

    directory = load_directory()
    lock_path = store.path_in(tmp_path).with_suffix(".lock")
    lock_path.parent.mkdir(parents=True)
    with open(lock_path, "a") as held:  # as a learning running from cron holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(Busy):
            learn(filed(generate(3, seed=1)), directory, tmp_path, embedder)
    report = learn([], directory, tmp_path, embedder)
    assert not report.outcomes and not store.path_in(tmp_path).exists()
    # A first learning of a few mails only: no figures yet; the next one validates what it adds.
    learn(filed(generate(12, seed=2)), directory, tmp_path, embedder)
    later = learn(filed(generate(30, seed=3)), directory, tmp_path, embedder)
    assert sum(f.validated for f in later.figures) == 30
