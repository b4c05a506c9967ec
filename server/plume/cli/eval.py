"""`plume eval`: compare catalog models on the writing tasks over an evaluation folder (default: the
repo's samples); a table on the terminal, and optionally an HTML page (a chart per task) and JSON.
Exit 0 when it ran, whatever the scores."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def register(subparsers: argparse._SubParsersAction) -> None:
    from plume.evaluation import TASKS as TEXT_TASKS
    from plume.speech.evaluation import TASKS as SPEECH_TASKS

    TASKS = (*TEXT_TASKS, *SPEECH_TASKS)

    parser = subparsers.add_parser("eval", help="évaluer des modèles du catalogue sur les tâches d'écriture",
                                   description="Fait tourner les tâches d'écriture sur un dossier d'évaluation avec "
                                               "un ou plusieurs modèles et mesure validité, accord avec les valeurs "
                                               "attendues, faits gardés, lisibilité, balises, durées et vitesse.")
    parser.add_argument("--models", type=Path, required=True, help="catalogue des modèles (models.toml)")
    parser.add_argument("--model", action="append", default=[], metavar="ID",
                        help="identifiant d'un modèle à évaluer (répétable ; défaut : tous ceux du catalogue)")
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"tâches, séparées par des virgules ({','.join(TASKS)})")
    parser.add_argument("--data", type=Path, default=REPO / "tests" / "data" / "samples",
                        help="dossier d'évaluation (structure des exemples : cases/, emails/, texts/, notes/, "
                             "regulations/, speech/)")
    parser.add_argument("--html", type=Path, help="écrire un rapport HTML (un graphique par tâche)")
    parser.add_argument("--json", type=Path, help="écrire les mesures en JSON")
    parser.add_argument("--unconstrained", action="store_true",
                        help="sans décodage contraint (pour mesurer ce qu'il apporte)")
    parser.add_argument("--quiet", action="store_true", help="pas de barre de progression")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from plume.evaluation import TASKS, evaluate, html, progress_bar, table
    from plume.inference.catalog import CatalogError, load_catalog
    from plume.speech import evaluation as speech

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if unknown := [t for t in tasks if t not in (*TASKS, *speech.TASKS)]:
        print(f"Tâche inconnue : {', '.join(unknown)} (connues : {', '.join((*TASKS, *speech.TASKS))}).",
              file=sys.stderr)
        return 2
    if not args.data.is_dir():
        print(f"Dossier d'évaluation introuvable : {args.data}", file=sys.stderr)
        return 2
    try:
        catalog = load_catalog(args.models)
    except (CatalogError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if unknown := [m for m in args.model if catalog.get(m) is None]:
        print(f"Modèle absent du catalogue {args.models} : {', '.join(unknown)}.", file=sys.stderr)
        return 2
    text_tasks = [t for t in tasks if t in TASKS]
    report = asyncio.run(evaluate(args.models, args.model, text_tasks, args.data, REPO,
                                  progress=None if args.quiet else progress_bar,
                                  constrained=not args.unconstrained)) if text_tasks else \
        {"models": [], "tasks": {}, "data": str(args.data), "constrained": not args.unconstrained}
    if text_tasks:
        print(table(report))
    if "transcribe" in tasks:  # word error rate and speed of the speech models (plume/speech/evaluation.py)
        transcribed = speech.evaluate(args.models, args.model, args.data,
                                      progress=None if args.quiet else progress_bar)
        report["tasks"]["transcribe"] = transcribed
        report["models"] = list(dict.fromkeys([*report["models"], *transcribed]))
        print(speech.table(transcribed))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.html:
        text_report = {**report, "tasks": {k: v for k, v in report["tasks"].items() if k != "transcribe"}}
        page = html(text_report)
        if "transcribe" in report["tasks"]:
            page = page.replace("</body></html>", speech.html_section(report["tasks"]["transcribe"]) + "</body></html>")
        args.html.write_text(page, encoding="utf-8")
    return 0
