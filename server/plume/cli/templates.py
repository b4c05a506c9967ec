"""`plume templates check PATH` (lint) and `plume templates list`."""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path

from plume.config import REPO_ROOT


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("templates", help="modèles de lettres : vérifier, lister")
    commands = parser.add_subparsers(dest="templates_command", metavar="SOUS-COMMANDE")
    check = commands.add_parser("check", help="vérifier un dossier de modèles, un modèle ou un fichier")
    check.add_argument("path", type=Path, nargs="?", default=REPO_ROOT / "templates",
                       help="dossier de modèles, dossier d'un modèle, model.docx/.odt ou template.toml")
    check.add_argument("--json", action="store_true", help="résultat en JSON")
    check.set_defaults(func=run_check)
    listing = commands.add_parser("list", help="lister les modèles d'un dossier")
    listing.add_argument("path", type=Path, nargs="?", default=REPO_ROOT / "templates")
    listing.set_defaults(func=run_list)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _commune_for(path: Path) -> dict:
    """commune.toml of the library the path belongs to (its folder or one of its parents)."""
    for folder in [path, *path.resolve().parents]:
        candidate = folder / "commune.toml"
        if candidate.is_file():
            try:
                return tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                return {}
    return {}


def run_check(args: argparse.Namespace) -> int:
    from plume.documents.lint import lint_path

    findings = lint_path(args.path, commune=_commune_for(args.path))
    errors = [f for f in findings if f.severity == "error"]
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            print(("ERREUR " if finding.severity == "error" else "remarque ") + str(finding))
        print(f"{len(errors)} erreur(s)." if errors else "Aucune erreur : les modèles sont prêts.")
    return 1 if errors else 0


def run_list(args: argparse.Namespace) -> int:
    from plume.documents.manifest import ManifestError, load_manifest

    for manifest_file in sorted(Path(args.path).glob("*/template.toml")):
        try:
            manifest = load_manifest(manifest_file)
        except ManifestError as exc:
            print(f"{manifest_file.parent.name}\t(illisible : {exc})")
            continue
        languages = ",".join(["fr", *manifest.translations])
        print(f"{manifest.id}\t{manifest.category}\t{languages}\t{manifest.title}")
    return 0
