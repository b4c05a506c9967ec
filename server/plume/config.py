"""Settings: built-in defaults, then a TOML file, then PLUME_* environment variables, then CLI flags.

Every key is documented in docs/configuration.md.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

REPO_ROOT = Path(__file__).resolve().parents[2]
# Measured on tests/data/search/questions.toml (docs/search.md): both embedders fused beat either alone.
DEFAULT_SEARCH_EMBEDDERS = ("e5-small", "use-multilingual-v3")


class MailAccount(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`[[mail]]`: one IMAP mailbox the mail worker (plume.mailbox) triages in place (docs/mailbox.md).
    Defined here, with the other settings, because every layer reads the settings: the worker's own
    package sits above the tasks, and the settings must not import it."""
    host: str
    user: str
    port: int = 0                         # 0: 993 for implicit TLS, 143 for STARTTLS
    tls: Literal["implicit", "starttls"] = "implicit"
    password_file: Path | None = None     # readable by the service user only
    password_env: str = ""                # or the name of an environment variable
    # "xoauth2": the file/variable holds an OAuth2 access token (Microsoft 365), kept fresh by another
    # tool; Plume reads it at each connection and never talks to the identity provider itself.
    auth: Literal["password", "xoauth2"] = "password"
    folders: list[str] = msgspec.field(default_factory=lambda: ["INBOX"])
    drafts_folder: str = "Drafts"
    move: bool = False                    # move each message to its service's folder (rules_file)
    keywords: bool = True                 # write Plume/… keywords on the messages
    name: str = ""                        # short name in the state, audit and logs (default: user)
    rules_file: Path | None = None        # service → folder (TOML); default DATA/mail-folders.toml
    ca_file: Path | None = None           # the commune's internal CA, when its server uses one
    keyword_prefix: str = "Plume/"
    drafts: bool = True                   # prepare acknowledgements in drafts_folder
    signature: str = ""                   # last line of the acknowledgements (e.g. "Commune du Locle")
    poll_seconds: float = 60.0            # between passes when the server has no IDLE
    idle_seconds: float = 600.0           # longest IDLE wait before a new pass (RFC 9051: under 29 min)
    timeout_s: float = 60.0               # network timeout of one IMAP command
    backlog_days: int = 30                # first pass: only mail received in the last N days (0: all)

    @property
    def label(self) -> str:
        return self.name or self.user.partition("@")[0] or self.host


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    data_dir: Path = REPO_ROOT / "data"
    templates_dir: Path = REPO_ROOT / "templates"
    models_file: Path = REPO_ROOT / "onnx_models" / "models.toml"
    # Public HTTPS origin the add-ins use (e.g. https://plume.lelocle.ch); empty = same as served.
    public_url: str = ""
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Limits: request body, uploaded document, text sent to a writing task.
    max_body_bytes: int = 20 * 1024 * 1024
    max_document_bytes: int = 10 * 1024 * 1024
    max_zip_entries: int = 2000
    max_zip_inflated_bytes: int = 100 * 1024 * 1024
    max_text_chars: int = 200_000
    audit_retention_days: int = 365
    token_lifetime_days: int = 365
    rate_limit_per_minute: int = 120
    # Inference scheduling.
    queue_size: int = 32
    request_timeout_s: float = 120.0
    interactive_first: bool = True  # short requests' turns first on a local model (docs/inference.md)
    # Minutes a person saves per task, for the usage report.
    minutes_saved: dict[str, float] = msgspec.field(default_factory=dict)
    soffice: str = "soffice"
    pdf_check_at_upload: bool = True      # LibreOffice opens each uploaded model once: a warning if it cannot
    # Load the language tools (spaCy, Grammalecte, wordfreq…) in the background when the server starts,
    # rather than when the first clerk's request needs them (docs/configuration.md).
    warm_up: bool = True
    # IMAP mailboxes triaged in place by `plume mail` (and by `plume serve` when listed).
    mail: list[MailAccount] = msgspec.field(default_factory=list)
    # Letter models: budgets of one render, and of preparing/checking a model (its own process).
    template_render_timeout_s: float = 5.0
    template_max_iterations: int = 100_000
    template_max_output_chars: int = 20_000_000
    template_prepare_timeout_s: float = 20.0
    template_prepare_memory_mb: int = 1024
    # Recordings to transcribe (docs/transcription.md): upload size, duration, what is kept and how
    # long, the time limit of each two-minute window of audio (waiting in the queue included).
    max_audio_bytes: int = 1024 * 1024 * 1024
    max_audio_duration_s: float = 4 * 3600.0
    audio_retention_hours: float = 0.0
    transcript_retention_hours: float = 24.0
    transcription_timeout_s: float = 900.0
    # How the sidebars put results into the text, locked for everyone when set by IT:
    # "tracked" (changes to accept or reject), "replace" or "after"; "" = each clerk chooses.
    review_mode: Literal["", "tracked", "replace", "after"] = ""
    # Search in the commune's documents (docs/search.md): the collections file (none = no search),
    # where the index lives ("" = data/search.sqlite3; "postgresql://…" = PostgreSQL with pgvector),
    # the sentence embedders (bundled names or catalog ids of kind "embedding") and fusion weights.
    collections_file: Path | None = None
    search_database: str = ""
    search_embedders: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_SEARCH_EMBEDDERS))
    search_weights: dict[str, float] = msgspec.field(default_factory=dict)
    # The answer route's relevance threshold on the first hit's fused score (docs/search.md, « Answers »):
    # below it, « nothing found ». Set on the dev questions for the default embedders and weights.
    search_answer_min_score: float = 0.903
    # Ask the model whether the passages answer at all before it writes (a second call); off: the
    # reference model said « no » to every question. Measure a larger one: plume eval --answer-forms judged,structured.
    search_answer_judge: bool = False

    @property
    def users_file(self) -> Path:
        return self.data_dir / "users.json"

    @property
    def audit_file(self) -> Path:
        return self.data_dir / "audit.jsonl"


_PATH_KEYS = {"data_dir", "templates_dir", "models_file", "tls_cert", "tls_key", "collections_file"}


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Merge defaults, the TOML file (PLUME_CONFIG), PLUME_* variables and explicit overrides."""
    values: dict[str, Any] = {}
    config_file = config_file or (Path(os.environ["PLUME_CONFIG"]) if os.environ.get("PLUME_CONFIG") else None)
    if config_file:
        with open(config_file, "rb") as fh:
            values.update(tomllib.load(fh))
    for field in Settings.__struct_fields__:
        env = os.environ.get(f"PLUME_{field.upper()}")
        if env is not None and field == "search_embedders":  # PLUME_SEARCH_EMBEDDERS="a,b"
            values[field] = [name.strip() for name in env.split(",") if name.strip()]
        elif env is not None and field not in ("minutes_saved", "mail", "search_weights"):
            values[field] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in _PATH_KEYS & values.keys():
        values[key] = str(values[key])
    return msgspec.convert(values, Settings, strict=False, dec_hook=_decode_path)


def _decode_path(type_: type, obj: Any) -> Any:
    if type_ is Path:
        return Path(obj).expanduser()
    raise NotImplementedError
