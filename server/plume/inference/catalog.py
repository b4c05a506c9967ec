"""The model catalog (models.toml): which models this server has, what they serve, how to run them.

`load_catalog(path)` reads and validates the file; `check_files(entry)` tells what is wrong with a
model's folder without loading it; `create_engine(entry)` builds the engine for an entry. Paths in
the file are relative to the file itself; after loading, `entry.path` is absolute.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Literal

import msgspec

from plume.inference.engine import Engine, EngineError

# "embedding": a sentence encoder for search (inference/embeddings.py OnnxEmbedder), not a task engine;
# "speech": Whisper through faster-whisper / CTranslate2 (inference/speech.py).
Kind = Literal["decoder", "encoder-decoder", "upstream", "embedding", "speech"]
DEFAULT_RUNTIME = {"decoder": "onnxruntime-genai", "encoder-decoder": "onnxruntime", "upstream": "openai",
                   "embedding": "onnxruntime", "speech": "ctranslate2"}
KINDS: tuple[str, ...] = ("decoder", "encoder-decoder", "upstream", "embedding", "speech")


class CatalogError(ValueError):
    """models.toml cannot be read or is malformed (French message, names the file and the entry)."""


class GenerationDefaults(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    num_beams: int = 1


class SpeechDefaults(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """[models.speech] of a kind = "speech" entry (Whisper through faster-whisper; docs/transcription.md)."""

    workers: int = 1  # transcriptions running at once on this model (its own slots in the scheduler)
    cpu_threads: int = 0  # CPU threads of one transcription; 0 = half the CPUs, so text tasks keep the rest
    compute_type: str = ""  # "" = int8 on the CPU, float16 on a GPU
    beam_size: int = 0  # 0 = 5 on a GPU (Whisper's default), 1 on the CPU (greedy: 3x faster, measured)
    temperatures: list[float] = []  # a ladder tried in turn on a doubtful window; [] = Whisper's 0.0, 0.2 … 1.0


class ModelEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    id: str
    kind: Kind
    tasks: list[str]
    path: str = ""
    runtime: str = ""
    languages: list[str] = msgspec.field(default_factory=list)  # MT models: pairs such as "fr-es"
    providers: list[str] = msgspec.field(default_factory=lambda: ["cuda", "cpu"])
    context_length: int = 4096
    chat_template: str | None = None  # overrides the tokenizer's template
    generation: GenerationDefaults = msgspec.field(default_factory=GenerationDefaults)
    speech: SpeechDefaults = msgspec.field(default_factory=SpeechDefaults)  # kind = "speech" only
    # kind = "upstream" only: an OpenAI-compatible server.
    url: str = ""
    model: str = ""
    api_key_env: str = ""
    # kind = "embedding" only: what the model was trained with (e5: "query: " and "passage: ").
    query_prefix: str = ""
    passage_prefix: str = ""
    pooling: Literal["mean", "cls"] = "mean"

    def __post_init__(self) -> None:
        if not self.runtime:
            self.runtime = DEFAULT_RUNTIME[self.kind]

    @property
    def folder(self) -> Path:
        return Path(self.path)

    def serves_pair(self, pair: str) -> bool:
        """Whether this model translates `pair` ("fr-es"). Pair models list pairs; LLMs list languages."""
        if self.kind == "encoder-decoder":
            return pair in self.languages
        source, _, target = pair.partition("-")
        return not self.languages or (source in self.languages and target in self.languages)


class _CatalogFile(msgspec.Struct, forbid_unknown_fields=True):
    models: list[ModelEntry] = msgspec.field(default_factory=list)


class Catalog(msgspec.Struct):
    path: Path
    models: list[ModelEntry]

    def get(self, model_id: str) -> ModelEntry | None:
        return next((m for m in self.models if m.id == model_id), None)

    def for_task(self, task: str, language_pair: str | None = None) -> list[ModelEntry]:
        """Models serving `task`, best first: catalog order, except that for a language pair the
        translation models made for exactly that pair come before general models."""
        found = [m for m in self.models if task in m.tasks]
        if language_pair:
            found = [m for m in found if m.serves_pair(language_pair)]
            found.sort(key=lambda m: m.kind != "encoder-decoder")
        return found

    @property
    def tasks(self) -> set[str]:
        return {t for m in self.models for t in m.tasks}


def load_catalog(path: Path | str) -> Catalog:
    """Read models.toml. A missing file is an empty catalog; a malformed one raises CatalogError."""
    path = Path(path).expanduser().resolve()
    if not path.exists():
        return Catalog(path=path, models=[])
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        models = msgspec.convert(raw, _CatalogFile).models
    except (tomllib.TOMLDecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise CatalogError(f"Catalogue des modèles illisible ({path}) : {exc}") from exc
    seen: set[str] = set()
    for entry in models:
        if entry.id in seen:
            raise CatalogError(f"Catalogue {path} : l'identifiant « {entry.id} » figure deux fois.")
        seen.add(entry.id)
        if entry.kind != "upstream":
            if not entry.path:
                raise CatalogError(f"Catalogue {path} : le modèle « {entry.id} » n'a pas de chemin (path).")
            entry.path = str((path.parent / entry.path).resolve())
    return Catalog(path=path, models=models)


# --------------------------------------------------------------------------- folder validation

DECODER_FILES = ("genai_config.json", "tokenizer.json")
EMBEDDING_FILES = ("model.onnx", "tokenizer.json")
SEQ2SEQ_FILES = ("encoder_model.onnx", "config.json", "tokenizer.json")
# A CTranslate2 Whisper folder. tokenizer.json is required: without it faster-whisper would fetch one
# from a model hub, and the server never goes online.
SPEECH_FILES = ("model.bin", "config.json", "tokenizer.json")


def check_files(entry: ModelEntry) -> list[str]:
    """What is missing or wrong in the model's folder (French, one problem per item; empty = fine).
    Cheap: reads small JSON files, never the weights."""
    if entry.kind == "upstream":
        return [] if entry.url else [f"« {entry.id} » : l'adresse (url) du serveur amont manque."]
    folder = entry.folder
    if not folder.is_dir():
        return [f"« {entry.id} » : le dossier {folder} n'existe pas."]
    if entry.kind == "decoder":
        problems = _missing(folder, DECODER_FILES)
        problems += _check_genai_config(folder)
    elif entry.kind == "embedding":
        problems = _missing(folder, EMBEDDING_FILES)
    elif entry.kind == "speech":
        problems = _missing(folder, SPEECH_FILES)
        if not (folder / "vocabulary.txt").is_file() and not (folder / "vocabulary.json").is_file():
            problems.append("fichier manquant : vocabulary.txt (ou vocabulary.json)")
        problems += [f"fichier vide : {p.name}" for p in folder.glob("model.bin") if p.stat().st_size == 0]
    else:
        problems = _missing(folder, SEQ2SEQ_FILES)
        if not (folder / "decoder_model_merged.onnx").exists() and not (folder / "decoder_model.onnx").exists():
            problems.append("fichier manquant : decoder_model_merged.onnx (ou decoder_model.onnx)")
        bad_pairs = [p for p in entry.languages if len(p.split("-")) != 2]
        if bad_pairs:
            problems.append(f"paires de langues invalides (attendu « fr-de ») : {', '.join(bad_pairs)}")
    problems += [f"fichier vide : {p.name}" for p in folder.glob("*.onnx") if p.stat().st_size == 0]
    return [f"« {entry.id} » : {p}" for p in problems]


def _missing(folder: Path, names: tuple[str, ...]) -> list[str]:
    return [f"fichier manquant : {name}" for name in names if not (folder / name).is_file()]


def _check_genai_config(folder: Path) -> list[str]:
    config_file = folder / "genai_config.json"
    if not config_file.is_file():
        return []
    try:
        decoder = json.loads(config_file.read_text())["model"]["decoder"]
    except (ValueError, KeyError, TypeError):
        return ["genai_config.json illisible (attendu : la sortie du model builder onnxruntime-genai)"]
    onnx_file = decoder.get("filename", "model.onnx")
    return [] if (folder / onnx_file).is_file() else [f"fichier manquant : {onnx_file}"]


# --------------------------------------------------------------------------- engines


def create_engine(entry: ModelEntry) -> Engine:
    """Load the model. Raises EngineError (French, no user text) when it cannot be loaded."""
    problems = check_files(entry)
    if problems:
        raise EngineError("; ".join(problems))
    if entry.kind == "embedding":
        raise EngineError(f"« {entry.id} » est un modèle de plongement pour la recherche, pas un moteur de tâches.")
    if entry.kind == "decoder":
        from plume.inference.onnx_genai import GenAIEngine

        return GenAIEngine(entry.folder, model_id=entry.id, context_length=entry.context_length,
                           providers=entry.providers, chat_template=entry.chat_template)
    if entry.kind == "encoder-decoder":
        from plume.inference.seq2seq import Seq2SeqEngine

        return Seq2SeqEngine(entry.folder, model_id=entry.id, context_length=entry.context_length,
                             providers=entry.providers, languages=entry.languages)
    if entry.kind == "speech":
        from plume.inference.speech import SpeechEngine

        return SpeechEngine.from_entry(entry)
    from plume.inference.upstream import UpstreamEngine

    return UpstreamEngine.from_entry(entry)
