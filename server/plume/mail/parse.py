"""One e-mail → a `MailMessage`; a file, a folder of .eml, an mbox or a Maildir → messages."""

from __future__ import annotations

import email
import email.policy
import logging
import mailbox
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from plume.mail.html import html_to_text

log = logging.getLogger("plume.mail")
MAX_MESSAGE_BYTES = 25 * 1024 * 1024   # a whole message, attachments included
MAX_BODY_CHARS = 100_000               # text kept for analysis
MAX_PARTS = 200                        # MIME parts walked


class MessageTooLarge(ValueError):
    """The message is bigger than the limits allow."""


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass
class MailMessage:
    file: str
    sender_name: str = ""
    sender_address: str = ""
    to: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    body: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (link text, href)
    attachments: list[Attachment] = field(default_factory=list)
    html_only: bool = False
    # Why a machine sent it (an absence notice, a delivery failure, a mailing list…), in French;
    # "" when a person did. Nobody waits for an answer to such a message (RFC 3834).
    automatic: str = ""
    warnings: list[str] = field(default_factory=list)  # French: what could not be read (never its content)

    @property
    def sender(self) -> str:
        if self.sender_name and self.sender_address:
            return f"{self.sender_name} <{self.sender_address}>"
        return self.sender_name or self.sender_address

    @property
    def sender_domain(self) -> str:
        return self.sender_address.rpartition("@")[2].lower()


def parse_message(raw: bytes | str, file: str = "message.eml") -> MailMessage:
    """Parse one RFC 5322 message. Never decodes attachments: it only lists them.

    Never raises on what the message holds (only MessageTooLarge): an unreadable header becomes an
    empty value, an unreadable part is skipped, each with a French warning in `warnings`."""
    size = len(raw)
    if size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"message de {size} octets (limite {MAX_MESSAGE_BYTES})")
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    try:
        msg: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[assignment]
    except Exception as exc:  # noqa: BLE001 — the parser is lenient; this is a last resort
        log.warning("message %s unreadable: %s", file, type(exc).__name__)
        return MailMessage(file=file, warnings=["Le message est illisible (structure MIME invalide)."])
    return _to_mail(msg, file)


PART_UNREADABLE = "Une partie du message est illisible : elle a été ignorée."

_ROBOT_SENDERS = re.compile(r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply|ne-?pas-?repondre|bounces?)\b",
                            re.IGNORECASE)


def _automatic(reader: _Reader, sender: str) -> str:
    """Why the message is an automatic one (RFC 3834 and the headers mailing lists and robots set)."""
    submitted = reader.header("Auto-Submitted").lower()
    if submitted and not submitted.startswith("no"):
        return "réponse automatique" if "replied" in submitted else "message envoyé par un automate"
    if reader.header("X-Autoreply") or reader.header("X-Autorespond"):
        return "réponse automatique"
    if reader.header("Content-Type").lower().startswith("multipart/report"):
        return "avis de non-remise ou de lecture"
    if reader.header("Precedence").lower() in ("bulk", "list", "junk", "auto_reply"):
        return "envoi en nombre (lettre d'information, liste de diffusion)"
    if reader.header("List-Id") or reader.header("List-Unsubscribe"):
        return "lettre d'information ou liste de diffusion"
    if _ROBOT_SENDERS.match(sender):
        return "adresse d'expédition qui ne reçoit pas de réponse"
    return ""


class _Reader:
    """Reads headers and parts of one message, turning every failure into a warning."""

    def __init__(self, msg: EmailMessage, file: str) -> None:
        self.msg, self.file = msg, file
        self.warnings: list[str] = []

    def warn(self, what: str, exc: Exception) -> None:
        # The header's name and the exception type only: never the value, which is the sender's text.
        log.warning("message %s: %s unreadable (%s)", self.file, what, type(exc).__name__)
        message = PART_UNREADABLE if what == "part" else f"En-tête « {what} » illisible : laissé vide."
        if message not in self.warnings:
            self.warnings.append(message)

    def header(self, name: str) -> str:
        try:
            return clean(str(self.msg.get(name, "") or ""))
        except Exception as exc:  # noqa: BLE001 — malformed encoded words, stdlib parser bugs
            self.warn(name, exc)
            return ""

    def addresses(self, *names: str) -> list[tuple[str, str]]:
        values = [self.header(name) for name in names]
        try:
            return [(clean(n), clean(a)) for n, a in getaddresses([v for v in values if v])]
        except Exception as exc:  # noqa: BLE001
            self.warn(names[0], exc)
            return []


def _to_mail(msg: EmailMessage, file: str) -> MailMessage:
    reader = _Reader(msg, file)
    (name, address), *_ = reader.addresses("From") or [("", "")]
    mail = MailMessage(
        file=file,
        sender_name=name.strip(),
        sender_address=address.strip(),
        to=[addr for _, addr in reader.addresses("To", "Cc") if addr],
        subject=" ".join(reader.header("Subject").split()),
        date=_date(reader.header("Date")),
    )
    mail.automatic = _automatic(reader, mail.sender_address)
    plain, html = [], []
    try:
        for count, part in enumerate(msg.walk()):
            if count >= MAX_PARTS:
                break
            try:
                _read_part(part, mail, plain, html)
            except Exception as exc:  # noqa: BLE001 — one broken part does not hide the others
                reader.warn("part", exc)
    except Exception as exc:  # noqa: BLE001 — walking a broken multipart tree
        reader.warn("part", exc)
    if plain:
        mail.body = clean("\n\n".join(plain))
    if html:
        html_text, links = html_to_text(clean("\n".join(html)))
        mail.links = [(clean(text), clean(href)) for text, href in links]
        if not plain:
            mail.body, mail.html_only = clean(html_text), True
    mail.body = mail.body[:MAX_BODY_CHARS].strip()
    if not mail.links:
        mail.links = [("", url) for url in re.findall(r"https?://[^\s<>\"')]+", mail.body)]
    mail.warnings = reader.warnings
    return mail


def _read_part(part: EmailMessage, mail: MailMessage, plain: list[str], html: list[str]) -> None:
    if part.is_multipart():
        return
    if part.is_attachment() or part.get_filename():
        payload = part.get_payload()
        mail.attachments.append(Attachment(clean(part.get_filename() or "(sans nom)"), part.get_content_type(),
                                           _encoded_size(payload)))
        return
    if part.get_content_maintype() != "text":
        return
    text = _text_of(part)
    (html if part.get_content_subtype() == "html" else plain).append(text)


_SURROGATES = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """Text that can be encoded: lone surrogates (UTF-7 can carry them; undecodable bytes become them)
    are replaced, so no later JSON or UTF-8 encoding fails on the sender's bytes."""
    return _SURROGATES.sub("\ufffd", text)


def _text_of(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except Exception:  # noqa: BLE001 — unknown or lying charset, UTF-7 oddities, bad transfer encoding
        # Decode the bytes as UTF-8, else Latin-1, rather than fail the whole message.
        data = part.get_payload(decode=True) or b""
        if not isinstance(data, bytes):
            return ""
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _encoded_size(payload) -> int:
    # Base64 carries 3 bytes per 4 characters; good enough to show a size without decoding.
    text = payload if isinstance(payload, str) else ""
    return len(re.sub(r"\s", "", text)) * 3 // 4


def _date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def from_fields(sender: str = "", subject: str = "", body: str = "", date: str | None = None,
                file: str = "message") -> MailMessage:
    """A message given as form fields rather than a raw .eml."""
    sender, subject, body = clean(sender), clean(subject), clean(body)
    try:
        (name, address), *_ = getaddresses([sender]) or [("", "")]
    except Exception:  # noqa: BLE001 — an address the parser cannot split: keep it as the name
        name, address = sender, ""
    when = None
    if date:
        try:
            when = datetime.fromisoformat(date)
        except ValueError:
            when = _date(date)
    links = [("", url) for url in re.findall(r"https?://[^\s<>\"')]+", body)]
    return MailMessage(file=file, sender_name=name, sender_address=address, subject=subject, date=when,
                       body=body[:MAX_BODY_CHARS], links=links)


def iter_mailbox(path: Path, on_error: Callable[[str, Exception], None] | None = None) -> Iterator[MailMessage]:
    """Messages of a .eml file, a folder of .eml files, an mbox file or a Maildir, in a stable order.
    A message that cannot be read (too large, unreadable) is passed to `on_error(name, error)` and
    skipped; without `on_error` the error is raised."""
    for name, read in _sources(Path(path)):
        try:
            message = read()
        except Exception as exc:  # noqa: BLE001 - one unreadable message never stops a batch
            if on_error is None:
                raise
            on_error(name, exc)
            continue
        yield message


def _sources(path: Path) -> Iterator[tuple[str, Callable[[], MailMessage]]]:
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            maildir = mailbox.Maildir(path, factory=None, create=False)
            for key in sorted(maildir.keys()):
                yield key, lambda key=key: _from_mailbox(maildir, key, key)
            return
        for file in sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".eml"):
            yield file.name, lambda file=file: _read_file(file)
        return
    if _looks_like_mbox(path):
        mbox = mailbox.mbox(path, factory=None, create=False)
        for index, key in enumerate(mbox.keys(), start=1):
            yield f"{path.name}#{index}", lambda key=key, index=index: _from_mailbox(mbox, key, f"{path.name}#{index}")
        return
    yield path.name, lambda: _read_file(path)


def _read_file(file: Path) -> MailMessage:
    if file.stat().st_size > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"{file.name} dépasse {MAX_MESSAGE_BYTES} octets")
    return parse_message(file.read_bytes(), file.name)


def _from_mailbox(box: mailbox.Mailbox, key: str, name: str) -> MailMessage:
    return parse_message(box.get_bytes(key), name)


def _looks_like_mbox(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(5) == b"From "
