"""Options shared by several commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from plume.config import Settings, load_settings


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="fichier de configuration TOML (ou PLUME_CONFIG)")
    parser.add_argument("--data", type=Path, dest="data_dir", help="dossier des données (ou PLUME_DATA_DIR)")


def settings_from(args: argparse.Namespace, **extra) -> Settings:
    overrides = {"data_dir": getattr(args, "data_dir", None), **extra}
    return load_settings(getattr(args, "config", None), **overrides)
