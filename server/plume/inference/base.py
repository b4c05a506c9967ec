"""What the writing tasks may ask of the inference core.

Tasks call `app.state.inference` (an object with this shape) and know nothing of engines, ONNX or
HTTP. The inference core (issue 3) provides the real implementation; `NoInference` stands in when
no catalog is loaded, so every task still does its deterministic part.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

import msgspec

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


class ModelUnavailable(Exception):
    """No usable model for this task. Controllers answer 503 with `install_command`."""

    def __init__(self, task: str, reason: str = "", install_command: str = INSTALL_HINT) -> None:
        self.task = task
        self.reason = reason
        self.install_command = install_command
        super().__init__(f"Aucun modèle disponible pour la tâche « {task} ». {reason}".strip())


class Inference(Protocol):
    def has_model(self, task: str) -> bool: ...

    def model_for(self, task: str) -> str | None: ...

    def context_length(self, task: str) -> int: ...

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

    async def complete(self, task: str, messages: list[Message], **_: Any) -> Completion:
        raise ModelUnavailable(task)

    async def stream(self, task: str, messages: list[Message], **_: Any) -> AsyncIterator[str]:
        raise ModelUnavailable(task)
        yield ""  # pragma: no cover - makes this an async generator
