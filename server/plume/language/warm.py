"""The language tools loaded when the server starts, before the first request needs them.

Each tool loads behind its own lock whatever happens (tests/test_first_use.py fires sixteen first
callers at each): warming only moves the wait from the first clerks of the morning to the server's
start. Without it, the first plain-language request after a start took 11 s on the busy 2-core
machine (spaCy, Grammalecte, wordfreq's French list), and the text requests behind it waited in
their lane meanwhile (issue 24). Runs in a background thread: the server answers at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("plume.language")


def warm_up(data_dir: Path | None) -> None:
    """Load each tool; one that fails is logged (by type) and loads, or fails with its own message,
    when a request uses it."""
    from plume.language import detect, grammar, lexicon, nlp, readability

    steps = {"detect": detect.warm_up, "wordfreq": readability.warm_up, "grammalecte": grammar.warm_up,
             "lexicon": lambda: lexicon.for_data_dir(data_dir), "spacy": nlp.warm_up}
    for name, step in steps.items():
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - never fatal: the tool is tried again when used
            log.warning("language tool %s not loaded at start: %s", name, type(exc).__name__)
