"""What the worker writes back on a triaged message: its keywords (`Plume/urgent`,
`Plume/controle-des-habitants`…), and the folder of its service when the account moves mail."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path

import msgspec

from plume.config import MailAccount
from plume.mailbox.client import MailConfigError
from plume.routing.router import to_confirm
from plume.tasks.triage import Rules, TriageResult

DONE = "trie"            # the keyword that says Plume has handled the message
DRAFTED = "accuse-prepare"
ERROR = "erreur"         # a message Plume could not read: the clerk looks at it by hand
PHISHING = "hameconnage"
INJECTION = "injection"
AUTOMATIC = "automatique"  # an absence notice, a delivery failure, a mailing list: no draft
TO_CONFIRM = "service-a-confirmer"  # the router was not sure of the service: a clerk checks it
PRIORITY_WORDS = {"urgent": "urgent", "high": "prioritaire", "normal": "normal", "low": "peu-prioritaire"}


def keyword(text: str, prefix: str = "Plume/") -> str:
    """`Plume/controle-des-habitants`: accents transliterated, only IMAP atom characters, no spaces."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-") or "divers"
    prefix = re.sub(r"[^A-Za-z0-9/_.+-]", "", prefix)  # atom-specials ( ) { % * " \ ] and spaces dropped
    return f"{prefix}{slug}"[:100]


def keywords_for(result: TriageResult, account: MailAccount, rules: Rules, drafted: bool) -> list[str]:
    p = account.keyword_prefix
    words = [keyword(DONE, p), keyword(PRIORITY_WORDS.get(result.priority, result.priority), p),
             keyword(result.service, p), keyword(result.category, p)]
    if result.phishing and result.category == rules.phishing.category:
        words.append(keyword(PHISHING, p))
    if any("injection" in r for r in result.reasons):
        words.append(keyword(INJECTION, p))
    if result.automatic:
        words.append(keyword(AUTOMATIC, p))
    if to_confirm(result):
        words.append(keyword(TO_CONFIRM, p))
    if drafted:
        words.append(keyword(DRAFTED, p))
    return list(dict.fromkeys(words))


class FolderRules(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where each service's mail goes (`[services]`), a category overriding it (`[categories]`,
    e.g. suspect messages to a quarantine folder). A service not listed stays where it is."""
    services: dict[str, str] = {}
    categories: dict[str, str] = {}

    def folder_for(self, result: TriageResult) -> str | None:
        # A service « à confirmer » stays in the inbox: a clerk files it (and learning learns from that).
        return self.categories.get(result.category) or (None if to_confirm(result) else self.services.get(result.service))


def load_folder_rules(path: Path) -> FolderRules:
    try:
        return msgspec.convert(tomllib.loads(path.read_text(encoding="utf-8")), FolderRules)
    except FileNotFoundError as exc:
        raise MailConfigError(f"Fichier des dossiers introuvable : {path}") from exc
    except (tomllib.TOMLDecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise MailConfigError(f"Fichier des dossiers invalide ({path}) : {exc}") from exc
