"""Compute turns: interactive work first on a local engine (issue 24).

On the 2-core CPU machine, generations that ran side by side only shared the cores (batching gains
little there: docs/inference.md), and reading a prompt (prefill) dominates the time to the first
token: with eight summaries running, a one-paragraph request waited about 40 s for its first token,
first for a free slot, then for its share of the cores.

Now the generations of one engine take turns. A generation asks for a turn before each unit of
compute — a chunk of its prompt (32 tokens, onnx_genai.PREFILL_CHUNK) or one decoding step — and
between two units the waiting generation with the least work left goes first: a short request
waits at most one unit of a long one. Work left is what the request still has to read and write,
in tokens; each second a generation waits since its last unit lowers that figure by
AGING_TOKENS_PER_S, so a long request is never starved (a 2,000-token summary that had no unit for
about 40 s overtakes a fresh one-paragraph request). The wait counts from the last unit, not from
the start: counted from the start, eight summaries that had all waited 40 s kept the lead over every
new paragraph until they ended (a clerk's first token after 85 s and more, bench/interactive.py).
Fair per user as before: who starts is still the scheduler's round-robin (scheduler.py); turns only
order what has started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

AGING_TOKENS_PER_S = 50.0
# onnxruntime-genai holds Python's lock (the GIL) through a unit: 1.6 s for a 64-token chunk of the
# reference model's prompt, 76 ms for a decoding step, measured on the 2-core machine. Units back to
# back left the event loop one slice of the lock per unit, and a paragraph's request, which needs a
# few dozen slices before its prompt is read (routing, checks, a worker thread), waited 40 s behind
# eight summaries (bench/interactive.py). After each unit the engine rests for a short gap, a share
# of the unit's time, during which the rest of the server runs.
GAP_SHARE = 0.02
MAX_GAP_S = 0.02


class Ticket:
    """One generation (a request, or a batch of them) in the turns of its engine."""

    def __init__(self, work: int) -> None:
        self.remaining = max(0, work)
        self.since = time.monotonic()

    def priority(self, now: float) -> float:
        return self.remaining - AGING_TOKENS_PER_S * (now - self.since)


class ComputeTurns:
    """One engine's turns: one unit of compute at a time, the waiting ticket with the lowest priority
    figure next (arrival breaks ties)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._busy = False
        self._waiting: list[Ticket] = []

    @contextmanager
    def turn(self, ticket: Ticket, work: int) -> Iterator[None]:
        """Compute `work` tokens' worth for `ticket` once it is its turn."""
        with self._changed:
            self._waiting.append(ticket)
            try:
                while self._busy or self._next() is not ticket:
                    self._changed.wait()
            finally:
                self._waiting.remove(ticket)
            self._busy = True
        started = time.monotonic()
        try:
            yield
        finally:
            ticket.remaining = max(0, ticket.remaining - work)
            time.sleep(min(MAX_GAP_S, GAP_SHARE * (time.monotonic() - started)))  # still its turn: no unit runs
            ticket.since = time.monotonic()  # its wait starts again
            with self._changed:
                self._busy = False
                self._changed.notify_all()

    def _next(self) -> Ticket:
        now = time.monotonic()
        return min(self._waiting, key=lambda t: t.priority(now))
