"""The IMAP connection of one account: certificates always verified, never a login in clear.

IMAP library: IMAPClient (well kept, on top of imaplib) because it has IDLE, MOVE, UIDPLUS and
modified-UTF-7 folder names built in; Python 3.11's imaplib has no IDLE.
"""

from __future__ import annotations

import os
import socket
import ssl
import stat
from pathlib import Path

import imapclient

from plume.config import MailAccount

# Errors that mean the connection is gone or unusable: the pass stops, the next one reconnects.
CONNECTION_ERRORS = (OSError, ssl.SSLError, socket.timeout, imapclient.exceptions.IMAPClientAbortError, EOFError)


class MailConfigError(ValueError):
    """The account cannot be used as configured; the message says why, in French, without secrets."""


def password_of(account: MailAccount) -> str:
    if account.password_file:
        path = Path(account.password_file)
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise MailConfigError(f"Fichier du mot de passe illisible : {path}") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise MailConfigError(f"Le fichier du mot de passe {path} doit être lisible par le seul utilisateur "
                                  f"du service (chmod 600).")
        return path.read_text(encoding="utf-8").strip()
    if account.password_env:
        value = os.environ.get(account.password_env)
        if not value:
            raise MailConfigError(f"La variable d'environnement {account.password_env} est vide ou absente.")
        return value
    raise MailConfigError(f"Compte {account.label} : indiquez password_file ou password_env.")


def tls_context(account: MailAccount) -> ssl.SSLContext:
    # Certificates are always verified (host name too); the commune's own CA can be added.
    context = ssl.create_default_context(cafile=str(account.ca_file) if account.ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def connect(account: MailAccount) -> imapclient.IMAPClient:
    password = password_of(account)
    context = tls_context(account)
    if account.tls == "implicit":
        client = imapclient.IMAPClient(account.host, port=account.port or 993, ssl=True, ssl_context=context,
                                       timeout=account.timeout_s)
    else:
        client = imapclient.IMAPClient(account.host, port=account.port or 143, ssl=False, timeout=account.timeout_s)
        client.starttls(context)  # raises when the server offers no STARTTLS: never log in in clear
    if account.auth == "xoauth2":
        client.oauth2_login(account.user, password)
    else:
        client.login(account.user, password)
    return client


def describe(exc: BaseException) -> str:
    # The exception type and a short reason; an IMAP server's answer never holds a message's content.
    return f"{type(exc).__name__}: {str(exc)[:160]}" if str(exc) else type(exc).__name__
