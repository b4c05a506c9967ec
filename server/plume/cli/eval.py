"""`plume eval`: compare catalog models on the writing tasks over an evaluation folder (default: the
repo's samples); a table on the terminal, and optionally an HTML page (a chart per task) and JSON.
Exit 0 when it ran, whatever the scores. The measuring is plume.evaluation; showing it is here."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]


def register(subparsers: argparse._SubParsersAction) -> None:
    from plume.evaluation import TASKS as TEXT_TASKS
    from plume.speech.evaluation import TASKS as SPEECH_TASKS

    TASKS = (*TEXT_TASKS, *SPEECH_TASKS)

    parser = subparsers.add_parser("eval", help="évaluer des modèles du catalogue sur les tâches d'écriture",
                                   description="Fait tourner les tâches d'écriture sur un dossier d'évaluation avec "
                                               "un ou plusieurs modèles et mesure validité, accord avec les valeurs "
                                               "attendues, faits gardés, lisibilité, balises, durées et vitesse.")
    parser.add_argument("--models", type=Path,
                        help="catalogue des modèles (models.toml) ; sans lui, seuls le tri (sans modèle) et la "
                             "recherche se mesurent")
    parser.add_argument("--learned", type=Path, metavar="DONNÉES",
                        help="tri : le dossier des données où « plume triage learn » a appris (ligne « appris »)")
    parser.add_argument("--model", action="append", default=[], metavar="ID",
                        help="identifiant d'un modèle à évaluer (répétable ; défaut : tous ceux du catalogue)")
    parser.add_argument("--tasks", default=",".join(TASKS),
                        help=f"tâches, séparées par des virgules ({','.join(TASKS)}, search, answer)")
    parser.add_argument("--data", type=Path, default=REPO / "tests" / "data" / "samples",
                        help="dossier d'évaluation (structure des exemples : cases/, emails/, texts/, notes/, "
                             "regulations/, speech/)")
    parser.add_argument("--html", type=Path, help="écrire un rapport HTML (un graphique par tâche)")
    parser.add_argument("--json", type=Path, help="écrire les mesures en JSON")
    parser.add_argument("--unconstrained", action="store_true",
                        help="sans décodage contraint (pour mesurer ce qu'il apporte)")
    parser.add_argument("--quiet", action="store_true", help="pas de barre de progression")
    search = parser.add_argument_group("recherche et réponses (--tasks search,answer)")
    search.add_argument("--collections", type=Path, default=REPO / "tests" / "data" / "search" / "collections.toml",
                        help="collections à indexer (défaut : le corpus de test du dépôt)")
    search.add_argument("--questions", type=Path, default=REPO / "tests" / "data" / "search" / "questions.toml",
                        help="questions avec le passage attendu")
    search.add_argument("--embedders", help="plongements à comparer, séparés par des virgules (défaut : ceux de la "
                                            "configuration)")
    search.add_argument("--answer-forms", default="structured",
                        help="variantes de réponse à comparer avec --models : structured (ce que fait le serveur : "
                             "JSON contraint), judged (oui/non d'abord), free (texte libre) ; défaut structured")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from plume.evaluation import TASKS
    from plume.speech import evaluation as speech

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if {"search", "answer"} & set(tasks):
        code = search_eval(args, tasks)
        tasks = [t for t in tasks if t not in ("search", "answer")]
        if code or not tasks:
            return code
    if unknown := [t for t in tasks if t not in (*TASKS, *speech.TASKS)]:
        print(f"Tâche inconnue : {', '.join(unknown)} (connues : {', '.join((*TASKS, *speech.TASKS))}).",
              file=sys.stderr)
        return 2
    if not args.data.is_dir():
        print(f"Dossier d'évaluation introuvable : {args.data}", file=sys.stderr)
        return 2
    if args.models is None and tasks != ["triage"]:
        print("Sans --models, seuls le tri (--tasks triage) et la recherche (--tasks search) peuvent être évalués.",
              file=sys.stderr)
        return 2
    report = _models_report(args, [t for t in tasks if t in TASKS])
    if report is None:
        return 2
    if "triage" in tasks:  # every way of triaging, field by field (plume.routing.evaluation)
        from plume.routing import evaluation as routing_evaluation

        rows = routing_evaluation.without_model(args.data, args.learned)
        rows.update({m: metrics["triage"] for m, metrics in report["tasks"].get("triage", {}).items()
                     if metrics.get("triage")})
        report["triage"] = rows
        print(("\n" if args.models else "") + routing_evaluation.table(rows))
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


def _models_report(args: argparse.Namespace, text_tasks: list[str]) -> dict[str, Any] | None:
    """The writing tasks run by each model of the catalog (None: a bad catalog or model id, said)."""
    from plume.evaluation import evaluate
    from plume.inference.catalog import CatalogError, load_catalog

    report: dict[str, Any] = {"models": [], "tasks": {}, "data": str(args.data), "constrained": not args.unconstrained}
    if args.models is None:
        return report
    try:
        catalog = load_catalog(args.models)
    except (CatalogError, OSError) as exc:
        print(str(exc), file=sys.stderr)
        return None
    if unknown := [m for m in args.model if catalog.get(m) is None]:
        print(f"Modèle absent du catalogue {args.models} : {', '.join(unknown)}.", file=sys.stderr)
        return None
    if text_tasks:
        report = asyncio.run(evaluate(args.models, args.model, text_tasks, args.data, REPO,
                                      progress=None if args.quiet else progress_bar,
                                      constrained=not args.unconstrained, learned=args.learned))
        print(table(report))
    return report


def fmt(metric: str, value: Any) -> str:
    if value is None:
        return "—"
    if metric in ("valid", "agree", "facts", "tags"):
        return f"{value:.0%}"
    if metric in ("errors", "items"):
        return str(value)
    return f"{value:.1f}" if metric != "ttft_s" else f"{value:.2f}"


COLUMNS = [("items", "n"), ("valid", "valide"), ("agree", "accord"), ("facts", "faits"), ("kandel_moles_before", "KM avant"),
           ("kandel_moles_after", "KM après"), ("words_per_sentence", "mots/phrase"), ("grammar", "fautes"), ("tags", "balises"),
           ("latency_s", "durée s"), ("ttft_s", "1er jeton s"), ("tokens_per_s", "jetons/s"), ("errors", "échecs")]


def table(report: dict[str, Any]) -> str:
    rows = [["tâche", "modèle", *[label for _, label in COLUMNS]]]
    for task, by_model in report["tasks"].items():
        for model_id, metrics in by_model.items():
            rows.append([task, model_id, *[fmt(key, metrics.get(key)) for key, _ in COLUMNS]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def progress_bar(task: str, model: str, done: int, total: int, width: int = 30) -> None:
    filled = width * done // max(total, 1)
    label = f" {task} · {model}" if task else ""
    sys.stderr.write(f"\rÉvaluation [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{label:<40}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def html(report: dict[str, Any]) -> str:
    from html import escape

    parts = ["<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Plume : évaluation des modèles</title>",
             "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:right}td:first-child,th:first-child"
             "{text-align:left}h2{margin-top:2rem}</style></head><body>",
             f"<h1>Évaluation des modèles</h1><p>Données : {escape(report['data'])}. « — » : mesure sans objet pour "
             "cette tâche.</p>"]
    for task, by_model in report["tasks"].items():
        if not by_model:
            continue
        parts.append(f"<h2>{escape(task)}</h2>")
        parts.append(_chart(by_model))
        head = "".join(f"<th>{escape(label)}</th>" for _, label in COLUMNS)
        body = "".join(f"<tr><td>{escape(m)}</td>" + "".join(f"<td>{escape(fmt(k, v.get(k)))}</td>" for k, _ in COLUMNS)
                       + "</tr>" for m, v in by_model.items())
        parts.append(f"<table><tr><th>modèle</th>{head}</tr>{body}</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _chart(by_model: dict[str, dict]) -> str:
    """Inline SVG: one bar per model for each share metric the task has (0-100 %)."""
    from html import escape

    shares = [(k, label) for k, label in COLUMNS if k in ("valid", "agree", "facts", "tags")
              and any(v.get(k) is not None for v in by_model.values())]
    if not shares:
        return "<p>Aucune part mesurable pour cette tâche (voir le tableau).</p>"
    bar, gap, label_w, scale = 14, 6, 200, 300
    rows = [(f"{label} · {m}", v.get(k)) for k, label in shares for m, v in by_model.items()]
    height = len(rows) * (bar + gap) + gap
    svg = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{label_w + scale + 60}' height='{height}' role='img'>"]
    for i, (name, value) in enumerate(rows):
        y = gap + i * (bar + gap)
        svg.append(f"<text x='0' y='{y + bar - 3}' font-size='12'>{escape(name)}</text>")
        if value is None:
            svg.append(f"<text x='{label_w}' y='{y + bar - 3}' font-size='12'>—</text>")
            continue
        svg.append(f"<rect x='{label_w}' y='{y}' width='{value * scale:.1f}' height='{bar}' fill='#2a6fb0'/>")
        svg.append(f"<text x='{label_w + value * scale + 4:.1f}' y='{y + bar - 3}' font-size='12'>{value:.0%}</text>")
    svg.append("</svg>")
    return "".join(svg)


def search_eval(args, tasks: list[str]) -> int:
    """`plume eval --tasks search,answer`: index the collections in a temporary folder, print the tables
    (and write the measures with --json, under the keys "search" and "answer")."""
    import tomllib

    import msgspec

    from plume.cli.common import settings_from
    from plume.search.dense import EmbedderUnavailable, embedders_for
    from plume.search.evaluate import evaluate, indexed_service, load_questions, table

    settings = settings_from(args)
    names = [n.strip() for n in args.embedders.split(",")] if args.embedders else settings.search_embedders
    try:
        embedders = embedders_for(names, args.models or settings.models_file)
        questions = load_questions(args.questions)
    except (EmbedderUnavailable, OSError, KeyError, msgspec.ValidationError, tomllib.TOMLDecodeError) as exc:
        print(f"Évaluation de la recherche impossible : {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="plume-eval-search-") as folder:
        if not args.quiet:
            print(f"Indexation de {args.collections}…", file=sys.stderr, flush=True)
        service = indexed_service(args.collections, embedders, settings.max_document_bytes, Path(folder),
                                  weights=dict(settings.search_weights))
        measured = {}
        if "search" in tasks:
            measured["search"] = evaluate(service, questions)
            print(table(measured["search"]))
        if "answer" in tasks:
            measured["answer"] = answer_eval(args, service, questions, settings.search_answer_min_score)
        service.store.close()
    if args.json:
        args.json.write_text(json.dumps(measured, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def answer_eval(args, service, questions, threshold: float) -> dict:
    from plume import evaluation_answers

    forms = [f.strip() for f in args.answer_forms.split(",") if f.strip() in evaluation_answers.VARIANTS]

    def progress(label: str, done: int, total: int) -> None:
        if not args.quiet:
            progress_bar("answer", label, done, total)

    report = asyncio.run(evaluation_answers.evaluate(service, questions, threshold, args.models, args.model, forms,
                                                     progress=progress))
    print(evaluation_answers.table(report))
    return report
