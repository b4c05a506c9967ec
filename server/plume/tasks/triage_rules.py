"""The commune's triage rules (data/triage_rules.toml, or the shipped file): services, categories,
priority words, phishing and injection cues. Read once per change of the file."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

import msgspec

DEFAULT_RULES = Path(__file__).parent / "data" / "triage_rules.toml"


class Service(msgspec.Struct):
    name: str
    title: str = ""          # full name written in letters ("Service de l'urbanisme")
    delay_days: int = 10     # usual handling delay, in working days
    keywords: list[str] = []


class Category(msgspec.Struct):
    name: str
    keywords: list[str] = []
    priority: Literal["urgent", "high", "normal", "low"] = "normal"
    needs_reply: bool = True


class PriorityWords(msgspec.Struct):
    urgent: list[str] = []
    high: list[str] = []
    low: list[str] = []


class PhishingRules(msgspec.Struct):
    min_signs: int = 2
    category: str = "suspect"
    service: str = "informatique"
    priority: Literal["urgent", "high", "normal", "low"] = "low"
    credential_words: list[str] = []
    pressure_words: list[str] = []


class InjectionRules(msgspec.Struct):
    phrases: list[str] = []


class Rules(msgspec.Struct, kw_only=True):
    services: list[Service]
    categories: list[Category]
    commune_domains: list[str] = []
    default_service: str = ""
    default_category: str = ""
    deadline_high_days: int = 3
    priorities: PriorityWords = msgspec.field(default_factory=PriorityWords)
    phishing: PhishingRules = msgspec.field(default_factory=PhishingRules)
    injection: InjectionRules = msgspec.field(default_factory=InjectionRules)

    def __post_init__(self) -> None:
        if not self.services or not self.categories:
            raise msgspec.ValidationError("au moins un service et une catégorie sont nécessaires")
        self.default_service = self.default_service or self.services[0].name
        self.default_category = self.default_category or self.categories[-1].name

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)


class RulesError(ValueError):
    """The rules file cannot be read; the message names the file and the problem, in French."""


def load_rules(path: Path | None = None) -> Rules:
    path = Path(path or DEFAULT_RULES)
    return _load_rules_cached(path, path.stat().st_mtime if path.exists() else 0)


@cache
def _load_rules_cached(path: Path, _mtime: float) -> Rules:
    try:
        return msgspec.convert(tomllib.loads(path.read_text(encoding="utf-8")), Rules)
    except FileNotFoundError as exc:
        raise RulesError(f"Fichier de règles introuvable : {path}") from exc
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise RulesError(f"Fichier de règles invalide ({path}) : {exc}") from exc
