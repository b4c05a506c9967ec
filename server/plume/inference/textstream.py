"""Token ids -> text chunks, for the engines: incremental decoding and stop strings.

A chunk is released only when it cannot be the beginning of a stop string, so a stop string never
reaches the client even when it spans several tokens.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders

from plume.inference.engine import Chunk


class TextStream:
    def __init__(self, tokenizer: Tokenizer, stop: Iterable[str] = ()) -> None:
        self._tokenizer = tokenizer
        self._decoder = decoders.DecodeStream(skip_special_tokens=True)
        self._stops = [s for s in stop if s]
        self._pending = ""  # decoded text held back (may start a stop string)
        self._pending_tokens = 0
        self.stopped = False  # a stop string was met: the caller ends the generation

    def push(self, token_id: int) -> Chunk | None:
        """Feed one generated token; returns text that is safe to send, if any."""
        self._pending_tokens += 1
        piece = self._decoder.step(self._tokenizer, int(token_id))
        if piece:
            self._pending += piece
        for stop in self._stops:
            at = self._pending.find(stop)
            if at >= 0:
                self._pending = self._pending[:at]
                self.stopped = True
                return self.flush()
        keep = self._held_back()
        if len(self._pending) <= keep:
            return None
        text, self._pending = self._pending[: len(self._pending) - keep], self._pending[len(self._pending) - keep:]
        chunk = Chunk(text, self._pending_tokens)
        self._pending_tokens = 0
        return chunk

    def flush(self) -> Chunk | None:
        """Whatever is held back, at the end of the generation."""
        if not self._pending and not self._pending_tokens:
            return None
        chunk = Chunk(self._pending, self._pending_tokens)
        self._pending, self._pending_tokens = "", 0
        return chunk

    def _held_back(self) -> int:
        """Length of the longest tail of the pending text that begins some stop string."""
        longest = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(self._pending)), longest, -1):
                if self._pending.endswith(stop[:n]):
                    longest = n
                    break
        return longest
