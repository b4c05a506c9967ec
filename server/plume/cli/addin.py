"""`plume addin …`: build what IT deploys for the office add-ins.

  plume addin manifest --url https://plume.example.ch [--output FILE]   Word add-in manifest
  plume addin build-oxt …                                               LibreOffice extension
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("addin", help="compléments Word et LibreOffice")
    commands = parser.add_subparsers(dest="addin_command", metavar="SOUS-COMMANDE")
    _register_manifest(commands)
    _register_build_oxt(commands)
    parser.set_defaults(func=lambda _args: parser.print_help() or 2)


# --- Word: the XML add-in manifest --------------------------------------------------------------

def _register_manifest(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("manifest", help="écrire le manifeste du complément Word pour l'adresse publique du serveur")
    parser.add_argument("--url", required=True, help="origine HTTPS publique du serveur, p. ex. https://plume.lelocle.ch")
    parser.add_argument("--output", type=Path, help="fichier à écrire (sinon la sortie standard)")
    parser.add_argument("--version", dest="manifest_version",
                        help="numéro de version du manifeste (p. ex. 1.0.1.0) ; à augmenter à chaque changement")
    parser.set_defaults(func=_manifest)


def _manifest(args: argparse.Namespace) -> int:
    from plume.word_addin import ManifestError, word_manifest

    try:
        text = word_manifest(args.url, args.manifest_version)
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"Manifeste écrit : {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


# --- LibreOffice: the .oxt extension (its issue fills this in) ----------------------------------

def _register_build_oxt(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("build-oxt", help="construire l'extension LibreOffice (.oxt)")
    parser.set_defaults(func=lambda _args: print("Pas encore disponible.", file=sys.stderr) or 2)
