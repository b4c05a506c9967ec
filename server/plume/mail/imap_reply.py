"""The acknowledgement as an e-mail reply waiting in Drafts: RFC 5322, `In-Reply-To`/`References`
so mail clients thread it under the citizen's message, `Subject: Re: …`, written in the sender's
language (French, German or Italian; French otherwise), with the reference number. Never sent.
"""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

from babel.dates import format_date

from plume.mail.parse import MailMessage
from plume.tasks.acknowledge import Acknowledgement, acknowledge_text

REFERENCE_HEADER = "X-Plume-Reference"
LANGUAGES = ("fr", "de", "it")


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
    return f"Re: {subject}" if subject else {"de": "Eingangsbestätigung", "it": "Conferma di ricezione"}.get(
        language, "Accusé de réception")


def reply_text(ack: Acknowledgement, language: str, signature: str = "") -> str:
    if language == "de":
        return _german(ack, signature)
    if language == "it":
        return _italian(ack, signature)
    # The French wording is the commune's uniform one; its "Objet :" line is the e-mail's subject here.
    lines = acknowledge_text(ack, signature).splitlines()
    return "\n".join(lines[1:] if lines and lines[0].startswith("Objet :") else lines)


def _received(ack: Acknowledgement, locale: str) -> str:
    return format_date(date.fromisoformat(ack.received), "d. MMMM y" if locale == "de_CH" else "d MMMM y",
                       locale=locale)


def _surname(ack: Acknowledgement) -> str:
    words = ack.sender.split() if ack.sender_name_is_person() else []
    return words[-1] if len(words) > 1 else ""


def _german(ack: Acknowledgement, signature: str) -> str:
    name = _surname(ack)
    salutation = {"Madame": f"Sehr geehrte Frau {name}", "Monsieur": f"Sehr geehrter Herr {name}"}.get(ack.civility)
    salutation = salutation if name and salutation else "Sehr geehrte Damen und Herren"
    lines = [f"Referenz: {ack.reference}", "", f"{salutation},", "",
             f"Wir bestätigen den Eingang Ihrer Nachricht vom {_received(ack, 'de_CH')}"
             + (f" mit dem Betreff «{ack.subject}»." if ack.subject else "."),
             f"Ihr Anliegen wurde an die zuständige Stelle ({ack.service}) weitergeleitet, die es in der Regel "
             f"innert {ack.delay_days} Arbeitstagen bearbeitet.",
             f"Bitte geben Sie bei jeder weiteren Korrespondenz die Referenz {ack.reference} an.",
             "", "Freundliche Grüsse"]
    return "\n".join(lines + (["", signature] if signature else []))


def _italian(ack: Acknowledgement, signature: str) -> str:
    name = _surname(ack)
    salutation = {"Madame": f"Gentile Signora {name}", "Monsieur": f"Egregio Signor {name}"}.get(ack.civility)
    salutation = salutation if name and salutation else "Gentili Signore e Signori"
    lines = [f"Riferimento: {ack.reference}", "", f"{salutation},", "",
             f"Confermiamo di aver ricevuto il Suo messaggio del {_received(ack, 'it_CH')}"
             + (f" con l'oggetto «{ack.subject}»." if ack.subject else "."),
             f"La Sua richiesta è stata trasmessa al servizio competente ({ack.service}), che la tratterà "
             f"di regola entro {ack.delay_days} giorni lavorativi.",
             f"La preghiamo di indicare il riferimento {ack.reference} in ogni ulteriore corrispondenza.",
             "", "Distinti saluti"]
    return "\n".join(lines + (["", signature] if signature else []))


def build_reply(mail: MailMessage, raw: bytes, ack: Acknowledgement, language: str, mailbox_address: str = "",
                signature: str = "", now: datetime | None = None) -> bytes:
    """The draft, as bytes ready for IMAP APPEND (CRLF line ends)."""
    language = language if language in LANGUAGES else "fr"
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
    reply.set_content(reply_text(ack, language, signature), charset="utf-8")
    reply["Content-Language"] = language  # after set_content, which clears the Content-* headers
    return reply.as_bytes()


def _address(value: str) -> str:
    pairs = [addr for _, addr in getaddresses([value]) if "@" in addr]
    return pairs[0] if pairs else ""
