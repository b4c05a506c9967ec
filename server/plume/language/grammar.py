"""French spelling and grammar through Grammalecte, the checker LibreOffice's French users know.

Grammalecte is packaged by Debian (`python3-grammalecte`) for the system Python, not on PyPI in a
maintained form. It is pure Python, so Plume loads that one package from the system folder by its
path, without putting the whole system `dist-packages` on `sys.path` (which would mix the system's
packages with the virtual environment's).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

SYSTEM_LOCATIONS = ("/usr/lib/python3/dist-packages/grammalecte", "/usr/share/grammalecte/grammalecte")
PARAGRAPH = re.compile(r"[^\n\r\u2028\u2029\v\f]+")  # offsets stay those of the text as sent
# Swiss administrative usage writes « 1er décembre », not Grammalecte's superscript « 1ᵉʳ ».
SKIPPED_RULES = ("g2__typo_ordinaux_chiffres_exposants",)
SENTENCE_START = re.compile(r"(?:^|[.!?…:]\s+|[«(\"]\s*)$")

# Grammalecte's error types, in the words the sidebars show.
KINDS = {"nbsp": "typographie", "esp": "typographie", "typo": "typographie", "apos": "typographie",
         "num": "typographie", "maj": "typographie", "tu": "typographie", "WORD": "orthographe"}


class GrammarUnavailable(Exception):
    """Grammalecte is not installed on this server."""


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    rule: str
    kind: str  # "grammaire" | "orthographe" | "typographie" | "style"
    message: str
    suggestions: list[str] = field(default_factory=list)


class Checker:
    """One Grammalecte instance for the process: its engine keeps module-level state, so calls are
    serialised with a lock (a check takes milliseconds per paragraph once loaded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checker = None

    def available(self) -> bool:
        try:
            _module()
        except GrammarUnavailable:
            return False
        return True

    def check(self, text: str) -> list[Finding]:
        findings: list[Finding] = []
        with self._lock:
            checker = self._load()
            for paragraph in PARAGRAPH.finditer(text):
                grammar, spelling = checker.getParagraphErrors(paragraph.group(), bSpellSugg=True)
                findings += [_grammar(e, paragraph.start()) for e in grammar
                             if not e.get("sRuleId", "").startswith(SKIPPED_RULES)]
                findings += [_spelling(e, paragraph.start()) for e in spelling
                             if not _proper_noun(paragraph.group(), e)]
        return sorted(findings, key=lambda f: (f.start, f.end))

    def _load(self):
        if self._checker is None:
            self._checker = _module().GrammarChecker("fr")
        return self._checker


def warm_up() -> None:
    """Grammalecte loaded (1/3 s, then milliseconds a paragraph), when it is installed."""
    if CHECKER.available():
        CHECKER.check("Bonjour.")


def new_errors(before: str, after: str) -> list[Finding]:
    """Grammar and spelling errors that `after` (text Plume wrote) has and `before` (its source) has
    not, compared by rule and covered words: the check where Plume itself writes French. Typography
    is left out (a rewrite may legitimately change spacing); empty when Grammalecte is missing."""
    if not CHECKER.available():
        return []
    seen = Counter(_key(f, before) for f in CHECKER.check(before) if f.kind != "typographie")
    new = []
    for finding in CHECKER.check(after):
        if finding.kind == "typographie":
            continue
        key = _key(finding, after)
        if seen[key]:
            seen[key] -= 1
        else:
            new.append(finding)
    return new


def errors_in(text: str) -> list[Finding]:
    """Grammar and spelling errors of a text Plume wrote (a translation into French)."""
    return [f for f in CHECKER.check(text) if f.kind != "typographie"] if CHECKER.available() else []


def _key(finding: Finding, text: str) -> tuple[str, str]:
    return finding.rule, text[finding.start:finding.end].lower()


def _proper_noun(paragraph: str, error: dict) -> bool:
    """A capitalised unknown word inside a sentence is a name (« Le Locle », « Vuilleumier »): the
    dictionary cannot know the commune's streets and families, and flagging them buries real errors."""
    word = error.get("sValue", "")
    return word[:1].isupper() and not SENTENCE_START.search(paragraph[:error["nStart"]])


def _grammar(error: dict, offset: int) -> Finding:
    kind = KINDS.get(error.get("sType", ""), "grammaire")
    return Finding(start=offset + error["nStart"], end=offset + error["nEnd"], rule=error.get("sRuleId", ""),
                   kind=kind, message=error.get("sMessage", ""), suggestions=list(error.get("aSuggestions", [])))


def _spelling(error: dict, offset: int) -> Finding:
    return Finding(start=offset + error["nStart"], end=offset + error["nEnd"], rule="orthographe", kind="orthographe",
                   message=f"Mot inconnu du dictionnaire : « {error.get('sValue', '')} ».",
                   suggestions=list(error.get("aSuggestions", []))[:5])


_loaded: ModuleType | None = None
# Loading by path puts the package in sys.modules before its code has run: without this lock a second
# first-caller (16 plain-language requests right after a start) got the half-loaded module and a 500.
_loading = threading.Lock()


def _module() -> ModuleType:
    """The `grammalecte` package: the environment's own if it has one, else Debian's, by path."""
    if _loaded is not None:
        return _loaded
    with _loading:
        return _loaded or _load_module()


def _load_module() -> ModuleType:
    global _loaded
    try:
        _loaded = importlib.import_module("grammalecte")
        return _loaded
    except ImportError:
        pass
    extra = os.environ.get("PLUME_GRAMMALECTE_PATH")
    for location in ([extra] if extra else []) + list(SYSTEM_LOCATIONS):
        init = Path(location) / "__init__.py"
        if init.is_file():
            spec = importlib.util.spec_from_file_location("grammalecte", init,
                                                          submodule_search_locations=[str(init.parent)])
            module = importlib.util.module_from_spec(spec)
            sys.modules["grammalecte"] = module
            try:
                spec.loader.exec_module(module)
            except Exception as exc:  # a broken install must not take the server down
                sys.modules.pop("grammalecte", None)
                raise GrammarUnavailable(str(exc)) from exc
            _loaded = module
            return module
    raise GrammarUnavailable("Grammalecte n'est pas installé (paquet Debian python3-grammalecte).")


CHECKER = Checker()
