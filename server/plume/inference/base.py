"""What the writing tasks may ask of the inference core.

Tasks receive an object with this shape (the `Inference` protocol: the server's InferenceService,
injected by plume.services) and know nothing of engines, ONNX or HTTP. Everything a task needs is
here, so nothing probes the service with getattr or reaches into its slots. `NoInference` stands in
when no catalog is loaded, so every task still does its deterministic part.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

import msgspec

from plume.errors import Refusal

INSTALL_HINT = "plume models add DOSSIER_DU_MODELE --models onnx_models/models.toml  (voir docs/models.md)"


class Message(msgspec.Struct):
    role: str  # "system" | "user" | "assistant"
    content: str


class Completion(msgspec.Struct, kw_only=True):
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"  # "stop" | "length" | "cancelled"


class ModelUnavailable(Refusal):
    """No usable model for this task (503, with `install_command`, which only IT is shown).

    `detail` replaces the default sentence where the caller knows better what the person can do
    (the writing tasks: « the rules remain available »)."""

    code = "model-unavailable"

    def __init__(self, task: str, reason: str = "", install_command: str = INSTALL_HINT, *,
                 detail: str | None = None) -> None:
        super().__init__(detail or f"Aucun modèle disponible pour la tâche « {task} ». {reason}".strip(),
                         task=task, install_command=install_command)
        self.task = task
        self.reason = reason
        self.install_command = install_command


class PairModels(msgspec.Struct, frozen=True):
    """The catalog's models for one language pair: a translation model (encoder-decoder) made for
    the pair, and an instruction model that speaks both languages; either may be None."""

    translation: str | None = None
    instruction: str | None = None


class Inference(Protocol):
    def has_model(self, task: str) -> bool: ...

    def model_for(self, task: str) -> str | None: ...

    def context_length(self, task: str) -> int: ...

    def count_tokens(self, task: str, text: str) -> int | None:
        """Tokens of `text` for the model serving `task` (its own tokenizer); None when unknown."""

    def install_command(self, task: str) -> str:
        """The command IT runs to add a model for `task` (shown to administrators only)."""

    def models_for_pair(self, task: str, source: str, target: str) -> PairModels: ...

    async def complete(
        self,
        task: str,
        messages: list[Message],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        user: str | None = None,
        **options: Any,
    ) -> Completion: ...

    def stream(
        self,
        task: str,
        messages: list[Message],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        user: str | None = None,
        **options: Any,
    ) -> AsyncIterator[str]: ...


class NoInference:
    """No catalog loaded: every task falls back to its deterministic part."""

    def has_model(self, task: str) -> bool:
        return False

    def model_for(self, task: str) -> str | None:
        return None

    def context_length(self, task: str) -> int:
        return 0

    def count_tokens(self, task: str, text: str) -> int | None:
        return None

    def install_command(self, task: str) -> str:
        return INSTALL_HINT

    def models_for_pair(self, task: str, source: str, target: str) -> PairModels:
        return PairModels()

    async def complete(self, task: str, messages: list[Message], **_: Any) -> Completion:
        raise ModelUnavailable(task)

    async def stream(self, task: str, messages: list[Message], **_: Any) -> AsyncIterator[str]:
        raise ModelUnavailable(task)
        yield ""  # pragma: no cover - makes this an async generator
