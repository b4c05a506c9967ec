"""An e-mail as the mail routes receive it (the raw .eml, or the fields pasted from a mail client),
read once for both mail tasks (triage, acknowledgement), with the commune's triage rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from plume.errors import InvalidRequest, Misconfigured, TooLarge
from plume.language import breaks
from plume.mail.parse import MailMessage, MessageTooLarge, from_fields, parse_message
from plume.tasks.base import Engine
from plume.tasks.triage_rules import Rules, RulesError, load_rules

RULES_FILE = "triage_rules.toml"  # the commune's own rules, in the data folder


class MailIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Either `eml` (the raw message) or the fields `from`, `subject`, `body`, `date`."""

    eml: str | None = None
    sender: str = msgspec.field(name="from", default="")
    subject: str = ""
    body: str = ""
    date: str | None = None
    engine: Engine = "auto"

    def __post_init__(self) -> None:
        # The raw .eml keeps its own line endings (the e-mail parser reads them); pasted fields do not.
        self.body = breaks.normalise(self.body)
        self.subject = breaks.normalise(self.subject)


class MailTooLarge(TooLarge):
    code = "mail-too-large"


class RulesUnreadable(Misconfigured):
    code = "triage-rules"


def read_mail(request: MailIn) -> MailMessage:
    if request.eml:
        try:
            return parse_message(request.eml, "message.eml")
        except MessageTooLarge as exc:
            raise MailTooLarge("Le message dépasse la taille autorisée.") from exc
    if not (request.body.strip() or request.subject.strip()):
        raise InvalidRequest("Envoyez le message brut (« eml ») ou au moins son objet et son texte.")
    return from_fields(request.sender, request.subject, request.body, request.date)


def commune_rules(data_dir: Path) -> Rules:
    """The commune's own rules (DATA/triage_rules.toml) when it has some, else the shipped ones."""
    own = Path(data_dir) / RULES_FILE
    try:
        return load_rules(own if own.exists() else None)
    except RulesError as exc:  # its message names the file: for IT's log, not for the clerk
        raise RulesUnreadable("Le fichier des règles de tri de la commune est invalide. Le service informatique "
                              "peut le vérifier avec « plume triage --rules FICHIER ».") from exc


def with_mail_warnings(result: dict[str, Any], mail: MailMessage) -> dict[str, Any]:
    """What could not be read in the message (a garbled header, a broken part) is said, not hidden."""
    if mail.warnings:
        result.setdefault("warnings", []).extend(w for w in mail.warnings if w not in result["warnings"])
    return result
