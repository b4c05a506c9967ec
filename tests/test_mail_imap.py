"""The mailbox worker against a real Dovecot (tests/dovecot.py): keywords, moves, drafts parsed back,
restarts without duplicates, a crash before flagging, a server that dies mid-pass, a renumbered
folder (UIDVALIDITY), STARTTLS and certificate checks, IDLE, and the `plume mail` commands."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import tomllib
from datetime import date, timedelta
from pathlib import Path

import imapclient
import pytest

from plume.config import MailAccount, Settings, load_settings
from plume.mailbox import worker as worker_mod
from plume.mailbox.sorting import keyword
from plume.mailbox.state import State, flush_daily, state_path
from plume.mailbox.worker import MailWorker
from plume.ops.usage import usage_rows
from plume.security.audit import AuditLog
from plume.tasks.triage import triage_by_rules
from tests import dovecot as dovecot_mod
from tests.conftest import REPO, require_tool



@pytest.fixture(autouse=True, scope="module")
def _dovecot_installed():
    require_tool(dovecot_mod.available(), "dovecot-imapd (with openssl)")  # fails in CI, skips elsewhere


PRIORITY = {"urgent": "Plume/urgent", "high": "Plume/prioritaire", "normal": "Plume/normal", "low": "Plume/peu-prioritaire"}
FOLDERS_TOML = """
[services]
"travaux publics" = "Services/Travaux publics"
"contrôle des habitants" = "Services/Contrôle des habitants"
[categories]
suspect = "Quarantaine"
"""

# Messages no mail client would send, but a mailbox receives: undecodable headers and charsets, no
# From/Date at all, a lone CR in a header, a MIME tree that lies about its boundary.
MALFORMED = [
    b"From: =?x-unknown?Q?=FF=FE?= <bad@@example..com>\r\nSubject: =?utf-8?B?////?= =?iso-8859-1?Q?caf=E9\r\n"
    b"Date: not a date\r\nMessage-ID: <malformed-1@example.org>\r\nContent-Type: text/plain; charset=\"x-nonexistent\"\r\n"
    b"\r\n\xff\xfe\x00 corps illisible \xe9\xe8\r\n",
    b"Subject: sans expediteur\r\nContent-Type: multipart/mixed; boundary=\"nowhere\"\r\n\r\n--elsewhere\r\n"
    b"Content-Type: text/html\r\n\r\n<p>Bonjour<p><a href='http://x'>lien\r\n",
    b"X-Only-Header: 1\r\n\r\n",
]


@pytest.fixture
def server():
    d = dovecot_mod.Dovecot()
    d.start()
    yield d
    d.remove()


def account_for(server, **extra) -> MailAccount:
    return MailAccount(host="127.0.0.1", port=server.port, user=server.user, password_env="PLUME_TEST_IMAP_PASSWORD",
                       ca_file=server.ca, folders=["INBOX"], drafts_folder="Drafts", **extra)


@pytest.fixture
def settings(tmp_path, server, monkeypatch):
    monkeypatch.setenv("PLUME_TEST_IMAP_PASSWORD", server.password)
    (tmp_path / "mail-folders.toml").write_text(FOLDERS_TOML, encoding="utf-8")
    return Settings(data_dir=tmp_path / "data", mail=[account_for(server, move=True,
                                                                  rules_file=tmp_path / "mail-folders.toml")])


def client_for(server) -> imapclient.IMAPClient:
    import ssl

    c = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl_context=ssl.create_default_context(cafile=str(server.ca)))
    c.login(server.user, server.password)
    return c


def load(server, samples: Path, malformed: bool = True, folder: str = "INBOX") -> dict[str, bytes]:
    """Append the sample e-mails (and the malformed ones); returns name → raw message."""
    messages = {p.name: p.read_bytes() for p in sorted((samples / "emails").glob("*.eml"))}
    if malformed:
        messages.update({f"malformed-{i}": raw for i, raw in enumerate(MALFORMED, 1)})
    with client_for(server) as c:
        if not c.folder_exists(folder):
            c.create_folder(folder)
        for raw in messages.values():
            c.append(folder, raw)
    return messages


def mailbox_listing(server) -> dict[str, list[dict]]:
    """Folder → messages (Message-ID, keywords, system flags); drafts parsed back."""
    listing = {}
    with client_for(server) as c:
        for flags, _, name in c.list_folders():
            if b"\\Noselect" in flags:
                continue
            info = c.select_folder(name, readonly=True)
            uids = c.search("ALL")
            items = c.fetch(uids, ["FLAGS", "BODY.PEEK[]"]) if uids else {}
            listing[name] = []
            for uid in sorted(items):
                msg = email.message_from_bytes(items[uid][b"BODY[]"], policy=email.policy.default)
                flags = [f.decode() if isinstance(f, bytes) else str(f) for f in items[uid][b"FLAGS"]]
                listing[name].append({"uid": uid, "id": str(msg.get("Message-ID", "")), "flags": flags, "msg": msg})
            assert info[b"UIDVALIDITY"]
    return listing


def by_id(listing) -> dict[str, tuple[str, dict]]:
    return {m["id"]: (folder, m) for folder, items in listing.items() if folder != "Drafts" for m in items}


def sample_ids(samples) -> dict[str, str]:
    ids = {}
    for p in sorted((samples / "emails").glob("*.eml")):
        ids[p.name] = str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Message-ID"])
    return ids


def expected(samples) -> dict:
    return tomllib.loads((samples / "emails" / "expected.toml").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------- tests
def test_keywords_are_imap_atoms_without_accents():
    assert keyword("contrôle des habitants") == "Plume/controle-des-habitants"
    assert keyword("demande d'autorisation") == "Plume/demande-d-autorisation"
    assert keyword("Öffentliche (Arbeiten) * \"x\" ]") == "Plume/offentliche-arbeiten-x"
    assert keyword("urgent", "Mairie du Locle/") == "MairieduLocle/urgent"
    assert re.fullmatch(r"[A-Za-z0-9/_.+-]+", keyword("été % 100 {x}\\"))


def test_configuration_reads_mail_accounts(tmp_path):
    config = tmp_path / "plume.toml"
    config.write_text("""
[[mail]]
host = "imap.lelocle.ch"
port = 143
tls = "starttls"
user = "greffe@lelocle.ch"
password_file = "/etc/plume/imap-greffe"
folders = ["INBOX", "Guichet"]
drafts_folder = "Brouillons"
move = true
keywords = true
""", encoding="utf-8")
    settings = load_settings(config, data_dir=tmp_path)
    (account,) = settings.mail
    assert (account.tls, account.port, account.folders, account.drafts_folder, account.move) == \
        ("starttls", 143, ["INBOX", "Guichet"], "Brouillons", True)
    assert account.password_file == Path("/etc/plume/imap-greffe") and account.label == "greffe"
    config.write_text(config.read_text().replace('"starttls"', '"ssl"'), encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "plume", "mail", "once", "--config", str(config), "--data", str(tmp_path)],
                         capture_output=True, text=True, cwd=REPO, timeout=60)
    assert bad.returncode == 2 and "Configuration illisible" in bad.stderr and "tls" in bad.stderr


def test_one_pass_flags_moves_and_drafts_without_deleting_anything(server, settings, samples, caplog):
    messages = load(server, samples)
    caplog.set_level(logging.INFO, logger="plume.mail")
    report = MailWorker(settings, settings.mail[0]).run_pass()
    assert report.ok, report.error
    counts = report.counts["INBOX"]
    assert counts["trie"] + counts["ignore"] == len(messages) and counts["trie"] >= 8

    listing = mailbox_listing(server)
    ids, found, want = sample_ids(samples), by_id(listing), expected(samples)
    # Nothing deleted: every message appended is still somewhere, none twice.
    assert sum(len(v) for k, v in listing.items() if k != "Drafts") == len(messages)
    for name, message_id in ids.items():
        folder, msg = found[message_id]
        flags = msg["flags"]
        assert "Plume/trie" in flags and PRIORITY[want[name]["priority"]] in flags, (name, flags)
        assert keyword(want[name]["service"]) in flags and keyword(want[name]["category"]) in flags, (name, flags)
        assert "\\Seen" not in flags, "the worker reads with BODY.PEEK: the clerk still sees the message as new"
    # Moves per the rules file; the rest stays in the inbox.
    assert found[ids["02-fuite-eau-urgent.eml"]][0] == "Services/Travaux publics"
    assert found[ids["01-attestation-domicile.eml"]][0] == "Services/Contrôle des habitants"
    assert found[ids["06-phishing.eml"]][0] == "Quarantaine"
    assert found[ids["03-reclamation-dechets.eml"]][0] == "INBOX"
    assert "Plume/hameconnage" in found[ids["06-phishing.eml"]][1]["flags"]
    assert "Plume/injection" in found[ids["07-injection.eml"]][1]["flags"]
    with client_for(server) as c:  # mail clients list subscribed folders only
        subscribed = {name for _, _, name in c.list_sub_folders()}
    assert {"Services/Travaux publics", "Services/Contrôle des habitants", "Quarantaine"} <= subscribed

    # Drafts: one per message that needs a reply (never for phishing), threaded, in the sender's language.
    drafts = listing["Drafts"]
    needing = {n for n, w in want.items() if w["needs_reply"] and w["category"] != "suspect"}
    replied = {str(d["msg"]["In-Reply-To"]) for d in drafts}
    assert replied >= {ids[n] for n in needing} and ids["06-phishing.eml"] not in replied
    for draft in drafts:
        msg, flags = draft["msg"], draft["flags"]
        assert "\\Draft" in flags
        assert str(msg["Subject"]).startswith("Re: ") or str(msg["In-Reply-To"]) not in ids.values()
        assert str(msg["In-Reply-To"]) in str(msg["References"])
        reference = str(msg["X-Plume-Reference"])
        assert re.fullmatch(r"AR-\d{4}-\d{4}", reference) and reference in msg.get_content()
    german = next(d["msg"] for d in drafts if str(d["msg"]["In-Reply-To"]) == ids["05-deutsch-anfrage.eml"])
    assert german["Content-Language"] == "de" and "wir bestätigen den Eingang" in german.get_content()
    assert str(german["To"]) == "t.keller@example.de"
    french = next(d["msg"] for d in drafts if str(d["msg"]["In-Reply-To"]) == ids["01-attestation-domicile.eml"])
    assert "Nous accusons réception" in french.get_content()
    assert len({str(d["msg"]["X-Plume-Reference"]) for d in drafts}) == len(drafts)
    for name in ids:
        if name in needing:
            assert "Plume/accuse-prepare" in found[ids[name]][1]["flags"]

    # Nothing of the messages in the audit, the state or the log: counts, folders and UIDs only.
    secrets = ["Keller", "t.keller@example.de", "Parkbewilligung", "fuite", "@example"]
    for text in (settings.audit_file.read_text(), state_path(settings, settings.mail[0]).read_text(), caplog.text):
        assert not [s for s in secrets if s in text]
    audit = [json.loads(line) for line in settings.audit_file.read_text().splitlines()]
    assert {(e["folder"], e["outcome"]) for e in audit} >= {("INBOX", "trie"), ("INBOX", "brouillon"), ("INBOX", "deplace")}


def test_a_message_that_cannot_be_read_is_set_aside_and_the_others_go_on(server, settings, samples, monkeypatch, caplog):
    load(server, samples, malformed=False)
    big = b"From: a@example.org\r\nSubject: gros\r\nMessage-ID: <big@example.org>\r\n\r\n" + b"x" * 300_000
    with client_for(server) as c:
        c.append("INBOX", big)
    monkeypatch.setattr(worker_mod, "MAX_MESSAGE_BYTES", 200_000)
    real = triage_by_rules

    def classify(mail, rules):
        if "Parkbewilligung" in mail.subject:
            raise UnicodeError("boom")  # as a parser bug on one message would
        return real(mail, rules)

    caplog.set_level(logging.INFO, logger="plume.mail")
    settings.mail[0].move = False
    report = MailWorker(settings, settings.mail[0], classify=classify).run_pass()
    assert report.ok and report.counts["INBOX"]["ignore"] == 2 and report.counts["INBOX"]["trie"] == 7
    found = by_id(mailbox_listing(server))
    assert "Plume/erreur" in found["<big@example.org>"][1]["flags"]
    assert "Plume/erreur" in found["<umzug-keller@example.de>"][1]["flags"]
    assert "message ignoré (UnicodeError)" in caplog.text and "Parkbewilligung" not in caplog.text
    errors = State(state_path(settings, settings.mail[0])).data["errors"]
    assert {e["error"] for e in errors} == {"UnicodeError", "ValueError"}


def test_restart_processes_nothing_twice_and_picks_up_new_mail(server, settings, samples):
    messages = load(server, samples)
    account = settings.mail[0]
    MailWorker(settings, account).run_pass()
    before = mailbox_listing(server)
    again = MailWorker(settings, account).run_pass()  # a new process: state from disk
    assert again.ok and not again.counts, again.counts
    # Even with the state file lost, the Plume/trie keyword keeps every message from being redone.
    state_path(settings, account).unlink()
    lost = MailWorker(settings, account).run_pass()
    assert lost.counts["INBOX"]["deja-traite"] + lost.counts["INBOX"].get("ignore", 0) == len(
        [m for m in before["INBOX"]])
    after = mailbox_listing(server)
    assert len(after["Drafts"]) == len(before["Drafts"])
    assert {m["id"]: sorted(m["flags"]) for f in after for m in after[f]} == \
        {m["id"]: sorted(m["flags"]) for f in before for m in before[f]}
    # New mail: only it is triaged.
    with client_for(server) as c:
        c.append("INBOX", (samples / "emails" / "03-reclamation-dechets.eml").read_bytes().replace(
            b"Message-ID: <", b"Message-ID: <new-").replace(b"Date: ", b"Date: Mon, 30 Nov 2026 08:00:00 +0100\r\nX-Old-Date: "))
    new = MailWorker(settings, account).run_pass()
    assert new.counts["INBOX"] == {"trie": 1, "brouillon": 1}
    assert len(mailbox_listing(server)["Drafts"]) == len(before["Drafts"]) + 1
    assert len(messages) == sum(len(v) for k, v in before.items() if k != "Drafts")


class Crash(BaseException):
    """The process dies (power cut, kill -9) at this point: nothing after it runs."""


def test_a_crash_between_draft_and_flags_is_retried_without_a_second_draft(server, settings, samples, monkeypatch):
    load(server, samples, malformed=False)
    account = settings.mail[0]
    calls = {"n": 0}
    real = imapclient.IMAPClient.add_flags

    def add_flags(self, uids, flags, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash()
        return real(self, uids, flags, *args, **kwargs)

    monkeypatch.setattr(imapclient.IMAPClient, "add_flags", add_flags)
    worker = MailWorker(settings, account)
    with pytest.raises(Crash):
        worker.run_pass()
    worker.close()
    monkeypatch.setattr(imapclient.IMAPClient, "add_flags", real)
    done_before = State(state_path(settings, account)).folder("INBOX")["last_uid"]
    assert done_before < 3, "the third message was not flagged, so it is not done"
    report = MailWorker(settings, account).run_pass()
    assert report.ok and report.counts["INBOX"]["trie"] == 6
    listing = mailbox_listing(server)
    references = [str(d["msg"]["X-Plume-Reference"]) for d in listing["Drafts"]]
    assert len(references) == len(set(references)) == 5  # five samples need a reply; none drafted twice
    assert all("Plume/trie" in m["flags"] for f, items in listing.items() if f != "Drafts" for m in items)


def test_a_server_that_dies_mid_pass_loses_nothing(server, settings, samples):
    messages = load(server, samples)
    account = settings.mail[0]
    seen = {"n": 0}

    def classify(mail, rules):
        seen["n"] += 1
        if seen["n"] == 4:
            server.stop()  # SIGKILL to the whole Dovecot: every connection is cut
        return triage_by_rules(mail, rules)

    report = MailWorker(settings, account, classify=classify).run_pass()
    assert not report.ok and report.error
    state = State(state_path(settings, account)).data
    assert state["last_run"]["ok"] is False and 0 < state["folders"]["INBOX"]["last_uid"] < len(messages)
    status = subprocess.run([sys.executable, "-m", "plume", "mail", "status", "--config", str(_config(settings)),
                             "--data", str(settings.data_dir)], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "interrompu" in status.stdout
    server.start()
    report = MailWorker(settings, account).run_pass()
    assert report.ok, report.error
    listing = mailbox_listing(server)
    assert sum(len(v) for k, v in listing.items() if k != "Drafts") == len(messages)
    assert all("Plume/trie" in m["flags"] or "Plume/erreur" in m["flags"]
               for f, items in listing.items() if f != "Drafts" for m in items)
    references = [str(d["msg"]["X-Plume-Reference"]) for d in listing["Drafts"]]
    assert len(references) == len(set(references))


def test_a_renumbered_folder_is_read_again(server, settings, samples):
    account = settings.mail[0]
    account.folders, account.move = ["Guichet"], False
    load(server, samples, malformed=False, folder="Guichet")
    MailWorker(settings, account).run_pass()
    old = State(state_path(settings, account)).folder("Guichet")
    assert old["last_uid"] == 8
    # The folder is recreated (a migration, a restore): new UIDVALIDITY, UIDs start again at 1.
    with client_for(server) as c:
        c.delete_folder("Guichet")
        c.create_folder("Guichet")
        c.append("Guichet", (samples / "emails" / "01-attestation-domicile.eml").read_bytes())
        c.append("Guichet", (samples / "emails" / "08-rappel-facture.eml").read_bytes(), flags=[b"Plume/trie"])
    report = MailWorker(settings, account).run_pass()
    assert report.counts["Guichet"] == {"uidvalidity": 1, "trie": 1, "deja-traite": 1, "brouillon": 1}
    new = State(state_path(settings, account)).folder("Guichet")
    assert new["uidvalidity"] != old["uidvalidity"] and new["last_uid"] == 2


def test_starttls_certificate_and_password_file(server, tmp_path, samples, monkeypatch):
    load(server, samples, malformed=False)
    secret = tmp_path / "imap-password"
    secret.write_text(server.password + "\n")
    secret.chmod(0o600)
    account = MailAccount(host="127.0.0.1", port=server.starttls_port, tls="starttls", user=server.user,
                          password_file=secret, ca_file=server.ca, drafts=False)
    settings = Settings(data_dir=tmp_path / "data", mail=[account])
    report = MailWorker(settings, account).run_pass()
    assert report.ok and report.counts["INBOX"]["trie"] == 8
    # A certificate the client does not trust: no login, no password sent.
    account.ca_file = None
    report = MailWorker(settings, account).run_pass()
    assert not report.ok and "CERTIFICATE_VERIFY_FAILED" in report.error
    assert server.password not in report.error
    # A password file others can read is refused.
    account.ca_file = server.ca
    secret.chmod(0o644)
    report = MailWorker(settings, account).run_pass()
    assert not report.ok and "chmod 600" in report.error


def test_watch_wakes_up_on_new_mail_with_idle(server, settings, samples):
    account = settings.mail[0]
    account.move, account.idle_seconds = False, 60
    stop = threading.Event()
    worker = MailWorker(settings, account)
    thread = threading.Thread(target=worker.watch, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(1.5)  # first (empty) pass done, now in IDLE
        with client_for(server) as c:
            c.append("INBOX", (samples / "emails" / "02-fuite-eau-urgent.eml").read_bytes())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            flags = [m["flags"] for m in mailbox_listing(server)["INBOX"]]
            if flags and "Plume/urgent" in flags[0]:
                break
            time.sleep(0.3)
        assert flags and "Plume/urgent" in flags[0]
        # The server restarts (an update, a crash): the watcher reconnects and goes on.
        server.restart()
        with client_for(server) as c:
            c.append("INBOX", (samples / "emails" / "03-reclamation-dechets.eml").read_bytes())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            flags = [m["flags"] for m in mailbox_listing(server)["INBOX"]]
            if len(flags) == 2 and "Plume/voirie" in flags[1]:
                break
            time.sleep(0.5)
        assert len(flags) == 2 and "Plume/voirie" in flags[1], flags
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


# What Dovecot 2.3 announces after login, less IDLE: a server that only allows polling (some
# gateways and older Exchange set-ups do). Dovecot applies it before login too.
NO_IDLE = ("imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ UNSELECT CHILDREN "
           "NAMESPACE UIDPLUS MOVE SPECIAL-USE\n")


def test_watch_polls_a_server_without_idle_and_takes_each_message_once(tmp_path, samples, monkeypatch):
    server = dovecot_mod.Dovecot(extra_config=NO_IDLE)
    server.start()
    monkeypatch.setenv("PLUME_TEST_IMAP_PASSWORD", server.password)
    account = account_for(server, poll_seconds=1.0, idle_seconds=600)  # IDLE would wait ten minutes
    settings = Settings(data_dir=tmp_path / "data", mail=[account])
    with client_for(server) as c:
        assert not c.has_capability("IDLE")

    passes = []

    class Counting(MailWorker):
        def run_pass(self):
            report = super().run_pass()
            passes.append(report)
            return report

    stop = threading.Event()
    thread = threading.Thread(target=Counting(settings, account).watch, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while len(passes) < 3 and time.monotonic() < deadline:  # empty passes, one per poll interval
            time.sleep(0.2)
        assert len(passes) >= 3 and all(p.ok and not p.counts for p in passes), passes
        with client_for(server) as c:
            c.append("INBOX", (samples / "emails" / "03-reclamation-dechets.eml").read_bytes())
        arrived, flags = time.monotonic(), []
        while time.monotonic() < arrived + 20 and "Plume/trie" not in flags:
            time.sleep(0.2)
            flags = [f for m in mailbox_listing(server)["INBOX"] for f in m["flags"]]
        picked_up = time.monotonic() - arrived
        assert "Plume/trie" in flags and "Plume/voirie" in flags, flags
        assert picked_up < 10, f"new mail seen after {picked_up:.1f} s with a 1 s poll interval"
        later = len(passes)
        while len(passes) < later + 3 and time.monotonic() < arrived + 40:  # more passes: nothing again
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(10)
        server_listing = mailbox_listing(server)
        server.remove()
    assert not thread.is_alive()
    assert len(passes) >= later + 3
    assert sum(p.total("trie") for p in passes) == 1 and sum(p.total("brouillon") for p in passes) == 1
    assert len(server_listing["Drafts"]) == 1 and len(server_listing["INBOX"]) == 1
    triaged = [json.loads(line) for line in settings.audit_file.read_text().splitlines()]
    assert sum(e.get("count", 1) for e in triaged if e.get("outcome") == "trie") == 1  # 1 is left out


def _config(settings) -> Path:
    account = settings.mail[0]
    path = settings.data_dir.parent / "plume.toml"
    path.write_text(f"""
[[mail]]
host = "127.0.0.1"
port = {account.port}
user = "{account.user}"
password_env = "{account.password_env}"
ca_file = "{account.ca_file}"
folders = ["INBOX"]
drafts_folder = "Drafts"
move = true
rules_file = "{account.rules_file}"
""", encoding="utf-8")
    return path


def test_cli_once_status_and_the_daily_summary_in_the_usage_report(server, settings, samples):
    load(server, samples)
    config = _config(settings)
    cmd = [sys.executable, "-m", "plume", "mail"]
    env = {**os.environ, "PLUME_TEST_IMAP_PASSWORD": server.password}
    once = subprocess.run([*cmd, "once", "--config", str(config), "--data", str(settings.data_dir)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert once.returncode == 0, once.stderr
    assert "INBOX : brouillon 5" in once.stdout
    status = subprocess.run([*cmd, "status", "--json", "--config", str(config), "--data", str(settings.data_dir)],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    info = json.loads(status.stdout)[server.user]
    assert info["last_run"]["ok"] is True and info["folders"]["INBOX"]["last_uid"] == 11
    assert server.password not in once.stdout + once.stderr + status.stdout

    # The day's counts become one audit line per service and priority, which the usage report counts.
    state = State(state_path(settings, settings.mail[0]))
    assert flush_daily(state, AuditLog(settings.audit_file), "commune", before=date.today() + timedelta(days=1)) >= 8
    rows = usage_rows(AuditLog(settings.audit_file).read(), None, None)
    triaged = {r.service: r.requests for r in rows if r.task == "triage"}
    assert sum(triaged.values()) == 11 and triaged["travaux publics"] == 1
    assert sum(r.requests for r in rows if r.task == "acknowledge") == 5


def test_cli_watch_stops_cleanly_on_sigterm_as_systemd_stops_it(server, settings, samples):
    import signal

    messages = load(server, samples)
    config, data = _config(settings), str(settings.data_dir)
    cmd = [sys.executable, "-m", "plume", "mail"]
    env = {**os.environ, "PLUME_TEST_IMAP_PASSWORD": server.password}
    watch = subprocess.Popen([*cmd, "watch", "--config", str(config), "--data", data], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        state, deadline = state_path(settings, settings.mail[0]), time.monotonic() + 60
        while time.monotonic() < deadline and watch.poll() is None:
            if state.exists() and (json.loads(state.read_text()).get("last_run") or {}).get("ok"):
                break
            time.sleep(0.3)
        time.sleep(1)  # the pass is saved; now waiting in IDLE
        before = mailbox_listing(server)
        assert sum(len(v) for k, v in before.items() if k != "Drafts") == len(messages)
        assert len(before["Drafts"]) == 5
        sent = time.monotonic()
        watch.send_signal(signal.SIGTERM)
        out, err = watch.communicate(timeout=30)
        stopped = time.monotonic() - sent
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.communicate()
    assert watch.returncode == 0, err
    assert "Traceback" not in err and server.password not in out + err
    assert stopped < 10, f"plume mail watch took {stopped:.1f} s to stop"
    # The state was saved: a restart processes nothing twice.
    once = subprocess.run([*cmd, "once", "--config", str(config), "--data", data],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert once.returncode == 0, once.stderr
    assert "rien de nouveau" in once.stdout, once.stdout
    after = mailbox_listing(server)
    assert len(after["Drafts"]) == 5
    assert {m["id"]: sorted(m["flags"]) for f in after for m in after[f]} == \
        {m["id"]: sorted(m["flags"]) for f in before for m in before[f]}
    status = subprocess.run([*cmd, "status", "--config", str(config), "--data", data],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert status.returncode == 0 and "dernier passage jamais" not in status.stdout
    assert "INBOX : dernier UID 11" in status.stdout and "trie " in status.stdout, status.stdout


def test_a_stop_request_ends_a_long_pass_between_two_messages(server, settings, samples):
    """A large backlog must not outlast systemd's stop timeout: the watcher stops after the message
    in hand, saves where it is, and the next start takes the rest, each message once."""
    load(server, samples, malformed=False)
    account = settings.mail[0]
    stop, seen = threading.Event(), []

    def classify(mail, rules):
        seen.append(mail.subject)
        if len(seen) == 3:
            stop.set()  # as the SIGTERM handler of `plume mail watch` does
        return triage_by_rules(mail, rules)

    thread = threading.Thread(target=MailWorker(settings, account, classify=classify).watch, args=(stop,), daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive()
    assert len(seen) == 3
    state = State(state_path(settings, account)).data
    assert state["folders"]["INBOX"]["last_uid"] == 3 and state["last_run"]["ok"] is True
    assert state["last_run"]["counts"]["INBOX"]["trie"] == 3
    report = MailWorker(settings, account).run_pass()
    assert report.ok and report.counts["INBOX"]["trie"] == 5
    listing = mailbox_listing(server)
    assert all("Plume/trie" in m["flags"] for f, items in listing.items() if f != "Drafts" for m in items)
    references = [str(d["msg"]["X-Plume-Reference"]) for d in listing["Drafts"]]
    assert len(references) == len(set(references)) == 5


def test_plume_serve_watches_the_mailbox_and_uses_the_model(server, settings, samples, tmp_path):
    """`plume serve` with [[mail]] runs the watcher beside the API; with a model installed for triage,
    the model's category becomes a keyword, and the service the one the directory is sure of (it comes
    before the model's in the order of trust: plume.routing.router), over real HTTP with a scripted model."""
    from tests.conftest import start_server
    from tests.fake_upstream import MY_TASKS, FakeUpstream, good_answer, wait_model_ready

    def answer(messages):  # the usual scripted answers, with a reply expected for the triage
        if "Tu tries le courrier" in messages[0]["content"]:
            return json.dumps({**json.loads(good_answer(messages)), "needs_reply": True}, ensure_ascii=False)
        return good_answer(messages)

    fake = FakeUpstream(answer)
    (tmp_path / "srv").mkdir()
    plume = start_server(tmp_path / "srv", "--config", str(_config(settings)),
                         "--models", str(fake.catalog(tmp_path / "models.toml", MY_TASKS)),
                         env={"PLUME_TEST_IMAP_PASSWORD": server.password})
    try:
        wait_model_ready(plume)
        with client_for(server) as c:
            c.append("INBOX", (samples / "emails" / "03-reclamation-dechets.eml").read_bytes())
        deadline, flags = time.monotonic() + 30, []
        while time.monotonic() < deadline and "Plume/trie" not in flags:
            time.sleep(0.5)
            flags = [f for m in mailbox_listing(server)["INBOX"] for f in m["flags"]]
        # The scripted model answers « réclamation » / « chancellerie »; the directory is sure of « voirie ».
        assert "Plume/voirie" in flags and "Plume/reclamation" in flags and "Plume/chancellerie" not in flags, flags
        # The draft names the service that handles the mail, like the keyword.
        (draft,) = mailbox_listing(server)["Drafts"]
        assert "Chancellerie communale" not in draft["msg"].get_content()
        assert any("Tu tries le courrier" in r[0]["content"] for r in fake.requests)
    finally:
        plume.stop()
        fake.stop()
    assert "Traceback" not in plume.log.read_text()


def test_without_move_the_message_is_copied_never_deleted(server, settings, samples, monkeypatch):
    """A server without MOVE (RFC 6851) would need COPY + \\Deleted + EXPUNGE: Plume only copies."""
    load(server, samples, malformed=False)
    real = imapclient.IMAPClient.has_capability
    monkeypatch.setattr(imapclient.IMAPClient, "has_capability",
                        lambda self, cap: False if cap.upper() == "MOVE" else real(self, cap))
    assert MailWorker(settings, settings.mail[0]).run_pass().ok
    listing = mailbox_listing(server)
    ids = sample_ids(samples)
    inbox = {m["id"]: m["flags"] for m in listing["INBOX"]}
    copied = {m["id"] for m in listing["Services/Travaux publics"]}
    assert len(inbox) == 8 and ids["02-fuite-eau-urgent.eml"] in copied
    assert "\\Deleted" not in inbox[ids["02-fuite-eau-urgent.eml"]] and "Plume/urgent" in inbox[ids["02-fuite-eau-urgent.eml"]]


def test_the_first_pass_takes_the_recent_backlog_not_years_of_history(server, settings, samples):
    from datetime import datetime

    with client_for(server) as c:
        c.append("INBOX", (samples / "emails" / "03-reclamation-dechets.eml").read_bytes(), msg_time=datetime(2020, 3, 1))
        c.append("INBOX", (samples / "emails" / "02-fuite-eau-urgent.eml").read_bytes())
    account = settings.mail[0]
    account.move = False
    report = MailWorker(settings, account).run_pass()
    assert report.counts["INBOX"]["trie"] == 1
    flags = {m["id"]: m["flags"] for m in mailbox_listing(server)["INBOX"]}
    ids = sample_ids(samples)
    assert "Plume/trie" in flags[ids["02-fuite-eau-urgent.eml"]]
    assert not [f for f in flags[ids["03-reclamation-dechets.eml"]] if f.startswith("Plume/")]


def test_xoauth2_with_a_token_file_refreshed_by_another_tool(tmp_path, samples):
    """Microsoft 365 needs OAuth2: Plume logs in with XOAUTH2 and the access token another tool keeps
    fresh in a file. Dovecot checks the token at a local introspection endpoint (RFC 7662)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    valid = {"token-1"}

    class Introspection(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            token = dict(p.split("=", 1) for p in body.split("&") if "=" in p).get("token", "")
            out = json.dumps({"active": token in valid, "username": dovecot_mod.USER}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    idp = ThreadingHTTPServer(("127.0.0.1", 0), Introspection)
    threading.Thread(target=idp.serve_forever, daemon=True).start()
    server = dovecot_mod.Dovecot(oauth2_introspection_url=f"http://127.0.0.1:{idp.server_address[1]}/introspect")
    server.start()
    try:
        load(server, samples, malformed=False)
        token = tmp_path / "token"
        token.write_text("token-1\n")
        token.chmod(0o600)
        account = MailAccount(host="127.0.0.1", port=server.port, user=server.user, auth="xoauth2",
                              password_file=token, ca_file=server.ca, drafts=False)
        settings = Settings(data_dir=tmp_path / "data", mail=[account])
        report = MailWorker(settings, account).run_pass()
        assert report.ok and report.counts["INBOX"]["trie"] == 8
        valid.clear()  # the token expired and nothing refreshed it
        report = MailWorker(settings, account).run_pass()
        assert not report.ok and "token-1" not in report.error
        valid.add("token-2")  # the refresher wrote a new one: read at the next connection
        token.write_text("token-2\n")
        with client_for(server) as c:
            c.append("INBOX", (samples / "emails" / "02-fuite-eau-urgent.eml").read_bytes().replace(
                b"Message-ID: <", b"Message-ID: <again-"))
        assert MailWorker(settings, account).run_pass().counts["INBOX"]["trie"] == 1
    finally:
        server.remove()
        idp.shutdown()


def test_two_workers_never_work_on_one_mailbox_at_once(server, settings, samples):
    load(server, samples, malformed=False)
    account = settings.mail[0]
    held = MailWorker(settings, account)._lock()  # as `plume mail watch` holds it during its pass
    try:
        report = MailWorker(settings, account).run_pass()
        assert not report.ok and "en cours" in report.error and not report.counts
    finally:
        held.close()
    assert MailWorker(settings, account).run_pass().counts["INBOX"]["trie"] == 8


def test_cli_once_with_a_model(server, settings, samples):
    from tests.fake_upstream import MY_TASKS, FakeUpstream, good_answer

    with client_for(server) as c:
        c.append("INBOX", (samples / "emails" / "03-reclamation-dechets.eml").read_bytes())
        c.append("INBOX", (samples / "emails" / "06-phishing.eml").read_bytes())
    fake = FakeUpstream(good_answer)
    try:
        catalog = fake.catalog(settings.data_dir.parent / "models.toml", MY_TASKS)
        once = subprocess.run([sys.executable, "-m", "plume", "mail", "once", "--config", str(_config(settings)),
                               "--data", str(settings.data_dir), "--models", str(catalog)], capture_output=True,
                              text=True, cwd=REPO, env={**os.environ, "PLUME_TEST_IMAP_PASSWORD": server.password},
                              timeout=180)
    finally:
        fake.stop()
    assert once.returncode == 0, once.stderr
    found = by_id(mailbox_listing(server))
    ids = sample_ids(samples)
    # The scripted model says « réclamation » / « chancellerie », the directory is sure of « voirie »; on the
    # phishing message the rules keep the last word.
    flags = found[ids["03-reclamation-dechets.eml"]][1]["flags"]
    assert "Plume/voirie" in flags and "Plume/reclamation" in flags, flags
    assert "Plume/hameconnage" in found[ids["06-phishing.eml"]][1]["flags"]
    assert found[ids["06-phishing.eml"]][0] == "Quarantaine"


class CuttingProxy:
    """A TCP proxy in front of Dovecot that closes both sides once `cut_after` bytes came from the
    server: the TLS stream ends in the middle of a response, as when a firewall or a load balancer
    drops the connection."""

    def __init__(self, port: int, cut_after: int | None) -> None:
        import socket

        self.target, self.cut_after, self.sent = port, cut_after, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source, sink, from_server: bool) -> None:
        try:
            while data := source.recv(4096):
                cut = from_server and self.cut_after is not None and self.sent + len(data) >= self.cut_after
                if cut:
                    data = data[:self.cut_after - self.sent]
                self.sent += len(data) if from_server else 0
                sink.sendall(data)
                if cut:
                    break
        except OSError:
            pass
        import socket

        for s in (source, sink):
            try:  # shutdown, not only close: it sends FIN now and wakes the other pump's recv
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.listener.close()


def test_a_connection_cut_in_the_middle_of_a_response_loses_nothing(server, settings, samples):
    messages = load(server, samples)
    account = settings.mail[0]
    proxy = CuttingProxy(server.port, cut_after=17_000)  # a whole pass is about 22 kB: cut in the middle of the per-message work
    account.port = proxy.port
    try:
        report = MailWorker(settings, account).run_pass()
        assert not report.ok and report.error and report.total("trie") < len(messages)
        proxy.cut_after = None
        report = MailWorker(settings, account).run_pass()
        assert report.ok, report.error
    finally:
        proxy.close()
    listing = mailbox_listing(server)
    assert sum(len(v) for k, v in listing.items() if k != "Drafts") == len(messages)
    assert all("Plume/trie" in m["flags"] or "Plume/erreur" in m["flags"]
               for f, items in listing.items() if f != "Drafts" for m in items)
    references = [str(d["msg"]["X-Plume-Reference"]) for d in listing["Drafts"]]
    assert len(references) == len(set(references)) == 5


def test_without_keywords_as_on_exchange_the_drafts_are_still_never_doubled(server, settings, samples):
    """keywords = false behaves as a server that refuses keywords (Exchange): the state file is the
    record; with it lost, the messages are triaged again but no second draft is added."""
    load(server, samples, malformed=False)
    account = settings.mail[0]
    account.keywords, account.move = False, False
    assert MailWorker(settings, account).run_pass().counts["INBOX"]["trie"] == 8
    listing = mailbox_listing(server)
    assert not [f for m in listing["INBOX"] for f in m["flags"] if f.startswith("Plume/")]
    assert len(listing["Drafts"]) == 5
    assert not MailWorker(settings, account).run_pass().counts  # the state file: nothing again
    state_path(settings, account).unlink()
    assert MailWorker(settings, account).run_pass().counts["INBOX"]["trie"] == 8
    assert len(mailbox_listing(server)["Drafts"]) == 5


ABSENCE = (b"From: Anne Droz <anne@example.ch>\r\nTo: info@lelocle.ch\r\nSubject: Absence du bureau : Re: Votre demande\r\n"
           b"Message-ID: <absence-1@example.ch>\r\nDate: Mon, 30 Nov 2026 09:00:00 +0100\r\n"
           b"Auto-Submitted: auto-replied\r\n\r\nJe suis absente jusqu'au 10 decembre. En cas d'urgence, "
           b"contactez le secretariat.\r\n")


def test_an_absence_notice_is_marked_automatic_and_gets_no_draft(server, settings, samples):
    """Drafting an acknowledgement for every absence notice would fill Drafts with answers to robots
    (and, sent, start a mail loop): marked Plume/automatique, low priority, no draft."""
    with client_for(server) as c:
        c.append("INBOX", ABSENCE)
        c.append("INBOX", (samples / "emails" / "03-reclamation-dechets.eml").read_bytes())
    report = MailWorker(settings, settings.mail[0]).run_pass()
    assert report.ok
    listing = mailbox_listing(server)
    folder, absence = by_id(listing)["<absence-1@example.ch>"]
    assert "Plume/automatique" in absence["flags"] and "Plume/peu-prioritaire" in absence["flags"]
    assert "Plume/urgent" not in absence["flags"] and "Plume/accuse-prepare" not in absence["flags"]
    drafts = listing["Drafts"]
    assert len(drafts) == 1 and "Absence" not in str(drafts[0]["msg"]["Subject"])
