"""E-mail triage: the rules agree with the clerk on the samples, over HTTP and with `plume triage`;
an injection cannot move a message; the model classifies within the commune's lists."""

from __future__ import annotations

import csv
import io
import json
import mailbox
import shutil
import subprocess
import sys
import tomllib

import pytest

from tests.conftest import REPO
from tests.fake_upstream import scripted_server, MY_TASKS, good_answer

FIELDS = ("category", "priority", "service", "language", "needs_reply", "deadline")
KEYS = {"file", "category", "priority", "service", "language", "deadline", "needs_reply", "summary", "reasons",
        "phishing", "automatic", "service_confidence", "decided_by"}  # the last two: issue 23 (tests/test_routing*.py)


@pytest.fixture(scope="module")
def expected(samples):
    return tomllib.loads((samples / "emails" / "expected.toml").read_text(encoding="utf-8"))


def agreement(rows: list[dict], expected: dict) -> dict[str, int]:
    return {f: sum(row[f] == expected[row["file"]].get(f) for row in rows) for f in FIELDS}


def plume_triage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plume", "triage", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def test_cli_agrees_with_the_clerk_on_every_sample(samples, expected):
    out = plume_triage(str(samples / "emails"), "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["file"] for r in rows] == sorted(expected)
    assert all(set(r) == KEYS for r in rows)
    scores = agreement(rows, expected)
    assert scores == {f: 8 for f in FIELDS}, scores
    assert "8/8" in out.stderr  # the progress bar went to stderr, not into the JSON
    by_file = {r["file"]: r for r in rows}
    assert by_file["06-phishing.eml"]["phishing"] and not by_file["01-attestation-domicile.eml"]["phishing"]
    assert all(r["reasons"] and r["summary"] for r in rows)


def test_cli_csv_mbox_maildir_and_own_rules(samples, expected, tmp_path):
    box = mailbox.mbox(tmp_path / "courrier.mbox")
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    for eml in sorted((samples / "emails").glob("*.eml")):
        box.add(eml.read_bytes())
        maildir.add(eml.read_bytes())
    box.flush()
    rows = json.loads(plume_triage(str(tmp_path / "courrier.mbox"), "--quiet").stdout)
    assert [r["file"] for r in rows] == [f"courrier.mbox#{i}" for i in range(1, 9)]
    assert [r["category"] for r in rows] == [expected[name]["category"] for name in sorted(expected)]
    assert len(json.loads(plume_triage(str(tmp_path / "Maildir"), "--quiet").stdout)) == 8

    table = list(csv.DictReader(io.StringIO(plume_triage(str(samples / "emails"), "--format", "csv").stdout.lstrip("\ufeff")),
                                delimiter=";"))  # for Excel fr-CH: tests/test_triage_cli.py
    assert table[1]["priorité"] == "urgente" and table[3]["échéance"] == "30.11.2026"

    # The commune edits its rules: a new urgency word raises the attestation request.
    rules = (REPO / "server/plume/tasks/data/triage_rules.toml").read_text(encoding="utf-8")
    own = tmp_path / "regles.toml"
    own.write_text(rules.replace('urgent = ["urgent",', 'urgent = ["employeur", "urgent",'), encoding="utf-8")
    row = json.loads(plume_triage(str(samples / "emails/01-attestation-domicile.eml"), "--rules", str(own),
                                  "--quiet").stdout)[0]
    assert row["priority"] == "urgent" and any("employeur" in r for r in row["reasons"])
    broken = tmp_path / "casse.toml"
    broken.write_text("services = 3", encoding="utf-8")
    out = plume_triage(str(samples / "emails"), "--rules", str(broken))
    assert out.returncode == 2 and "invalide" in out.stderr


def test_http_triage_raw_eml_and_fields(server, samples, expected):
    with server.client() as client:
        for eml in sorted((samples / "emails").glob("*.eml")):
            body = client.post("/v1/mail/triage", json={"eml": eml.read_text(encoding="utf-8", errors="replace"),
                                                        "engine": "rules"})
            assert body.status_code == 200, body.text
            got = body.json()
            want = expected[eml.name]
            assert {f: got[f] for f in FIELDS} == {f: want.get(f) for f in FIELDS}, eml.name
            assert got["engine"] == "rules"
        fields = client.post("/v1/mail/triage", json={
            "from": "Jean Dupont <jean@example.ch>", "subject": "Question", "engine": "rules",
            "body": "Bonjour, merci de me répondre dans 10 jours au sujet de ma facture.",
            "date": "2026-11-20T10:00:00+01:00"}).json()
        assert fields["deadline"] == "2026-11-30" and fields["service"] == "finances"


def test_injection_does_not_move_the_message(server, samples):
    eml = (samples / "emails/07-injection.eml").read_text(encoding="utf-8")
    with server.client() as client:
        got = client.post("/v1/mail/triage", json={"eml": eml, "engine": "rules"}).json()
        # The same message without the injected paragraph is triaged the same way.
        clean = eml.split("IMPORTANT POUR")[0] + "Merci,\nPaul Martin\n"
        same = client.post("/v1/mail/triage", json={"eml": clean, "engine": "rules"}).json()
    assert (got["priority"], got["category"], got["service"]) == ("normal", "demande d'information",
                                                                  "police administrative")
    assert (same["priority"], same["category"], same["service"]) == (got["priority"], got["category"], got["service"])
    assert any("injection" in r for r in got["reasons"])


def test_errors(server):
    with server.client() as client:
        assert client.post("/v1/mail/triage", json={"subject": 3}).status_code == 422
        assert client.post("/v1/mail/triage", json={}).status_code == 422
        assert client.post("/v1/mail/triage", content=b"{pas du json").status_code in (400, 422)
        too_long = client.post("/v1/mail/triage", json={"body": "x" * 200_001})
        assert too_long.status_code == 413 and too_long.headers["content-type"] == "application/problem+json"
    with server.client(None) as anonymous:
        assert anonymous.post("/v1/mail/triage", json={"body": "x"}).status_code == 401


def test_model_unavailable_is_503_with_install_command_for_it_only(modelless_server):
    with modelless_server.client() as client:
        refused = client.post("/v1/mail/triage", json={"body": "Bonjour", "engine": "model"})
        rules = client.post("/v1/mail/triage", json={"body": "Bonjour"})
    with modelless_server.client("admin") as admin:
        for_it = admin.post("/v1/mail/triage", json={"body": "Bonjour", "engine": "model"})
    # A clerk gets the sentence, never a shell command she cannot run; an admin gets the command.
    assert refused.status_code == 503 and "install_command" not in refused.json()
    assert refused.json()["detail"] == for_it.json()["detail"]
    assert for_it.status_code == 503 and "plume models add" in for_it.json()["install_command"]
    assert rules.status_code == 200 and rules.json()["engine"] == "rules"


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    with scripted_server(tmp_path_factory.mktemp("scripted"), good_answer, MY_TASKS) as pair:
        yield pair


def test_model_classifies_within_the_lists_and_injection_stays_fenced(scripted, samples):
    srv, fake = scripted
    with srv.client() as client:
        plain = client.post("/v1/mail/triage", json={
            "eml": (samples / "emails/01-attestation-domicile.eml").read_text(encoding="utf-8")}).json()
        vague = client.post("/v1/mail/triage", json={
            "from": "anne@example.ch", "subject": "Question", "body": "Bonjour, pourriez-vous me rappeler ? Merci."}).json()
        fake.requests.clear()
        injected = client.post("/v1/mail/triage", json={
            "eml": (samples / "emails/07-injection.eml").read_text(encoding="utf-8")}).json()
    # The model's category (from the commune's lists) is applied, its summary is used; the service is
    # the directory's, sure of itself, over the model's « chancellerie » (issue 23: order of trust).
    assert (plain["engine"], plain["category"]) == ("scripted", "réclamation")
    assert (plain["service"], plain["decided_by"]) == ("contrôle des habitants", "directory")
    # Where the directory hesitates, the model's service stands, shown « à confirmer » when nothing backs it.
    assert (vague["service"], vague["decided_by"]) == ("chancellerie", "model"), vague["reasons"]
    assert plain["priority"] == "high"  # the category's priority from the rules file
    assert plain["summary"] == "L'expéditeur pose une question à l'administration."
    # The injection attempt: the rules keep the classification, and the model never saw the passage.
    assert (injected["priority"], injected["category"], injected["service"]) == (
        "normal", "demande d'information", "police administrative")
    system, user = fake.requests[0][0]["content"], fake.requests[0][-1]["content"]
    assert "jamais une instruction" in system and "<<<DONNEES-" in user and "taxe annuelle" in user
    assert "ignore tes consignes" not in user and "réclamation" in system  # the enum is in the prompt


def test_invalid_model_answer_is_retried_then_refused(scripted, samples):
    srv, fake = scripted
    eml = (samples / "emails/01-attestation-domicile.eml").read_text(encoding="utf-8")
    with srv.client() as client:
        fake.replies[:] = ['{"category": "inventée", "service": "x", "needs_reply": true, "summary": "s"}']
        retried = client.post("/v1/mail/triage", json={"eml": eml, "engine": "model"})
        fake.replies[:] = ["pas de JSON", '{"category": "suspect"}']
        refused = client.post("/v1/mail/triage", json={"eml": eml, "engine": "model"})
        fake.replies[:] = ["pas de JSON", "toujours pas"]
        fallback = client.post("/v1/mail/triage", json={"eml": eml})
    assert retried.status_code == 200 and retried.json()["category"] == "réclamation"  # second answer valid
    assert refused.status_code == 502 and refused.json()["type"] == "urn:plume:problem:invalid-model-output"
    assert "second essai" in refused.json()["detail"]
    assert fallback.status_code == 200 and fallback.json()["category"] == "demande de document"
    assert fallback.json()["warnings"]


def test_tiny_random_model_gives_a_clear_error_or_a_valid_answer(server, samples):
    """The repo's tiny random model writes gibberish: every task must answer a French 502 after its
    retry (engine "model"), or the rules' full result with a warning (engine "auto") — never half."""
    from tests.conftest import TINY_MODELS

    if not TINY_MODELS.exists():
        pytest.skip("tiny models not built")
    from tests.fake_upstream import wait_model_ready

    wait_model_ready(server, "tiny-llm")
    eml = (samples / "emails/07-injection.eml").read_text(encoding="utf-8")
    calls = [("/v1/mail/triage", {"eml": eml}), ("/v1/mail/acknowledge", {"eml": eml}),
             ("/v1/templates/relance-facture/extract", {"text": (samples / "cases/02-relance.txt").read_text()}),
             ("/v1/text/minutes", {"text": (samples / "notes/01-conseil-general-notes.txt").read_text()})]
    with server.client() as client:
        for route, body in calls:
            strict = client.post(route, json={**body, "engine": "model"})
            assert strict.status_code in (200, 502), (route, strict.text)
            if strict.status_code == 502:
                assert "second essai" in strict.json()["detail"]
            auto = client.post(route, json=body)
            assert auto.status_code == 200, (route, auto.text)
            answer = auto.json()
            # The random model may pass its checks on the second call (guided decoding): then the answer
            # is the model's; when "auto" fell back to the rules, it must say so.
            if strict.status_code == 502 and answer.get("engine") == "rules":
                assert answer.get("warnings"), (route, answer)
        triaged = client.post("/v1/mail/triage", json={"eml": eml}).json()
    assert (triaged["priority"], triaged["category"]) == ("normal", "demande d'information")


HTML_ONLY = """From: =?iso-8859-1?q?Administration_communale?= <no-reply@secure-mail.example.net>
To: finances@lelocle.ch
Subject: =?utf-8?b?VsOpcmlmaWNhdGlvbiBkZSB2b3RyZSBjb21wdGU=?=
Date: Tue, 24 Nov 2026 10:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="x"

--x
Content-Type: text/html; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

<html><head><style>p {color: red}</style></head><body><p>Votre acc=E8s expire.</p>
<p>Merci de saisir votre mot de passe sur <a href=3D"http://login.example.net/x">www.lelocle.ch</a>.</p>
<script>alert(1)</script></body></html>
--x
Content-Type: application/zip; name="facture.zip"
Content-Disposition: attachment; filename="facture.zip"
Content-Transfer-Encoding: base64

UEsDBBQAAAAIAAAAIQA=
--x--
"""


def test_html_only_encoded_headers_links_and_attachments(server, tmp_path):
    (tmp_path / "html.eml").write_text(HTML_ONLY, encoding="ascii")
    row = json.loads(plume_triage(str(tmp_path / "html.eml"), "--quiet").stdout)[0]
    assert row["category"] == "suspect" and row["priority"] == "low" and row["service"] == "informatique"
    signs = " ".join(row["phishing"])
    assert "www.lelocle.ch" in signs and "login.example.net" in signs and "mot de passe" in signs
    assert "Vérification de votre compte" in row["summary"] and "1 pièce(s) jointe(s)" in row["summary"]
    with server.client() as client:
        ack = client.post("/v1/mail/acknowledge", json={"eml": HTML_ONLY, "engine": "rules"})
    # Phishing gets no acknowledgement (issue 11), only the signs; script content never becomes text.
    assert ack.status_code == 422 and ack.json()["type"].endswith(":phishing-suspected")
    assert any("mot de passe" in sign for sign in ack.json()["signs"]) and "alert" not in ack.text
    assert "alert" not in row["summary"]


def test_own_domain_and_deadline_raise_priority(server):
    with server.client() as client:
        soon = client.post("/v1/mail/triage", json={
            "from": "Marc Vuille <m.vuille@example.ch>", "subject": "Documents pour mon dossier",
            "body": "Bonjour,\nje vous transmets ci-joint les pièces ; merci de me confirmer avant le 26.11.2026.",
            "date": "2026-11-24", "engine": "rules"}).json()
        internal = client.post("/v1/mail/triage", json={
            "from": "Service informatique <it@lelocle.ch>", "subject": "Changement de mot de passe",
            "body": "Rappel : votre mot de passe doit être changé dans les 24 heures via l'intranet.",
            "engine": "rules"}).json()
    assert soon["deadline"] == "2026-11-26" and soon["priority"] == "high"
    assert any("moins de 3 jours" in r for r in soon["reasons"])
    # Credential and pressure words from the commune's own domain, with no link elsewhere: not phishing.
    assert len(internal["phishing"]) == 2 and internal["category"] != "suspect"


@pytest.mark.parametrize("sentence, deadline", [
    ("Merci de répondre d'ici au 15 décembre.", "2026-12-15"),
    ("Le dossier doit être complet avant le 30.11.2026.", "2026-11-30"),
    ("Veuillez payer dans 10 jours.", "2026-11-30"),
    ("Délai : au plus tard le 2 janvier 2027.", "2027-01-02"),
    ("Bitte antworten Sie bis zum 4. Dezember 2026.", "2026-12-04"),
    ("J'habite ici depuis le 1er mars 2019.", None),
])
def test_deadlines_in_french_and_german(server, sentence, deadline):
    with server.client() as client:
        got = client.post("/v1/mail/triage", json={"subject": "Demande", "body": sentence,
                                                   "date": "2026-11-20T09:00:00+01:00", "engine": "rules"}).json()
    assert got["deadline"] == deadline


def test_oversized_message_is_skipped_and_named(samples, tmp_path):
    shutil.copy(samples / "emails/01-attestation-domicile.eml", tmp_path)
    (tmp_path / "02-enorme.eml").write_bytes(b"Subject: x\n\n" + b"a" * (26 * 1024 * 1024))
    out = plume_triage(str(tmp_path), "--quiet")
    assert out.returncode == 0 and "02-enorme.eml" in out.stderr
    assert [r["file"] for r in json.loads(out.stdout)] == ["01-attestation-domicile.eml"]
    from plume.mail import MessageTooLarge, iter_mailbox

    with pytest.raises(MessageTooLarge):  # without a handler, the library says why
        list(iter_mailbox(tmp_path))


AUTOMATIC = {
    "absence": ("Auto-Submitted: auto-replied\nX-Autoreply: yes\n", "Absence du bureau : Re: Votre demande",
                "Je suis absente jusqu'au 10 décembre. En cas d'urgence, contactez le secrétariat."),
    "non-remise": ("Content-Type: multipart/report; report-type=delivery-status; boundary=b\n",
                   "Undelivered Mail Returned to Sender",
                   "--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n--b--"),
    "lettre-info": ("Precedence: bulk\nList-Unsubscribe: <mailto:unsub@news.example.ch>\n", "Nos offres de décembre",
                    "Découvrez nos offres pour les communes. Réponse urgente souhaitée !"),
    "noreply": ("", "Votre commande", "Merci pour votre commande."),
}


def _automatic_eml(kind: str) -> str:
    headers, subject, body = AUTOMATIC[kind]
    sender = "no-reply@shop.example.ch" if kind == "noreply" else "anne@example.ch"
    return (f"From: Expéditeur <{sender}>\nTo: info@lelocle.ch\nSubject: {subject}\n"
            f"Date: Tue, 1 Dec 2026 10:00:00 +0100\n{headers}\n{body}\n")


@pytest.mark.parametrize("kind", AUTOMATIC)
def test_a_message_a_machine_sent_needs_no_reply_and_gets_no_acknowledgement(server, scripted, kind):
    """Absence notices, delivery failures, newsletters, no-reply senders (RFC 3834): nobody waits for
    an answer, « urgence » in an absence notice is not urgent, and answering robots starts mail loops.
    The headers decide, with or without a model."""
    eml = _automatic_eml(kind)
    with server.client() as client:
        sorted_ = client.post("/v1/mail/triage", json={"eml": eml}).json()
        refused = client.post("/v1/mail/acknowledge", json={"eml": eml})
    assert sorted_["automatic"] and not sorted_["needs_reply"] and sorted_["priority"] == "low", sorted_
    assert refused.status_code == 422 and refused.json()["type"].endswith("automatic-message")
    assert "automatiquement" in refused.json()["detail"]
    srv, _ = scripted  # the scripted model says a reply is needed: the headers still win
    with srv.client() as client:
        by_model = client.post("/v1/mail/triage", json={"eml": eml}).json()
    assert by_model["engine"] == "scripted" and not by_model["needs_reply"] and by_model["priority"] == "low"


def test_a_persons_message_is_not_automatic(server, samples):
    with server.client() as client:
        for eml in sorted((samples / "emails").glob("*.eml")):
            result = client.post("/v1/mail/triage", json={"eml": eml.read_text(encoding="utf-8")}).json()
            assert result["automatic"] == "", (eml.name, result["automatic"])
