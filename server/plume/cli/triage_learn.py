"""`plume triage learn [--imap CONFIG | PATH] [--folders MAP]`: learn which service handles a mail
from the folders the clerks already sort their mail into (docs/triage.md). Prints, per service, the
mails learned and the cross-validated precision and recall, so IT sees which services are learned well.

`plume triage learn …` is this command (cli/__init__.py hands it over); `plume triage-learn` too.
Exit status: 0 learned, 2 a configuration, directory, map or source problem, 3 no mail found in any
service folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from plume.cli.common import add_settings_options, settings_from

NOTHING_FOUND = 3
OUTCOMES_FR = {"nouveau": "nouveaux", "correction": "corrections", "inchange": "inchangés", "illisible": "illisibles"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "triage-learn", prog="plume triage learn",
        help="apprendre le service des courriels à partir des dossiers des employés (plume triage learn)",
        description="Apprend à quel service va chaque courriel, à partir des dossiers où les employés le classent "
                    "(IMAP, ou un export Maildir, mbox ou .eml). Garde des statistiques, jamais les courriels. "
                    "L'apprentissage est incrémental : seuls les courriels nouveaux ou déplacés sont lus.",
        epilog=f"Code de sortie : 0 appris, 2 configuration, annuaire ou source invalide, {NOTHING_FOUND} aucun "
               "courriel trouvé dans les dossiers des services.")
    parser.add_argument("path", type=Path, nargs="?", help="export des dossiers (Maildir, mbox ou .eml par dossier)")
    parser.add_argument("--imap", type=Path, metavar="CONFIG",
                        help="lire les dossiers des comptes [[mail]] de ce fichier de configuration (plume.toml)")
    parser.add_argument("--account", help="avec --imap : seulement ce compte (son nom, ou l'utilisateur)")
    parser.add_argument("--folders", type=Path, metavar="MAP",
                        help="fichier TOML [services] service = \"dossier\" (défaut : DONNÉES/mail-folders.toml s'il "
                             "existe, sinon les dossiers de l'annuaire services.toml)")
    parser.add_argument("--from-scratch", action="store_true", help="oublier ce qui a été appris et tout réapprendre")
    parser.add_argument("--check", action="store_true",
                        help="vérifier l'annuaire et les dossiers sans rien apprendre")
    parser.add_argument("--json", action="store_true", help="résultat en JSON")
    add_settings_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from plume.routing.directory import DirectoryError, directory_path, load_directory
    from plume.routing.learning import Busy
    from plume.routing.sources import SourceError, folder_map

    if args.imap is not None:
        args.config = args.imap
    settings = settings_from(args)
    try:
        directory = load_directory(directory_path(settings.data_dir))
        map_file = args.folders or _default_map(settings.data_dir)
        folders = folder_map(directory, map_file)
    except (DirectoryError, SourceError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.check:
        return _check(directory, folders)
    if (args.path is None) == (args.imap is None):
        print("Indiquez soit un dossier d'export (PATH), soit --imap CONFIG.", file=sys.stderr)
        return 2
    try:
        report = _learn(args, settings, directory, folders)
    except (SourceError, Busy) as exc:
        print(f"{str(exc)[0].upper()}{str(exc)[1:]}", file=sys.stderr)
        return 2
    except OSError as exc:  # an export that cannot be read, a mail server that cannot be reached
        print(f"Lecture impossible : {exc.strerror or type(exc).__name__}", file=sys.stderr)
        return 2
    except ValueError as exc:  # the account as configured (MailConfigError: a password file others can read…)
        print(str(exc), file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the IMAP server refused (login, folder): its type, never a mail
        if type(exc).__module__.startswith("imapclient"):
            print(f"La boîte aux lettres a refusé la lecture ({type(exc).__name__}).", file=sys.stderr)
            return 2
        raise
    _audit(settings, report)
    print(json.dumps(_as_json(report), ensure_ascii=False, indent=2) if args.json else _table(report))
    if not sum(report.outcomes.values()):
        print("Aucun courriel trouvé dans les dossiers des services.", file=sys.stderr)
        return NOTHING_FOUND
    return 0


def _default_map(data_dir: Path) -> Path | None:
    own = data_dir / "mail-folders.toml"  # the mailbox worker's own map (docs/mailbox.md)
    return own if own.exists() and "services" in own.read_text(encoding="utf-8") else None


def _learn(args, settings, directory, folders):
    from plume.inference.embeddings import bundled_embedder
    from plume.routing.learning import LearnReport, learn
    from plume.mailbox.learning_source import imap_mails
    from plume.routing.sources import SourceError, path_mails

    report = LearnReport()
    if args.path is not None:
        mails = path_mails(args.path, folders, directory, report.skipped_folders.append)
        return learn(mails, directory, settings.data_dir, bundled_embedder(), report, args.from_scratch)
    accounts = [a for a in settings.mail if args.account in (None, a.label, a.user)]
    if not accounts:
        raise SourceError("Aucune boîte aux lettres [[mail]] dans la configuration." if args.account is None
                          else f"Compte inconnu : {args.account}")
    known = _known(settings.data_dir, args.from_scratch)
    mails = (m for account in accounts for m in imap_mails(account, folders, directory, known,
                                                            report.skipped_folders.append))
    return learn(mails, directory, settings.data_dir, bundled_embedder(), report, args.from_scratch)


def _known(data_dir: Path, from_scratch: bool):
    """Whether a mail (by key) was learned under this service: then IMAP does not fetch it again."""
    from plume.inference.embeddings import bundled_embedder
    from plume.routing import store

    learned = None if from_scratch else store.load(store.path_in(data_dir))
    if learned is None or learned.embedder != bundled_embedder().id:
        return lambda key, service: False
    return lambda key, service: key in learned.ledger and service in learned.services and \
        learned.ledger[key][0] == learned.index(service)


def _check(directory, folders) -> int:
    print(f"Annuaire : {len(directory.services)} services, {len(directory.pins)} règle(s) épinglée(s), "
          f"« à confirmer » sous {directory.confirm_below:.0%}.")
    for entry in directory.services:
        mapped = [folder for folder, service in folders.items() if service == entry.name]
        print(f"  {entry.name} : {', '.join(mapped) or 'aucun dossier (pas appris)'}")
    return 0


def _table(report) -> str:
    counts = ", ".join(f"{report.outcomes.get(k, 0)} {v}" for k, v in OUTCOMES_FR.items())
    lines = [f"Appris en {report.seconds:.1f} s : {counts} ({report.embedded} textes encodés)."]
    if report.restarted:
        lines.append(f"Réapprentissage complet : {report.restarted}.")
    if report.skipped_folders:
        lines.append(f"Dossiers sans service (ignorés) : {', '.join(report.skipped_folders)}.")
    header = ("service", "appris", "validés", "précision", "rappel", "corrections")
    rows = [header] + [(f.service, str(f.learned), str(f.validated), _pct(f.precision), _pct(f.recall),
                        str(f.corrections)) for f in report.figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    validated = sum(f.validated for f in report.figures)
    right = sum(round((f.recall or 0) * f.validated) for f in report.figures)
    if validated:
        lines.append(f"Ensemble : {right / validated:.0%} des {validated} courriels validés (jamais vus par le "
                     "classifieur qui les a routés) vont au bon service.")
    else:
        lines.append("Pas encore de chiffres : trop peu de courriels pour les valider.")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _as_json(report) -> dict:
    return {"outcomes": dict(report.outcomes), "skipped_folders": report.skipped_folders,
            "restarted": report.restarted, "embedded": report.embedded, "seconds": round(report.seconds, 2),
            "services": [{k: (float(v) if isinstance(v, float) else v) for k, v in asdict(f).items()}
                         for f in report.figures]}


def _audit(settings, report) -> None:
    """One line per service and outcome, with its count: never a subject, an address or a text."""
    from plume.security.audit import AuditLog

    audit = AuditLog(settings.audit_file)
    for service, counts in sorted(report.by_service.items()):
        for outcome, count in sorted(counts.items()):
            audit.write(user="plume triage learn", method="CLI", route="triage:learn", status=200,
                        duration_ms=round(report.seconds * 1000, 1), task="triage-learn", service=service,
                        outcome=outcome, count=count)
