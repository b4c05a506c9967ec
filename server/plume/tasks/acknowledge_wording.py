"""The acknowledgement's words, in the sender's language (fr, de, it, en): greeting, the uniform
wording and the dates as each language writes them. Only facts from the commune's side go in."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from plume.mail.parse import MailMessage

if TYPE_CHECKING:
    from plume.tasks.acknowledge import Acknowledgement


def civility_of(mail: MailMessage) -> str:
    """'Madame', 'Monsieur' when the message says so (signature or salutation), else both."""
    first = (mail.sender_name.split() or [""])[0].lower()
    if re.search(r"^(?:mme|madame)\b", mail.sender_name, re.I) or first in _FEMININE:
        return "Madame"
    if re.search(r"^(?:m\.|monsieur)\s", mail.sender_name, re.I) or first in _MASCULINE:
        return "Monsieur"
    return "Madame, Monsieur"


# A short list is enough: when unsure the letter says "Madame, Monsieur", which is always correct.
_FEMININE = {"maria", "sophie", "claire", "anne", "marie", "nathalie", "isabelle", "catherine", "sandrine", "laura",
             "julie", "sarah", "christine", "monique", "françoise", "valérie", "céline", "martine", "sylvie"}
_MASCULINE = {"jean", "jean-marc", "paul", "pierre", "pierre-alain", "thomas", "michel", "daniel", "marc",
              "nicolas", "philippe", "alain", "laurent", "david", "olivier", "patrick", "christophe", "andré"}


def written_date(value: date, language: str) -> str:
    """« 1er décembre 2026 », « 1. Dezember 2026 », « 1º dicembre 2026 », « 1 December 2026 » (the
    same as the letter templates' language versions write them)."""
    from plume.documents.formatting import format_date_long

    return format_date_long(value, language)


def _greeting(ack: Acknowledgement, language: str) -> str:
    last = ack.sender.split()[-1] if ack.sender_name_is_person() and ack.sender.split() else ""
    known = ack.civility in ("Madame", "Monsieur") and last
    if language == "de":
        return (f"Sehr geehrte Frau {last}," if ack.civility == "Madame" else f"Sehr geehrter Herr {last},") \
            if known else "Sehr geehrte Damen und Herren,"
    if language == "it":
        return (f"Gentile Signora {last}," if ack.civility == "Madame" else f"Egregio Signor {last},") \
            if known else "Gentili Signore e Signori,"
    if language == "en":
        return (f"Dear Ms {last}," if ack.civility == "Madame" else f"Dear Mr {last},") if known else "Dear Sir or Madam,"
    return f"{ack.civility},"


# The uniform wording, language by language: {subject}, {reference}, {received}, {service}, {days}.
# German and Italian letters go on in lower case after the greeting's comma.
WORDING = {
    "fr": {
        "object": "Objet : accusé de réception – {subject}", "no_subject": "votre message",
        "reference": "Référence : {reference}",
        "received": "Nous accusons réception de votre message du {received}", "titled": " intitulé « {subject} ».",
        "summary": "Nous comprenons votre demande ainsi : {summary}",
        "service": "Votre demande a été transmise au service compétent ({service}), qui la traitera dans un délai "
                   "habituel de {days} jours ouvrables.",
        "recall": "Merci de rappeler la référence {reference} dans toute correspondance à ce sujet.",
        "closing": "Nous vous prions d'agréer, {civility}, nos salutations distinguées.",
    },
    "de": {
        "object": "Betreff: Eingangsbestätigung – {subject}", "no_subject": "Ihre Nachricht",
        "reference": "Referenz: {reference}",
        "received": "wir bestätigen den Eingang Ihrer Nachricht vom {received}", "titled": " mit dem Betreff «{subject}».",
        "summary": "Wir verstehen Ihr Anliegen so: {summary}",
        "service": "Ihr Anliegen wurde an die zuständige Stelle ({service}) weitergeleitet, die es in der Regel "
                   "innert {days} Arbeitstagen bearbeitet.",
        "recall": "Bitte geben Sie bei jeder weiteren Korrespondenz die Referenz {reference} an.",
        "closing": "Freundliche Grüsse",
    },
    "it": {
        "object": "Oggetto: conferma di ricezione – {subject}", "no_subject": "il suo messaggio",
        "reference": "Riferimento: {reference}",
        "received": "confermiamo di aver ricevuto il suo messaggio del {received}", "titled": " con oggetto «{subject}».",
        "summary": "Abbiamo compreso la sua richiesta così: {summary}",
        "service": "La sua richiesta è stata trasmessa al servizio competente ({service}), che la tratterà di norma "
                   "entro {days} giorni lavorativi.",
        "recall": "La preghiamo di indicare il riferimento {reference} in ogni corrispondenza su questo tema.",
        "closing": "Distinti saluti",
    },
    "en": {
        "object": "Subject: acknowledgement of receipt – {subject}", "no_subject": "your message",
        "reference": "Reference: {reference}",
        "received": "We acknowledge receipt of your message of {received}", "titled": " entitled “{subject}”.",
        "summary": "We understand your request as follows: {summary}",
        "service": "Your request has been passed on to the competent department ({service}), which usually "
                   "handles it within {days} working days.",
        "recall": "Please quote the reference {reference} in any correspondence on this matter.",
        "closing": "Yours faithfully,",
    },
}


def acknowledge_text(ack: Acknowledgement, commune_name: str = "") -> str:
    """The uniform wording in the acknowledgement's language. Facts only from the commune's side, the
    summary in its own sentence."""
    language = ack.language if ack.language in WORDING else "fr"
    w = WORDING[language]
    received = written_date(date.fromisoformat(ack.received), language)
    lines = [
        w["object"].format(subject=ack.subject or w["no_subject"]),
        w["reference"].format(reference=ack.reference),
        "",
        _greeting(ack, language),
        "",
        w["received"].format(received=received) + (w["titled"].format(subject=ack.subject) if ack.subject else "."),
    ]
    if ack.summary:
        lines.append(w["summary"].format(summary=ack.summary))
    lines += [
        w["service"].format(service=ack.service, days=ack.delay_days),
        *([ack.applicable] if ack.applicable else []),
        w["recall"].format(reference=ack.reference),
        "",
        w["closing"].format(civility=ack.civility),
    ]
    if commune_name:
        lines += ["", commune_name]
    return "\n".join(lines)
