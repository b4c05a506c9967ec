"""`plume triage PATH`: sort a file, a folder of .eml, an mbox or a Maildir; JSON or CSV on stdout,
a progress bar on stderr."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from pathlib import Path

import msgspec

FIELDS = ("file", "category", "priority", "service", "language", "deadline", "needs_reply", "summary", "reasons",
          "phishing")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("triage", help="trier des courriels (.eml, dossier, mbox, Maildir)",
                                   description="Trie des courriels : catégorie, priorité, service, échéance, "
                                               "réponse attendue, résumé et raisons.")
    parser.add_argument("path", type=Path, help="fichier .eml, dossier de .eml, fichier mbox ou dossier Maildir")
    parser.add_argument("--format", choices=("json", "csv"), default="json", help="format de sortie (défaut json)")
    parser.add_argument("--rules", type=Path, help="fichier de règles TOML (défaut : celui livré avec Plume)")
    parser.add_argument("--models", type=Path, help="catalogue des modèles (models.toml) pour classer avec un modèle")
    parser.add_argument("--quiet", action="store_true", help="pas de barre de progression")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from plume.mail import iter_mailbox
    from plume.tasks.triage import RulesError, load_rules

    if not args.path.exists():
        print(f"Introuvable : {args.path}", file=sys.stderr)
        return 2
    try:
        rules = load_rules(args.rules)
    except RulesError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    skipped: list[str] = []

    def skip(name: str, error: Exception) -> None:
        skipped.append(name)
        print(f"Message ignoré : {name} ({error})", file=sys.stderr)

    messages = list(iter_mailbox(args.path, on_error=skip))
    results = asyncio.run(_triage_all(messages, rules, args.models, not args.quiet))
    rows = [msgspec.to_builtins(r) for r in results]
    if args.format == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "reasons": " ; ".join(row["reasons"]), "phishing": " ; ".join(row["phishing"]),
                             "needs_reply": "true" if row["needs_reply"] else "false", "deadline": row["deadline"] or ""})
    return 0  # the unreadable messages were named on stderr; the others are all in the output


async def _triage_all(messages, rules, models_file: Path | None, progress: bool):
    from plume.tasks.common import InvalidModelOutput
    from plume.tasks.triage import triage, triage_by_rules

    inference = await _inference(models_file) if models_file else None
    results = []
    try:
        for done, mail in enumerate(messages, start=1):
            try:
                results.append(await triage(mail, rules, inference))
            except InvalidModelOutput:
                result = triage_by_rules(mail, rules)
                result.reasons.insert(0, "le modèle n'a pas donné de réponse valide : classement par les règles")
                results.append(result)
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
