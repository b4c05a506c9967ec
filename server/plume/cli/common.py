"""Options shared by several commands."""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

import msgspec

from plume.config import Settings, load_settings


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="fichier de configuration TOML (ou PLUME_CONFIG)")
    parser.add_argument("--data", type=Path, dest="data_dir", help="dossier des données (ou PLUME_DATA_DIR)")


def quiet_closed_stdout() -> None:
    """After a BrokenPipeError on stdout (`plume … | head`): point stdout at /dev/null, or Python
    reports the closed pipe again when it flushes stdout at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def settings_from(args: argparse.Namespace, **extra) -> Settings:
    """The settings, or exit 2 with a French line naming what is wrong (a traceback helps no one)."""
    overrides = {"data_dir": getattr(args, "data_dir", None), **extra}
    try:
        return load_settings(getattr(args, "config", None), **overrides)
    except OSError as exc:
        where = f"{exc.filename} : " if exc.filename else ""
        print(f"Configuration illisible : {where}{exc.strerror or exc}", file=sys.stderr)
    except tomllib.TOMLDecodeError as exc:
        print(f"Configuration illisible (TOML) : {exc}", file=sys.stderr)
    except msgspec.ValidationError as exc:  # e.g. « Expected `int` <= 65535 - at `$.port` »
        print(f"Configuration illisible : réglage invalide, {exc} (nom du réglage après « $. »).", file=sys.stderr)
    raise SystemExit(2)
