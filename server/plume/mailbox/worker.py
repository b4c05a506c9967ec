"""The mailbox worker: triage in place over IMAP (docs/mailbox.md).

For each configured folder it reads the messages that arrived since its last pass, triages them
(the commune's rules, or the model when one is installed), writes the result back in the mailbox as
keywords (`Plume/urgent`, `Plume/controle-des-habitants`…), optionally moves the message to its
service's folder, and prepares the acknowledgement as a reply in Drafts. It never sends and never
deletes anything.

Safety across restarts: UIDVALIDITY and the last UID done are kept per folder in the data folder
(written atomically after each batch of messages); a message is done only once its keywords are stored, so a
crash before that retries it on the next pass; the `Plume/trie` keyword on the message and the
reference header on the draft are second guards, so nothing is flagged or drafted twice.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import imapclient
from imapclient.exceptions import IMAPClientError

from plume.config import MailAccount, Settings
from plume.mail.parse import MAX_MESSAGE_BYTES, MailMessage, parse_message
from plume.mailbox.client import CONNECTION_ERRORS, MailConfigError, connect, describe
from plume.mailbox.reply import REFERENCE_HEADER, build_reply
from plume.mailbox.sorting import DONE, ERROR, FolderRules, keyword, keywords_for, load_folder_rules
from plume.mailbox.state import State, flush_daily, now, state_path
from plume.routing.router import routed
from plume.security.audit import AuditLog
from plume.tasks.acknowledge import ReferenceBook, Suspicious, acknowledge
from plume.tasks.triage import Rules, RulesError, TriageResult, load_rules, triage_by_rules

log = logging.getLogger("plume.mail")  # the logger's name since before the package moved: unchanged for IT

FETCH_BATCH = 25


@dataclass
class PassReport:
    account: str
    counts: dict[str, Counter] = field(default_factory=dict)  # folder → outcome → n
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def add(self, folder: str, outcome: str, n: int = 1) -> None:
        self.counts.setdefault(folder, Counter())[outcome] += n

    def total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.counts.values())


Classifier = Callable[[MailMessage, Rules], TriageResult]


class MailWorker:
    """One account. `run_pass()` does one pass over its folders; `watch()` repeats, waiting with IDLE."""

    def __init__(self, settings: Settings, account: MailAccount, classify: Classifier | None = None,
                 book: ReferenceBook | None = None) -> None:
        self.settings, self.account = settings, account
        self.classify = routed(classify or triage_by_rules, settings.data_dir)  # the service: plume.routing
        self.book = book or ReferenceBook(settings.data_dir / "acknowledgement-references.json")
        self.audit = AuditLog(settings.audit_file)
        self.state = State(state_path(settings, account))
        self.client: imapclient.IMAPClient | None = None
        self._created: set[str] = set()
        self._drafted: set[str] | None = None   # references of the drafts in Drafts, this pass
        self._selected = ""
        self._stop: threading.Event | None = None  # set by watch(): a stop request ends the pass early

    # -- configuration read at each pass, so the commune's edits apply without a restart
    def rules(self) -> Rules:
        own = self.settings.data_dir / "triage_rules.toml"
        return load_rules(own if own.exists() else None)

    def folder_rules(self) -> FolderRules | None:
        if not self.account.move:
            return None
        return load_folder_rules(Path(self.account.rules_file or self.settings.data_dir / "mail-folders.toml"))

    # -- one pass
    def run_pass(self) -> PassReport:
        report = PassReport(self.account.label)
        started = time.monotonic()
        self._drafted = None  # the clerk may have sent or deleted drafts since the last pass
        lock = self._lock()
        if lock is None:
            report.error = "un autre passage est en cours pour ce compte"
            return report
        try:
            self.state = State(self.state.path)  # another process may have moved on since our last pass
            self._pass(report)
            report.seconds = time.monotonic() - started
            self._finish(report)
        finally:
            lock.close()
        return report

    def _pass(self, report: PassReport) -> None:
        self.state.data["last_run"] = {"started": now(), "finished": None, "ok": None, "error": None}
        try:
            rules, folder_rules = self.rules(), self.folder_rules()
            if self.client is None:
                self.client = connect(self.account)
            for folder in self.account.folders:
                if self._stopping():
                    break
                self._folder_pass(folder, rules, folder_rules, report)
        except CONNECTION_ERRORS + (IMAPClientError,) as exc:
            report.error = describe(exc)
            self.state.error("", None, report.error)
            self.close()
        except (MailConfigError, RulesError) as exc:
            report.error = str(exc)
            self.state.error("", None, "configuration")

    def _lock(self):
        """An exclusive lock on the account's state: `plume mail once`, `watch` and `serve` on the same
        data folder never work on one mailbox at the same time (two could draft the same message)."""
        path = self.state.path.with_suffix(".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    def _finish(self, report: PassReport) -> None:
        run = self.state.data["last_run"]
        run.update(finished=now(), ok=report.ok, error=report.error, seconds=round(report.seconds, 3),
                   counts={f: dict(c) for f, c in report.counts.items()})
        for counter in report.counts.values():
            for outcome, n in counter.items():
                self.state.data["totals"][outcome] = self.state.data["totals"].get(outcome, 0) + n
        flush_daily(self.state, self.audit, self.account.label, before=date.today())
        self.state.save()
        for folder, counter in report.counts.items():
            for outcome, n in sorted(counter.items()):
                self.audit.write(user=f"mail:{self.account.label}", method="IMAP", route="imap:pass",
                                 status=200, duration_ms=round(report.seconds * 1000, 1),
                                 folder=folder, outcome=outcome, count=n)
        if report.error:
            self.audit.write(user=f"mail:{self.account.label}", method="IMAP", route="imap:pass", status=503,
                             duration_ms=round(report.seconds * 1000, 1), outcome="connexion", count=1)

    def _folder_pass(self, folder: str, rules: Rules, folder_rules: FolderRules | None, report: PassReport) -> None:
        client = self.client
        info = client.select_folder(folder)
        self._selected = folder
        uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        remembered = self.state.folder(folder)
        if remembered["uidvalidity"] != uidvalidity:
            if remembered["uidvalidity"]:
                # The server renumbered the folder: start over; the Plume/trie keyword skips what was done.
                log.warning("compte %s, dossier %s : UIDVALIDITY a changé, dossier relu", self.account.label, folder)
                report.add(folder, "uidvalidity")
            remembered.update(uidvalidity=uidvalidity, last_uid=0)
            self.state.save()
        can_flag = self.account.keywords and b"\\*" in info.get(b"PERMANENTFLAGS", ())
        criteria: list[Any] = ["UID", f"{remembered['last_uid'] + 1}:*"]
        if remembered["last_uid"] == 0 and self.account.backlog_days > 0:
            # First pass over this folder (or renumbered): the recent backlog only, not years of history.
            criteria += ["SINCE", date.fromordinal(date.today().toordinal() - self.account.backlog_days)]
        uids = sorted(u for u in client.search(criteria) if u > remembered["last_uid"])
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start:start + FETCH_BATCH]
            sizes = client.fetch(batch, ["RFC822.SIZE", "FLAGS"])
            small = [u for u in batch if u in sizes and sizes[u].get(b"RFC822.SIZE", 0) <= MAX_MESSAGE_BYTES]
            bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
            for uid in batch:
                if self._stopping():  # systemd's SIGTERM: stop between two messages, the state saved below
                    break
                item = sizes.get(uid)
                if item is not None:  # a message expunged by someone else meanwhile is simply gone
                    outcome = self._message(folder, uid, item.get(b"FLAGS", ()), bodies.get(uid, {}).get(b"BODY[]"),
                                            rules, folder_rules, can_flag, report)
                    report.add(folder, outcome)
                remembered["last_uid"] = uid
            # Saved per batch: the keyword is the real "done" mark, so a crash mid-batch only costs a
            # re-read of these UIDs, which the Plume/trie keyword then skips.
            self.state.save()
            if self._stopping():
                return

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _message(self, folder: str, uid: int, flags: tuple, raw: bytes | None, rules: Rules,
                 folder_rules: FolderRules | None, can_flag: bool, report: PassReport) -> str:
        done = keyword(DONE, self.account.keyword_prefix)
        if done.lower() in {_text(f).lower() for f in flags}:
            return "deja-traite"
        try:
            if raw is None:
                raise ValueError("message trop grand")
            mail = parse_message(raw, f"{folder}#{uid}")
            result = self.classify(mail, rules)
        except CONNECTION_ERRORS:
            raise
        except Exception as exc:  # one bad message is set aside; the others go on
            log.warning("compte %s, dossier %s, UID %s : message ignoré (%s)", self.account.label, folder, uid,
                        type(exc).__name__)
            self.state.error(folder, uid, type(exc).__name__)
            if can_flag:
                self.client.add_flags([uid], [keyword(ERROR, self.account.keyword_prefix)])
            return "ignore"
        drafted = self._draft(mail, raw, result, rules, folder, uid)
        if can_flag:
            self.client.add_flags([uid], keywords_for(result, self.account, rules, drafted))
        self.state.count_daily("triage", result.service, result.priority)
        if drafted:
            self.state.count_daily("acknowledge", result.service)
            report.add(folder, "brouillon")
        target = folder_rules.folder_for(result) if folder_rules else None
        if target and target != folder:
            self._move(uid, target)
            report.add(folder, "deplace")
        return "trie"

    def _draft(self, mail: MailMessage, raw: bytes, result: TriageResult, rules: Rules, folder: str, uid: int) -> bool:
        if not (self.account.drafts and result.needs_reply) or result.category == rules.phishing.category:
            return False
        if "@" not in mail.sender_address:
            return False  # nobody to answer: the clerk sees the message and its keywords
        try:
            ack = _run(acknowledge(mail, rules, None, commune_name=self.account.signature, book=self.book))
            # The draft names the service of the keywords, also when the model (not the rules) chose it.
            if (service := rules.service(result.service)) is not None:
                ack.service, ack.delay_days = service.title or service.name, service.delay_days
            draft = build_reply(mail, raw, ack, self.account.user, self.account.signature)
        except Suspicious:  # the rules see phishing where the model did not: no reply to such a sender
            return False
        except Exception as exc:  # no draft for this one; the message is still triaged and flagged
            log.warning("compte %s, dossier %s, UID %s : accusé non préparé (%s)", self.account.label, folder, uid,
                        type(exc).__name__)
            self.state.error(folder, uid, f"brouillon: {type(exc).__name__}")
            return False
        if ack.reference not in self._draft_references():
            self.client.append(self.account.drafts_folder, draft, flags=(b"\\Draft", b"\\Seen"))
            self._drafted.add(ack.reference)
        return True

    def _draft_references(self) -> set[str]:
        """References of the drafts already in Drafts, read once per pass (then kept up to date): the
        second guard, so a crash after APPEND but before the keywords never leaves two drafts."""
        if self._drafted is None:
            drafts = self.account.drafts_folder
            self._ensure_folder(drafts)
            current = self._selected
            self.client.select_folder(drafts, readonly=True)
            # Every draft's one header, rather than SEARCH HEADER, which some servers (Exchange) limit.
            uids = self.client.search(["ALL"])
            self._drafted = set()
            for start in range(0, len(uids), 500):
                items = self.client.fetch(uids[start:start + 500], [f"BODY.PEEK[HEADER.FIELDS ({REFERENCE_HEADER})]"])
                for item in items.values():
                    raw = next((v for k, v in item.items() if k.startswith(b"BODY[HEADER")), b"") or b""
                    self._drafted.update(re.findall(r"AR-\d{4}-\d+", raw.decode("ascii", "replace")))
            self.client.select_folder(current)
        return self._drafted

    def _move(self, uid: int, target: str) -> None:
        self._ensure_folder(target)
        if self.client.has_capability("MOVE"):
            self.client.move([uid], target)
        else:
            # Without MOVE, moving means COPY + delete + EXPUNGE; Plume never deletes, so it only copies
            # (the original stays, with its keywords) and says so in docs/mailbox.md.
            self.client.copy([uid], target)

    def _ensure_folder(self, name: str) -> None:
        if name not in self._created and not self.client.folder_exists(name):
            self.client.create_folder(name)
            # Subscribed, or Outlook and Thunderbird would not list the new folder by default.
            self.client.subscribe_folder(name)
        self._created.add(name)

    # -- watching
    def watch(self, stop: threading.Event) -> None:
        """Passes until `stop` is set: IDLE on the first folder when offered (new mail wakes it at once),
        else a pass every poll_seconds. A lost connection is retried with a growing pause. A stop
        request also ends a pass between two messages (a long backlog must not outlast systemd's
        stop timeout); the rest is taken at the next start."""
        self._stop = stop
        backoff = 5.0
        while not stop.is_set():
            try:
                report = self.run_pass()
            except Exception as exc:  # a bug must not end the watch silently: log it, wait, go on
                # The type only: an exception's text could quote a message.
                log.error("compte %s : passage en échec (%s)", self.account.label, type(exc).__name__)
                self.close()
                report = PassReport(self.account.label, error=type(exc).__name__)
            if not report.ok:
                log.warning("compte %s : %s ; nouvel essai dans %.0f s", self.account.label, report.error, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 300.0)
                continue
            backoff = 5.0
            self._wait(stop)
        self.close()

    def _wait(self, stop: threading.Event) -> None:
        client = self.client
        try:
            if client is None or not client.has_capability("IDLE"):
                stop.wait(self.account.poll_seconds)
                return
            client.select_folder(self.account.folders[0], readonly=True)
            client.idle()
            deadline = time.monotonic() + self.account.idle_seconds
            # Short IDLE checks so a stop request is seen within a few seconds.
            while not stop.is_set() and time.monotonic() < deadline:
                checked = time.monotonic()
                if client.idle_check(timeout=2):
                    break
                if time.monotonic() - checked < 1:
                    # Readable yet nothing read: IMAPClient's idle_check swallows EOF, so the server is
                    # gone. Leave IDLE now (no busy loop); the next pass reconnects.
                    break
            client.idle_done()
        except CONNECTION_ERRORS + (IMAPClientError,) as exc:
            log.warning("compte %s : attente interrompue (%s)", self.account.label, describe(exc))
            self.close()

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.logout()
            except Exception:  # the connection may already be gone; nothing more to do
                pass
            try:
                self.client.shutdown()
            except Exception:
                pass
        self.client = None
        self._created.clear()


def _text(flag: Any) -> str:
    return flag.decode("utf-8", "replace") if isinstance(flag, bytes) else str(flag)


def _run(coro):
    """Run a coroutine that does not wait on anything (acknowledge without a model) in this thread."""
    return asyncio.run(coro)
