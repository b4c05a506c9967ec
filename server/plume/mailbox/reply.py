"""The acknowledgement as an e-mail reply waiting in Drafts: RFC 5322, `In-Reply-To`/`References`
so mail clients thread it under the citizen's message, `Subject: Re: …`, written in the sender's
language (French, German, Italian or English; French otherwise), with the reference number. Never sent.
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

from plume.mail.parse import MailMessage
from plume.tasks.acknowledge import Acknowledgement
from plume.tasks.acknowledge_wording import acknowledge_text

REFERENCE_HEADER = "X-Plume-Reference"


def original_headers(raw: bytes) -> dict[str, str]:
    """Message-ID, References and Reply-To of the original, read tolerantly (garbage gives '')."""
    try:
        msg = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0] + b"\r\n\r\n",
                                       policy=email.policy.compat32)
    except Exception:  # a header block no parser can read: reply without threading
        return {}
    headers = {}
    for name in ("Message-ID", "References", "Reply-To"):
        value = msg.get(name)
        headers[name] = " ".join(str(value).split()) if value else ""
    return headers


def reply_subject(subject: str, language: str) -> str:
    subject = subject.strip()
    if subject[:3].lower() in ("re:", "aw:") or subject[:4].lower() == "rif:":
        return subject
    return f"Re: {subject}" if subject else {"de": "Eingangsbestätigung", "it": "Conferma di ricezione", "en": "Acknowledgement of receipt"}.get(
        language, "Accusé de réception")


def reply_text(ack: Acknowledgement, signature: str = "") -> str:
    """The commune's uniform wording in the sender's language (tasks.acknowledge, the same text as
    POST /v1/mail/acknowledge); its "Objet :" line is the e-mail's own subject here."""
    return "\n".join(acknowledge_text(ack, signature).splitlines()[1:])


def build_reply(mail: MailMessage, raw: bytes, ack: Acknowledgement, mailbox_address: str = "",
                signature: str = "", now: datetime | None = None) -> bytes:
    """The draft, as bytes ready for IMAP APPEND (CRLF line ends), in the acknowledgement's language."""
    language = ack.language
    original = original_headers(raw)
    reply = EmailMessage(policy=email.policy.SMTP)
    if "@" in mailbox_address:
        reply["From"] = mailbox_address
    to = _address(original.get("Reply-To", "")) or mail.sender_address
    if to:
        reply["To"] = to
    reply["Subject"] = reply_subject(mail.subject, language)
    reply["Date"] = format_datetime((now or datetime.now()).astimezone())
    domain = mailbox_address.rpartition("@")[2] or "plume.invalid"
    reply["Message-ID"] = make_msgid("plume", domain=domain)
    if message_id := original.get("Message-ID"):
        reply["In-Reply-To"] = message_id
        reply["References"] = " ".join(filter(None, [original.get("References", ""), message_id]))
    reply[REFERENCE_HEADER] = ack.reference
    reply.set_content(reply_text(ack, signature), charset="utf-8")
    reply["Content-Language"] = language  # after set_content, which clears the Content-* headers
    return reply.as_bytes()


def _address(value: str) -> str:
    pairs = [addr for _, addr in getaddresses([value]) if "@" in addr]
    return pairs[0] if pairs else ""
