"""One catalog entry and what became of it: loading its engine off the event loop, and why it is
unusable when it is (in French, for /health and for the 503 a task answers)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plume.inference.engine import Engine

log = logging.getLogger("plume.inference")

LOADING, READY, UNAVAILABLE = "loading", "ready", "unavailable"


@dataclass(eq=False)
class ModelSlot:
    """One catalog entry and what became of it."""

    entry: Any
    status: str = LOADING
    reason: str = ""
    engine: Engine | None = None
    loaded: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def kind(self) -> str:
        return str(getattr(self.entry, "kind", ""))

    @property
    def tasks(self) -> list[str]:
        return list(getattr(self.entry, "tasks", []) or [])

    @property
    def languages(self) -> list[str]:
        return list(getattr(self.entry, "languages", []) or [])

    def files_gone(self) -> bool:
        """The model's folder disappeared from the disk (an upstream entry has none)."""
        if self.kind == "upstream" or not getattr(self.entry, "path", ""):
            return False
        return not Path(self.entry.path).exists()


async def load(slot: ModelSlot) -> None:
    """Check the entry's files and build its engine, in a worker thread; a failure marks the slot
    unavailable with a reason, never stops the server."""
    try:
        problems = await asyncio.to_thread(_check_files, slot.entry)
        if problems:
            raise _Unusable("; ".join(problems))
        started = time.monotonic()
        slot.engine = await asyncio.to_thread(_create_engine, slot.entry)
        slot.status = READY
        log.info("model %s ready in %.1f s", slot.id, time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 - reported in /health, never fatal
        slot.status = UNAVAILABLE
        slot.reason = exc.reason if isinstance(exc, _Unusable) else (
            f"le modèle n'a pas pu être chargé ({describe(exc)}) ; ses fichiers sont peut-être incomplets "
            "ou corrompus")
        log.error("model %s unavailable: %s", slot.id, describe(exc))
    finally:
        slot.loaded.set()


def describe(exc: BaseException) -> str:
    # The exception type and a short, path-free hint: model-file errors carry no user text, but keep it brief.
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


class _Unusable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _create_engine(entry: Any) -> Engine:
    from plume.inference.catalog import create_engine

    return create_engine(entry)


def _check_files(entry: Any) -> list[str]:
    """French descriptions of what is wrong with the entry's files (empty: looks usable)."""
    from plume.inference.catalog import check_files

    return check_files(entry)
