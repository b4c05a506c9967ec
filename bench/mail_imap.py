"""Mailbox worker benchmark against a real Dovecot (Debian dovecot-imapd), TLS on loopback.

Prints, measured in the same run on this machine:
  - messages/s of one full pass (fetch, parse, triage by the rules, keywords, move by service,
    acknowledgement drafted in Drafts) over the samples repeated --repeat times (each copy its own
    Message-ID and date, so each gets its own reference number);
  - against fetching the same messages alone (what IMAP itself costs);
  - a second pass (restart: state from disk) and a pass with the state file deleted (the
    Plume/trie keyword guard alone): messages processed again, drafts added (both must be 0);
  - a listing of the mailbox after the pass: folders, message counts, keywords.
With --no-fsync, Dovecot does not wait for the disk: the figure is then what Plume's side allows.

    .venv/bin/python bench/mail_imap.py [--repeat 20] [--no-fsync]
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import shutil
import ssl
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
sys.path.insert(0, str(REPO))
SAMPLES = Path(os.environ.get("PLUME_SAMPLES", REPO / "tests" / "data" / "samples"))

import imapclient  # noqa: E402

from plume.config import MailAccount, Settings  # noqa: E402
from plume.mailbox.state import state_path  # noqa: E402
from plume.mailbox.worker import MailWorker  # noqa: E402
from tests.dovecot import Dovecot  # noqa: E402

FOLDERS = '[services]\n"travaux publics" = "Services/Travaux publics"\n' \
          '"contrôle des habitants" = "Services/Contrôle des habitants"\n[categories]\nsuspect = "Quarantaine"\n'


def copies(repeat: int) -> list[bytes]:
    out, start = [], datetime(2026, 11, 2, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    for i in range(repeat):
        for n, path in enumerate(sorted((SAMPLES / "emails").glob("*.eml"))):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
            for name, value in (("Message-ID", f"<bench-{i}-{n}@example.org>"),
                                ("Date", format_datetime(start + timedelta(minutes=i * 10 + n)))):
                del msg[name]
                msg[name] = value
            out.append(msg.as_bytes())
    return out


def client(server: Dovecot) -> imapclient.IMAPClient:
    c = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl_context=ssl.create_default_context(cafile=str(server.ca)))
    c.login(server.user, server.password)
    return c


def listing(server: Dovecot) -> str:
    lines = []
    with client(server) as c:
        for flags, _, name in c.list_folders():
            if b"\\Noselect" in flags:
                continue
            c.select_folder(name, readonly=True)
            uids = c.search("ALL")
            items = c.fetch(uids, ["FLAGS"]) if uids else {}
            keywords = Counter(f.decode() for item in items.values() for f in item[b"FLAGS"])
            lines.append(f"  {name}: {len(uids)} messages")
            lines += [f"      {k}: {v}" for k, v in sorted(keywords.items())]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-fsync", action="store_true",
                        help="Dovecot without fsync (mail_fsync = never): what the client side alone allows")
    args = parser.parse_args()
    server = Dovecot(extra_config="mail_fsync = never" if args.no_fsync else "")
    server.start()
    tmp = Path(tempfile.mkdtemp(prefix="plume-bench-mail-"))
    try:
        (tmp / "folders.toml").write_text(FOLDERS, encoding="utf-8")
        os.environ["PLUME_BENCH_IMAP_PASSWORD"] = server.password
        account = MailAccount(host="127.0.0.1", port=server.port, user=server.user, ca_file=server.ca,
                              password_env="PLUME_BENCH_IMAP_PASSWORD", move=True, rules_file=tmp / "folders.toml")
        settings = Settings(data_dir=tmp / "data", mail=[account])
        messages = copies(args.repeat)
        with client(server) as c:
            for raw in messages:
                c.append("INBOX", raw)
            started = time.perf_counter()
            c.select_folder("INBOX", readonly=True)
            uids = c.search("ALL")
            for i in range(0, len(uids), 25):
                c.fetch(uids[i:i + 25], ["BODY.PEEK[]"])
            fetch_only = time.perf_counter() - started
        n = len(messages)
        print(f"Dovecot {server.port} (TLS{', mail_fsync = never' if args.no_fsync else ''}), {n} messages ({args.repeat} × the {n // args.repeat} samples)")
        print(f"  fetch alone (baseline)        : {n / fetch_only:7.1f} messages/s ({fetch_only:.2f} s)")
        first = MailWorker(settings, account).run_pass()
        c = first.counts["INBOX"]
        print(f"  full pass (triage+keywords+move+draft): {n / first.seconds:7.1f} messages/s ({first.seconds:.2f} s; "
              f"triaged {c['trie']}, drafts {c['brouillon']}, moved {c['deplace']}, set aside {c['ignore']})")
        with client(server) as cl:
            drafts = len(cl.select_folder("Drafts") and cl.search("ALL"))
        again = MailWorker(settings, account).run_pass()
        print(f"  restart (state from disk)     : {sum(again.total(k) for k in ('trie', 'brouillon'))} processed again, "
              f"{again.seconds:.2f} s")
        state_path(settings, account).unlink()
        lost = MailWorker(settings, account).run_pass()
        with client(server) as cl:
            drafts_after = len(cl.select_folder("Drafts") and cl.search("ALL"))
        print(f"  state file deleted            : {lost.total('trie')} processed again, "
              f"{lost.total('deja-traite')} skipped by keyword, {drafts_after - drafts} drafts added, {lost.seconds:.2f} s")
        print("Mailbox after the pass:")
        print(listing(server))
    finally:
        server.remove()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
