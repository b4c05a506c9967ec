"""`plume triage PATH`: sort a file, a folder of .eml, an mbox or a Maildir; JSON or CSV on stdout,
a progress bar on stderr.

A message that cannot be read or sorted is named on stderr and the others are sorted all the same.
Exit status: 0 when at least one message was sorted (or there was none), 2 when PATH or the rules
file is missing or invalid, 3 when there were messages and none of them could be read.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from pathlib import Path

import msgspec

from plume.cli.common import add_settings_options, quiet_closed_stdout, settings_from

NONE_READABLE = 3

FIELDS = ("file", "category", "priority", "service", "language", "deadline", "needs_reply", "summary", "reasons",
          "phishing")
# The CSV is for a spreadsheet in a French-speaking office (Excel fr-CH): French column names and values.
CSV_HEADERS = {"file": "fichier", "category": "catégorie", "priority": "priorité", "service": "service",
               "language": "langue", "deadline": "échéance", "needs_reply": "réponse attendue", "summary": "résumé",
               "reasons": "raisons", "phishing": "hameçonnage"}
PRIORITIES_FR = {"urgent": "urgente", "high": "haute", "normal": "normale", "low": "basse"}
LANGUAGES_FR = {"fr": "français", "de": "allemand", "it": "italien", "en": "anglais", "es": "espagnol",
                "pt": "portugais", "rm": "romanche"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "triage", help="trier des courriels (.eml, dossier, mbox, Maildir)",
        description="Trie des courriels : catégorie, priorité, service (avec sa confiance et ce qui l'a décidé), "
                    "échéance, réponse attendue, résumé et raisons. « plume triage learn » apprend le service à partir "
                    "des dossiers des employés.",
        epilog="Un message illisible est signalé sur la sortie d'erreur et les autres sont triés. Code de sortie : "
               "0 si au moins un message est trié, 2 si le chemin ou les règles sont introuvables ou invalides, "
               f"{NONE_READABLE} si aucun message n'a pu être lu.")
    parser.add_argument("path", type=Path, help="fichier .eml, dossier de .eml, fichier mbox ou dossier Maildir")
    parser.add_argument("--format", choices=("json", "csv"), default="json",
                        help="format de sortie (défaut json ; csv : séparateur « ; », UTF-8 avec BOM, pour Excel)")
    parser.add_argument("--rules", type=Path, help="fichier de règles TOML (défaut : celui livré avec Plume)")
    parser.add_argument("--models", type=Path, help="catalogue des modèles (models.toml) pour classer avec un modèle")
    parser.add_argument("--quiet", action="store_true", help="pas de barre de progression")
    add_settings_options(parser)  # --data: the folder with services.toml and what `plume triage learn` learned
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from plume.mail import iter_mailbox
    from plume.routing.directory import DirectoryError
    from plume.routing.router import router_for, with_directory_services
    from plume.tasks.triage import RulesError, load_rules

    if not args.path.exists():
        print(f"Introuvable : {args.path}", file=sys.stderr)
        return 2
    try:
        rules = load_rules(args.rules)
        router = router_for(settings_from(args).data_dir)
    except (RulesError, DirectoryError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    rules = with_directory_services(rules, router.directory)
    skipped: list[str] = []

    def skip(name: str, error: Exception) -> None:
        skipped.append(name)
        print(f"Message ignoré : {name} ({_why(error)})", file=sys.stderr)

    messages = []
    try:
        for mail in iter_mailbox(args.path, on_error=skip):
            messages.append(mail)
    except Exception as exc:  # noqa: BLE001 - the mailbox itself is unreadable: keep what was read
        skip(args.path.name, exc)
    results = asyncio.run(_triage_all(messages, rules, args.models, not args.quiet, skip, router))
    rows = [msgspec.to_builtins(r) for r in results]
    _write(_csv(rows) if args.format == "csv" else _json(rows))
    if skipped and not rows:
        print("Aucun message n'a pu être lu.", file=sys.stderr)
        return NONE_READABLE
    return 0  # the unreadable messages were named on stderr; the others are all in the output


def _why(error: Exception) -> str:
    """Why a message was skipped, without its content (a library's message may quote a header)."""
    from plume.mail import MessageTooLarge

    if isinstance(error, MessageTooLarge):
        return str(error)
    if isinstance(error, OSError):
        return f"lecture impossible : {error.strerror or type(error).__name__}"
    return f"message illisible : {type(error).__name__}"


def _json(rows: list[dict]) -> bytes:
    return (json.dumps(rows, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([CSV_HEADERS[f] for f in FIELDS])
    for row in rows:
        deadline = row["deadline"]
        writer.writerow([
            row["file"], row["category"], PRIORITIES_FR.get(row["priority"], row["priority"]), row["service"],
            LANGUAGES_FR.get(row["language"], row["language"]),
            ".".join(reversed(deadline.split("-"))) if deadline else "",  # 2026-11-30 -> 30.11.2026
            "oui" if row["needs_reply"] else "non", row["summary"],
            " | ".join(row["reasons"]), " | ".join(row["phishing"]),
        ])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")  # the BOM tells Excel it is UTF-8


def _write(data: bytes) -> None:
    """All of it to stdout; a reader that stops early (`| head`) is not an error."""
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # caught here, not in main: the exit status still says whether any message was read
        quiet_closed_stdout()


async def _triage_all(messages, rules, models_file: Path | None, progress: bool, skip, router):
    from plume.tasks.common import InvalidModelOutput
    from plume.tasks.triage import triage, triage_by_rules

    inference = await _inference(models_file) if models_file else None
    results = []
    try:
        for done, mail in enumerate(messages, start=1):
            try:
                try:
                    result = await triage(mail, rules, inference, directory_text=router.directory.prompt_text())
                except InvalidModelOutput:
                    result = triage_by_rules(mail, rules)
                    result.reasons.insert(0, "le modèle n'a pas donné de réponse valide : classement par les règles")
                results.append(router.route(mail, result, rules))
            except Exception as exc:  # noqa: BLE001 - one message that cannot be sorted never stops the batch
                skip(mail.file, exc)
            if progress:
                _bar(done, len(messages))
    finally:
        if inference is not None:
            await inference.stop()
    if progress and messages:
        sys.stderr.write("\n")
    return results


def _bar(done: int, total: int, width: int = 30) -> None:
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\rTri des courriels [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()


async def _inference(models_file: Path):
    """The inference service for this catalog, its models loaded; None when none can do triage."""
    from plume.config import load_settings
    from plume.inference.service import InferenceService
    from plume.tasks.triage import TASK

    service = InferenceService(load_settings(models_file=models_file))
    await service.start()
    for slot in service.slots.values():
        await slot.loaded.wait()
    if not service.has_model(TASK):
        print(f"Aucun modèle utilisable pour le tri dans {models_file} : tri par les règles.", file=sys.stderr)
        await service.stop()
        return None
    return service
