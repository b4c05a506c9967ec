"""`plume mail once|watch|status`: triage the commune's IMAP mailboxes in place (docs/mailbox.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from plume.cli.common import add_settings_options, settings_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("mail", help="trier les boîtes aux lettres IMAP ([[mail]] de la configuration)",
                                   description="Trie les courriels des boîtes IMAP configurées : mots-clés, "
                                               "déplacement par service, accusés de réception dans les brouillons. "
                                               "N'envoie et ne supprime jamais rien.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_ in (("once", "un passage sur chaque boîte, puis s'arrête (pour cron ou systemd timer)"),
                        ("watch", "surveille les boîtes en continu (IDLE quand le serveur le permet)"),
                        ("status", "dernier passage, compteurs et erreurs de chaque boîte")):
        sub = actions.add_parser(name, help=help_)
        add_settings_options(sub)
        sub.add_argument("--account", help="seulement ce compte (son nom, ou l'utilisateur)")
        if name == "status":
            sub.add_argument("--json", action="store_true", help="sortie JSON")
        else:
            sub.add_argument("--models", type=Path, help="catalogue des modèles (models.toml) : trier avec le modèle "
                                                         "quand il y en a un pour le tri (sinon les règles)")
        sub.set_defaults(func=run)


def _accounts(settings, name: str | None):
    accounts = [a for a in settings.mail if name in (None, a.label, a.user)]
    if not accounts:
        print("Aucune boîte aux lettres configurée ([[mail]] dans plume.toml)." if name is None
              else f"Compte inconnu : {name}", file=sys.stderr)
    return accounts


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = settings_from(args)  # an unreadable configuration: one French line and exit 2
    accounts = _accounts(settings, args.account)
    if not accounts:
        return 2
    if args.action == "status":
        return _status(settings, accounts, args.json)
    classify, stop_model = _model(args.models) if args.models else (None, lambda: None)
    try:
        if args.action == "once":
            return _once(settings, accounts, classify)
        return _watch(settings, accounts, classify)
    finally:
        stop_model()


def _model(models_file: Path):
    """The inference service on an event loop of its own thread; the workers call it from theirs."""
    from plume.cli.triage import _inference
    from plume.mailbox.run import model_classifier

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="plume-mail-model", daemon=True).start()
    inference = asyncio.run_coroutine_threadsafe(_inference(models_file), loop).result()
    if inference is None:
        loop.call_soon_threadsafe(loop.stop)
        return None, lambda: None

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(inference.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)

    return model_classifier(inference, loop), stop


def _once(settings, accounts, classify=None) -> int:
    from plume.mailbox.run import run_once

    failed = 0
    for report in run_once(settings, accounts, classify):
        counts = ", ".join(f"{folder} : " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                           for folder, c in report.counts.items()) or "rien de nouveau"
        print(f"{report.account} : {counts} ({report.seconds:.1f} s)")
        if not report.ok:
            failed += 1
            print(f"{report.account} : passage interrompu ({report.error})", file=sys.stderr)
    return 1 if failed else 0


def _watch(settings, accounts, classify=None) -> int:
    from plume.mailbox.worker import MailWorker

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threads = [threading.Thread(target=MailWorker(settings, a, classify).watch, args=(stop,), name=f"mail-{a.label}")
               for a in accounts]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        for thread in threads:
            thread.join(timeout=1)
    return 0


def _status(settings, accounts, as_json: bool) -> int:
    from plume.mailbox.state import State, state_path

    out = {}
    for account in accounts:
        data = State(state_path(settings, account)).data
        out[account.label] = {"last_run": data.get("last_run"), "folders": data["folders"], "totals": data["totals"],
                              "errors": data["errors"][-5:], "today": data["daily"]}
    if as_json:
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    for label, info in out.items():
        run = info["last_run"] or {}
        print(f"{label} : dernier passage {run.get('finished') or 'jamais'}"
              + ("" if run.get("ok") in (True, None) else f" — interrompu ({run.get('error')})"))
        for folder, where in info["folders"].items():
            counts = (run.get("counts") or {}).get(folder, {})
            print(f"  {folder} : dernier UID {where['last_uid']} (UIDVALIDITY {where['uidvalidity']})"
                  + (f" ; dernier passage : {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}" if counts else ""))
        if info["totals"]:
            print("  depuis le début : " + ", ".join(f"{k} {v}" for k, v in sorted(info["totals"].items())))
        for day, counts in sorted(info["today"].items()):  # not yet in the audit (written the next day)
            lines = ", ".join(f"{k.replace('|', ' / ').rstrip(' /')} {n}" for k, n in sorted(counts.items()))
            print(f"  {day} (en cours) : {lines}")
        for error in info["errors"]:
            print(f"  erreur {error['time']} {error['folder']} UID {error['uid']} : {error['error']}")
    return 0
