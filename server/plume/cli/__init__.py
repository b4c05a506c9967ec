"""The `plume` command. Each command group lives in its own module with a `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import sys

from plume import __version__
from plume.cli.common import quiet_closed_stdout

COMMAND_GROUPS = ("serve", "users", "templates", "models", "triage", "triage_learn", "addin", "ops", "mail", "eval",
                  "search")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plume", description="Plume, l'assistant d'écriture local de la commune.")
    parser.add_argument("--version", action="version", version=f"plume {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMANDE")
    for name in COMMAND_GROUPS:
        importlib.import_module(f"plume.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["triage", "learn"]:  # `plume triage PATH` takes any path: `learn` is its own command
        argv = ["triage-learn", *argv[2:]]
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # a reader that stops early (`plume templates list | head`) is not an error
        quiet_closed_stdout()
        return 0


if __name__ == "__main__":
    sys.exit(main())
