"""`[[mail]]` in plume.toml: one IMAP mailbox the mail worker triages in place (docs/mailbox.md).
Kept apart from plume.config so that module stays small; plume.config imports it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec


class MailAccount(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One IMAP mailbox the mail worker triages in place (`[[mail]]`, docs/mailbox.md)."""
    host: str
    user: str
    port: int = 0                         # 0: 993 for implicit TLS, 143 for STARTTLS
    tls: Literal["implicit", "starttls"] = "implicit"
    password_file: Path | None = None     # readable by the service user only
    password_env: str = ""                # or the name of an environment variable
    # "xoauth2": the file/variable holds an OAuth2 access token (Microsoft 365), kept fresh by another
    # tool; Plume reads it at each connection and never talks to the identity provider itself.
    auth: Literal["password", "xoauth2"] = "password"
    folders: list[str] = msgspec.field(default_factory=lambda: ["INBOX"])
    drafts_folder: str = "Drafts"
    move: bool = False                    # move each message to its service's folder (rules_file)
    keywords: bool = True                 # write Plume/… keywords on the messages
    name: str = ""                        # short name in the state, audit and logs (default: user)
    rules_file: Path | None = None        # service → folder (TOML); default DATA/mail-folders.toml
    ca_file: Path | None = None           # the commune's internal CA, when its server uses one
    keyword_prefix: str = "Plume/"
    drafts: bool = True                   # prepare acknowledgements in drafts_folder
    signature: str = ""                   # last line of the acknowledgements (e.g. "Commune du Locle")
    poll_seconds: float = 60.0            # between passes when the server has no IDLE
    idle_seconds: float = 600.0           # longest IDLE wait before a new pass (RFC 9051: under 29 min)
    timeout_s: float = 60.0               # network timeout of one IMAP command
    backlog_days: int = 30                # first pass: only mail received in the last N days (0: all)

    @property
    def label(self) -> str:
        return self.name or self.user.partition("@")[0] or self.host
