"""`plume models list | check | add`: the model catalog (models.toml)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import msgspec
import tomli_w

from plume.config import load_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="catalogue des modèles (lister, vérifier, ajouter)")
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    show = sub.add_parser("list", help="les modèles du catalogue : id, type, tâches, état")
    _models_option(show)
    show.set_defaults(func=list_models)

    check = sub.add_parser("check", help="charge chaque modèle et génère quelques jetons")
    _models_option(check)
    check.add_argument("--id", dest="only", action="append", help="ne vérifier que ce modèle (répétable)")
    check.set_defaults(func=check_models)

    add = sub.add_parser("add", help="ajoute au catalogue un dossier de modèle après l'avoir vérifié")
    _models_option(add)
    add.add_argument("folder", type=Path, metavar="DOSSIER", help="dossier du modèle exporté")
    add.add_argument("--id", required=True, help="identifiant du modèle (ex. qwen2.5-7b-instruct-int4)")
    add.add_argument("--kind", required=True, choices=["decoder", "encoder-decoder", "speech"],
                     help="decoder (LLM, onnxruntime-genai), encoder-decoder (traduction, optimum) ou speech "
                          "(transcription : Whisper au format CTranslate2)")
    add.add_argument("--tasks", required=True, help="tâches servies, séparées par des virgules (ex. chat,summarize)")
    add.add_argument("--languages", default="", help="langues (fr,de) ou, pour la traduction, paires (fr-de,de-fr)")
    add.add_argument("--context-length", type=int, help="longueur de contexte (défaut : celle du modèle)")
    add.add_argument("--providers", default="cuda,cpu", help="fournisseurs d'exécution par préférence")
    add.set_defaults(func=add_model)


def _models_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", type=Path, dest="models_file",
                        help="catalogue des modèles (défaut : onnx_models/models.toml ou PLUME_MODELS_FILE)")


def _catalog_path(args: argparse.Namespace) -> Path:
    return args.models_file or load_settings().models_file


def _load(args: argparse.Namespace):
    from plume.inference.catalog import CatalogError, load_catalog

    path = _catalog_path(args)
    try:
        return load_catalog(path)
    except CatalogError as exc:
        print(f"ERREUR : {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


# --------------------------------------------------------------------------- list


def list_models(args: argparse.Namespace) -> int:
    from plume.inference.catalog import check_files

    catalog = _load(args)
    if not catalog.models:
        print(f"Aucun modèle dans {catalog.path} (voir docs/models.md).", file=sys.stderr)
        return 0
    width = max(len(m.id) for m in catalog.models)
    for entry in catalog.models:
        problems = check_files(entry)
        state = "installé" if not problems else ("absent" if "n'existe pas" in problems[0] else "incomplet")
        print(f"{entry.id:<{width}}  {entry.kind:<15}  {','.join(entry.tasks):<40}  {state}")
    return 0


# --------------------------------------------------------------------------- check


def check_models(args: argparse.Namespace) -> int:
    from plume.inference.catalog import create_engine
    from plume.inference.engine import CancelToken, EngineError, GenerationParams

    catalog = _load(args)
    entries = [m for m in catalog.models if not args.only or m.id in args.only]
    if not entries:
        print(f"Aucun modèle à vérifier dans {catalog.path}.", file=sys.stderr)
        return 1
    failures = 0
    for entry in entries:
        started = time.monotonic()
        try:
            engine = create_engine(entry)
            if entry.kind == "speech":  # a second of a tone: the model ran, whatever it heard in it
                tokens = engine.self_check()
            else:
                prompt = engine.format_chat([{"role": "user", "content": "Bonjour, pouvez-vous confirmer la réception ?"}])
                chunks = list(engine.generate(prompt, GenerationParams(max_new_tokens=4), CancelToken()))
                tokens = sum(c.tokens for c in chunks)
                if tokens == 0:
                    raise EngineError("aucun jeton généré")
            engine.close()
        except Exception as exc:  # noqa: BLE001 - report every model, then the exit status
            failures += 1
            print(f"ERREUR  {entry.id}  {exc}")
            continue
        where = getattr(engine, "provider", entry.runtime)
        print(f"OK      {entry.id}  {tokens} jetons générés en {time.monotonic() - started:.1f} s ({where})")
    return 1 if failures else 0


# --------------------------------------------------------------------------- add


def add_model(args: argparse.Namespace) -> int:
    from plume.inference.catalog import ModelEntry, check_files

    path = _catalog_path(args).expanduser().resolve()
    catalog = _load(args)
    folder = args.folder.expanduser().resolve()
    if catalog.get(args.id):
        print(f"ERREUR : l'identifiant « {args.id} » existe déjà dans {path}.", file=sys.stderr)
        return 1
    entry = ModelEntry(
        id=args.id, kind=args.kind, path=_relative(folder, path.parent),
        tasks=_split(args.tasks), languages=_split(args.languages), providers=_split(args.providers),
        context_length=args.context_length or _model_context_length(folder, args.kind),
    )
    checked = msgspec.structs.replace(entry, path=str(folder))
    problems = check_files(checked)
    if problems:
        print("ERREUR : le dossier n'est pas un modèle utilisable :", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    fields = {k: v for k, v in msgspec.to_builtins(entry).items() if v != {}}
    block = tomli_w.dumps({"models": [fields]})
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    separator = "\n" if existing and not existing.endswith("\n\n") else ""
    path.write_text(existing + separator + block, encoding="utf-8")
    print(f"Modèle « {args.id} » ajouté à {path}. Vérifiez-le avec : plume models check --models {path} --id {args.id}")
    return 0


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _relative(folder: Path, base: Path) -> str:
    try:
        return folder.relative_to(base).as_posix()
    except ValueError:
        return str(folder)


def _model_context_length(folder: Path, kind: str) -> int:
    """The model's own context length, read from its exported config."""
    try:
        if kind == "decoder":
            return int(json.loads((folder / "genai_config.json").read_text())["model"]["context_length"])
        if kind == "speech":
            return 448  # Whisper's decoder window
        return int(json.loads((folder / "config.json").read_text()).get("max_position_embeddings", 512))
    except (OSError, ValueError, KeyError):
        return 4096
