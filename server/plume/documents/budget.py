"""Budgets for letter models: what one render may spend, and a separate process for what a thread
cannot stop.

Renders run in a worker thread inside the server: fast (no round trip), and bounded by construction
by the sandbox (`plume.documents.sandbox`), which charges every loop iteration, call and output
character to the render's `Budget` and checks the deadline as it goes.

Preparing and linting a model are different: docxtpl's XML patching is a regular expression that
runs in C, quadratic on some inputs, and a thread cannot be interrupted while it runs. So they run
in a fresh process forked from a warm fork server (about 10 ms), with an address-space limit
(RLIMIT_AS) and a wall-clock timeout after which the process is killed. Only picklable results come
back: findings, or the prepared parts, which the server compiles again (`PreparedTemplate.__reduce__`).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from plume.errors import Refusal


class BudgetExceeded(Refusal):
    """A model asked for more than its budget (time, iterations, steps). `detail` is French and names
    the cause; the API answers 422 (plume.api.problems.STATUS)."""

    code = "template-too-complex"


class SizeBudgetExceeded(BudgetExceeded):
    """What the model would produce, or the memory it needs, is too large (the API answers 413)."""


@dataclass(frozen=True)
class TemplateBudgets:
    """The limits, from the settings (docs/configuration.md)."""

    render_timeout_s: float = 5.0          # one render, all parts and the file name
    max_iterations: int = 100_000          # loop iterations and calls in one render
    max_output_chars: int = 20_000_000     # characters one render may produce (also any one value)
    prepare_timeout_s: float = 20.0        # preparing or checking one model, in its own process
    prepare_memory_mb: int = 1024          # address space of that process

    @classmethod
    def from_settings(cls, settings: Any) -> TemplateBudgets:
        names = {f: getattr(settings, f"template_{f}", None) for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in names.items() if v is not None})


DEFAULT_BUDGETS = TemplateBudgets()


class Budget:
    """What one render has spent so far. The sandbox charges it; crossing a limit raises."""

    __slots__ = ("limits", "deadline", "steps", "chars")

    def __init__(self, limits: TemplateBudgets) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.render_timeout_s
        self.steps = 0
        self.chars = 0

    def step(self, chars: int = 0) -> None:
        self.steps += 1
        self.chars += chars
        if self.steps > self.limits.max_iterations:
            raise BudgetExceeded(f"Le modèle dépasse le nombre d'itérations autorisé ({self.limits.max_iterations:,} "
                                 "tours de boucle ou appels par document) : une boucle est trop longue.".replace(",", "'"))
        if self.chars > self.limits.max_output_chars:
            raise too_large(self.limits.max_output_chars)
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"Le remplissage du modèle dépasse le temps autorisé ({self.limits.render_timeout_s:g} s) : "
                                 "le modèle est trop complexe.")


def too_large(limit: int) -> SizeBudgetExceeded:
    return SizeBudgetExceeded(f"Le modèle produirait un texte trop grand (plus de {limit:,} caractères).".replace(",", "'"))


_ACTIVE: ContextVar[Budget | None] = ContextVar("plume_template_budget", default=None)


def active() -> Budget | None:
    return _ACTIVE.get()


@contextmanager
def spending(limits: TemplateBudgets | None = None) -> Iterator[Budget]:
    """Charge the renders inside to one budget (nested calls share the outer one)."""
    current = _ACTIVE.get()
    if current is not None:
        yield current
        return
    budget = Budget(limits or DEFAULT_BUDGETS)
    token = _ACTIVE.set(budget)
    try:
        yield budget
    finally:
        _ACTIVE.reset(token)


# -- a separate process for preparing and linting ----------------------------------------------

_PRELOAD = ["plume.documents", "plume.documents.docx", "plume.documents.odt", "plume.documents.lint"]
_context_lock = threading.Lock()
_context: Any = None
# At most two models prepared or checked at once: each process may take `prepare_memory_mb`.
_slots = threading.BoundedSemaphore(2)


def _mp_context() -> Any:
    """A fork server that has already imported docxtpl, lxml, Jinja and Babel: each job forks from it
    in milliseconds, without the server's threads and sockets."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            _context = context
        return _context


def _child(conn: Any, memory_mb: int, fn: Callable, args: tuple) -> None:
    limit = memory_mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    try:
        result = ("ok", fn(*args))
    except MemoryError:
        result = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 - sent back to be raised in the server
        result = ("error", exc)
    try:
        conn.send(result)
    except Exception:  # noqa: BLE001 - an exception that does not pickle: send its type only
        conn.send(("error", RuntimeError(type(result[1]).__name__)))
    finally:
        conn.close()
        os._exit(0)  # no atexit, no flush of the server's inherited state


def isolated(fn: Callable, *args: Any, limits: TemplateBudgets = DEFAULT_BUDGETS, what: str = "La préparation") -> Any:
    """Run `fn(*args)` in a fresh process with the prepare budget; its result, or its exception
    raised here, or BudgetExceeded when it runs out of time or memory. `fn` and `args` must pickle
    (module-level functions). Blocking: call it from a worker thread, never from the event loop.

    The child is prepared like any multiprocessing child: a main script run by path is imported
    again there as `__mp_main__` (guarded by `if __name__ == "__main__"` in `plume`'s console
    script; `python -m plume` is skipped), so a server started from stdin could not prepare models."""
    with _slots:
        return _isolated(fn, args, limits, what)


def _isolated(fn: Callable, args: tuple, limits: TemplateBudgets, what: str) -> Any:
    context = _mp_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, limits.prepare_memory_mb, fn, args), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.prepare_timeout_s):
            raise BudgetExceeded(f"{what} du modèle dépasse le temps autorisé ({limits.prepare_timeout_s:g} s) : "
                                 "le document est trop complexe (par exemple des milliers de balises ou de "
                                 "commentaires {# #}). Simplifiez-le.")
        try:
            kind, value = receiver.recv()
        except EOFError:  # died without a word: a C allocation refused by RLIMIT_AS, or the kernel
            kind, value = "died", None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
    if kind == "memory":
        raise SizeBudgetExceeded(f"{what} du modèle dépasse la mémoire autorisée ({limits.prepare_memory_mb} Mo) : "
                                 "le document est trop volumineux ou trop complexe.")
    if kind == "died":
        raise SizeBudgetExceeded(f"{what} du modèle a été interrompue (probablement la limite de mémoire de "
                                 f"{limits.prepare_memory_mb} Mo) : le document est trop volumineux ou trop complexe.")
    if kind == "error":
        raise value
    return value
