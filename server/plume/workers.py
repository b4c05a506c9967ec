"""Blocking work off the event loop, in lanes: each kind of work has its own worker threads.

The event loop only routes requests; anything that parses, renders or checks a client's input runs in
a worker thread. Before lanes, all of it shared anyio's one pool of 40 threads: 40 PDF renders
waiting for LibreOffice's two slots, or texts queued on Grammalecte's lock, held every thread, and a
one-page letter or an upload waited behind them for seconds (issue 24). A lane's limit bounds how many
of its requests hold a thread at once; the others wait in the lane's queue without holding one, so
a backlog in one lane never takes the threads of another.

    render  letters filled as .docx / .odt (CPU, a few to tens of milliseconds each)
    pdf     letters converted by LibreOffice (a process each, seconds; PdfConverter runs two at once)
    upload  new template versions: checked in a separate process, then swapped in
    text    the writing tasks' rules, the checks of a model's answer, e-mail parsing
Anything else (template listings, lookups) uses anyio's default pool.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import anyio
import anyio.to_thread

Lane = Literal["render", "pdf", "upload", "text"]
LANES: dict[str, int] = {"render": 8, "pdf": 2, "upload": 2, "text": 8}
T = TypeVar("T")

# One set of limiters per event loop (a test may run several loops one after the other).
_limiters: weakref.WeakKeyDictionary[Any, dict[str, anyio.CapacityLimiter]] = weakref.WeakKeyDictionary()


def limiter(lane: Lane) -> anyio.CapacityLimiter:
    """The lane's limiter for the running event loop."""
    per_loop = _limiters.setdefault(asyncio.get_running_loop(), {})
    if lane not in per_loop:
        per_loop[lane] = anyio.CapacityLimiter(LANES[lane])
    return per_loop[lane]


async def run(lane: Lane, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a worker thread of `lane`; waits in the lane's queue while the lane is full."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=limiter(lane))

