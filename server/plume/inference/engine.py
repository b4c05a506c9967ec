"""The engine interface: what the scheduler asks of a model runtime.

Engines know nothing of tasks or HTTP. Implementations: `onnx_genai.py` (decoder LLMs through
onnxruntime-genai), `seq2seq.py` (encoder-decoder translation models through onnxruntime +
tokenizers), `upstream.py` (any OpenAI-compatible server). `catalog.py` reads models.toml and
`create_engine(entry)` builds the right engine for an entry.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext

import msgspec


class GenerationParams(msgspec.Struct, kw_only=True):
    max_new_tokens: int = 256
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    stop: list[str] = msgspec.field(default_factory=list)
    num_beams: int = 1  # encoder-decoder engines only
    seed: int | None = None
    # JSON Schema (as text) the answer must match: engines that can constrain their decoding to it
    # do (GenAIEngine: guidance; upstream: response_format); the others ignore it and the caller checks.
    json_schema: str | None = None


class Chunk(msgspec.Struct):
    """A piece of generated text and how many tokens it stands for."""

    text: str
    tokens: int = 1


class CancelToken:
    """Set by the scheduler when the client went away or the time limit passed; engines check it
    between decoding steps so the generation really stops.

    It also carries the request's compute turns (turns.py): a local engine computes each unit of
    work (a chunk of the prompt, a decoding step) inside `turn(tokens)`. Outside the scheduler, and
    for engines that share nothing, a turn is immediate."""

    def __init__(self, turns: Callable[[int], AbstractContextManager] | None = None) -> None:
        self._event = threading.Event()
        self.turns = turns  # set by the scheduler when the request starts

    def turn(self, work: int = 1) -> AbstractContextManager:
        """Wait for this request's turn to compute `work` tokens' worth; hold it for the block."""
        return self.turns(work) if self.turns is not None else nullcontext()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class EngineError(RuntimeError):
    """The engine failed (broken model file, runtime error). Message holds no user text."""


class Engine(ABC):
    model_id: str
    context_length: int
    # Computes each unit of work inside `cancel.turn(...)`, so that its generations may run side by
    # side and take turns (turns.py); the others run at most `max_batch` at once.
    takes_turns: bool = False

    @abstractmethod
    def count_tokens(self, text: str) -> int: ...

    @abstractmethod
    def format_chat(self, messages: list[dict[str, str]]) -> str:
        """The prompt text for these chat messages (the model's chat template applied)."""

    @abstractmethod
    def generate(self, prompt: str, params: GenerationParams, cancel: CancelToken) -> Iterator[Chunk]:
        """Blocking generator of text chunks; the scheduler runs it on a worker thread."""

    def close(self) -> None:  # noqa: B027 - optional
        """Free the model's memory."""
