"""Acknowledgement of receipt: the same wording for every e-mail, with the facts the commune
controls (reference, handling service, usual delay) taken from the triage rules, never from the
message. A model may add one neutral sentence summarising the request.

The text is in the sender's language when it is French, German, Italian or English (detected on the
message, offline), else French; dates are written the way each language writes them (« 1er décembre
2026 », « 1. Dezember 2026 »). A message the triage flags as phishing gets no acknowledgement at all:
`Suspicious` is raised (the route answers 422 with the signs found) — answering would confirm to the
sender that the address is read."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any, Literal

import anyio
import msgspec

from plume import workers
from plume.errors import InvalidRequest
from plume.inference.base import Inference, Message
from plume.inference.errors import GenerationFailed
from plume.language.detect import language_or_french
from plume.mail.parse import MailMessage
from plume.search.collections import COLLECTION_ID
from plume.search.service import Hit
from plume.tasks.base import Call, Event, Job, Letter, Offer, TaskBase
from plume.tasks.acknowledge_wording import acknowledge_text, civility_of
from plume.tasks.common import InvalidModelOutput, complete_structured, fence
from plume.tasks.mail_in import MailIn, commune_rules, read_mail, with_mail_warnings
from plume.tasks.reference_book import ReferenceBook, message_key, reference_for
from plume.tasks.sources import applicable, applicable_line
from plume.tasks.triage import Rules, TriageResult, strip_injection, triage_by_rules

TASK = "acknowledge"
TEMPLATE_ID = "accuse-reception"
DEFAULT_DELAY_DAYS = 10
LANGUAGES = ("fr", "de", "it", "en")  # the sender's language, when it is one of these; else French
LANGUAGE_NAMES = {"fr": "français", "de": "allemand", "it": "italien", "en": "anglais"}


class Suspicious(InvalidRequest):
    """The message looks like phishing: no acknowledgement is written (answering a phishing message
    tells its sender the address is read)."""

    code = "phishing-suspected"
    title = "Message suspect"

    def __init__(self, signs: list[str]) -> None:
        super().__init__("Ce message ressemble à une tentative d'hameçonnage : Plume ne rédige pas d'accusé de "
                         "réception. N'y répondez pas, n'ouvrez pas ses liens et transmettez-le au service "
                         "informatique.", signs=signs)
        self.signs = signs


class Automatic(InvalidRequest):
    """A machine sent the message (absence notice, delivery failure, mailing list): nobody reads an
    acknowledgement, and answering robots is how mail loops start (RFC 3834)."""

    code = "automatic-message"
    title = "Message automatique"

    def __init__(self, why: str) -> None:
        super().__init__(f"Ce message a été envoyé automatiquement ({why}) : personne n'attend d'accusé de "
                         "réception, Plume n'en rédige pas.", reason=why)
        self.why = why


class Acknowledgement(msgspec.Struct, kw_only=True):
    """The acknowledgement: its text, its facts, and the values for the letter template."""

    text: str
    reference: str
    sender: str
    sender_email: str
    received: str            # ISO date
    subject: str
    service: str             # the service's full name, as written in letters
    delay_days: int          # usual handling delay in working days
    summary: str | None
    civility: str            # "Madame", "Monsieur" or "Madame, Monsieur" when unknown
    attachments: list[str]
    values: dict[str, Any]   # the accuse-reception template's fields
    warnings: list[str]
    engine: str
    language: str = "fr"     # the language of `text`: the sender's (fr, de, it, en), else French
    applicable: str | None = None  # « Disposition applicable : … » when asked (`cite`) and a collection holds it
    applicable_source: Hit | None = None  # the passage it cites

    def sender_name_is_person(self) -> bool:
        # "Imprimerie du Jura SA" or an address alone is no person's first and last name.
        return "@" not in self.sender and not re.search(r"\b(?:SA|Sàrl|AG|GmbH|Sarl|Service|Atelier|Imprimerie)\b",
                                                          self.sender)


def sender_language(mail: MailMessage) -> str:
    """fr, de, it or en when the message is clearly written in it; else French, the commune's language."""
    return language_or_french(f"{mail.subject}\n{mail.body[:3000]}", among=LANGUAGES)


class _Summary(msgspec.Struct):
    summary: str


def _one_sentence(value: _Summary) -> None:
    text = value.summary.strip()
    if not text or len(text) > 300 or text.count("\n") or len(re.findall(r"[.!?](?:\s|$)", text)) > 1:
        raise ValueError("le résumé doit tenir en une seule phrase de moins de 300 caractères")


async def acknowledge(mail: MailMessage, rules: Rules, inference: Inference | None = None, *,
                      user: str | None = None, commune_name: str = "", today: date | None = None,
                      book: ReferenceBook | None = None, language: str | None = None,
                      cited: Hit | None = None) -> Acknowledgement:
    """`language` (one of LANGUAGES) overrides the sender's language detected on the message; `cited`:
    the passage of the commune's documents that applies, named in its own sentence. The rules' part
    (reading the message, numbering it in the reference book, which writes to disk) runs in a worker
    thread, never on the event loop."""
    ack = await workers.run("text", _by_rules, mail, rules, today, book, language)
    if cited is not None:
        ack.applicable_source = cited
        ack.applicable = applicable_line(cited, ack.language)
    if inference is not None:
        body, _ = strip_injection(mail.body, rules)
        fenced, rule = fence(f"Objet : {mail.subject}\n\n{body[:6000]}")
        messages = [
            Message("system", "Tu écris pour une administration communale suisse. Résume en une seule phrase neutre, "
                              f"en {LANGUAGE_NAMES[ack.language]}, ce que demande l'expéditeur du message, sans rien promettre ni affirmer "
                              "d'autre. Réponds uniquement par un objet JSON {\"summary\": \"...\"}. " + rule),
            Message("user", fenced),
        ]
        try:
            answer, completion = await complete_structured(inference, TASK, messages, _Summary, user=user,
                                                           max_tokens=120, check=_one_sentence)
        except GenerationFailed as exc:  # the engine broke on this message: no answer, like an invalid one
            raise InvalidModelOutput(TASK, "erreur du moteur") from exc
        ack.summary, ack.engine = " ".join(answer.summary.split()), completion.model
    return await workers.run("text", _worded, ack, mail, commune_name)


def _by_rules(mail: MailMessage, rules: Rules, today: date | None, book: ReferenceBook | None,
              language: str | None) -> Acknowledgement:
    """The acknowledgement the rules give (no text yet), numbered; Suspicious or Automatic refuse it."""
    triage: TriageResult = triage_by_rules(mail, rules)
    received = (mail.date.date() if mail.date else None) or today or date.today()
    service = rules.service(triage.service)
    warnings = []
    if triage.phishing and triage.category == rules.phishing.category:
        raise Suspicious(list(triage.phishing))
    if mail.automatic:
        raise Automatic(mail.automatic)
    if any("injection" in r for r in triage.reasons):
        warnings.append("Le message contient un passage qui s'adresse à un assistant : il a été ignoré.")
    return Acknowledgement(
        text="", reference=book.reference(mail, received) if book else reference_for(mail, received), sender=mail.sender_name or mail.sender_address,
        sender_email=mail.sender_address, received=received.isoformat(), subject=mail.subject,
        service=(service.title or service.name) if service else triage.service,
        delay_days=service.delay_days if service else DEFAULT_DELAY_DAYS,
        summary=None, civility=civility_of(mail), attachments=[a.filename for a in mail.attachments],
        values={}, warnings=warnings, engine="rules", language=language or sender_language(mail),
    )


def _worded(ack: Acknowledgement, mail: MailMessage, commune_name: str) -> Acknowledgement:
    ack.text = acknowledge_text(ack, commune_name)
    ack.values = template_values(ack, mail)
    return ack


# The delay as the letter's language version of accuse-reception goes on after « dans un délai
# habituel de », « innert », « entro », « within ».
DELAY_WORDING = {"fr": "{days} jours ouvrables", "de": "{days} Arbeitstagen", "it": "{days} giorni lavorativi",
                 "en": "{days} working days"}


def language_values(ack: Acknowledgement, language: str) -> dict[str, Any]:
    """The values whose wording depends on the letter's language: the delay, and the subject (German
    nouns keep their capital: « Eingangsbestätigung – Baugesuch »)."""
    return {"objet": ack.subject if language == "de" else _lower_first(ack.subject),
            "delai_traitement": DELAY_WORDING.get(language, DELAY_WORDING["fr"]).format(days=ack.delay_days)}


def template_values(ack: Acknowledgement, mail: MailMessage) -> dict[str, Any]:
    """Values for templates/accuse-reception (its template.toml names them), in the acknowledgement's
    language. The postal address comes from the message's signature when it has one; the sidebar
    asks the clerk for what is left."""
    from plume.tasks.extract import npa_locality, street_address

    words = ack.sender.split() if ack.sender_name_is_person() else []
    values: dict[str, Any] = {
        "prenom": " ".join(words[:-1]) if len(words) > 1 else "",
        "nom": words[-1] if words else ack.sender,
        "date_reception": ack.received,
        # German nouns keep their capital: « Eingangsbestätigung – Baugesuch ».
        "reference": ack.reference,
        "service": ack.service,
        "courriel": ack.sender_email,
        "annexes": ack.attachments,
        **language_values(ack, ack.language),
    }
    if ack.civility in ("Madame", "Monsieur"):
        values["civilite"] = ack.civility
    body, _ = _signature_area(mail.body)
    if street := street_address(body):
        values["adresse"] = street.value
    if npa := npa_locality(body):
        values["npa_localite"] = npa.value
    return {k: v for k, v in values.items() if v not in ("", None)}


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2].istitle() or text[1:2].islower() else text


def _signature_area(body: str) -> tuple[str, bool]:
    """The last lines of the message, where senders put their address."""
    lines = [line for line in body.splitlines() if line.strip()]
    return "\n".join(lines[-6:]), bool(lines)


# -- the task ---------------------------------------------------------------------------------------------------


class AcknowledgeIn(MailIn, kw_only=True):
    format: Literal["text", "docx", "odt"] = "text"
    # The answer's language when the clerk knows better than the detection (default: the sender's).
    language: Literal["fr", "de", "it", "en"] | None = None
    # Values the clerk adds or corrects for the letter (e.g. the postal address), by template field name.
    values: dict[str, Any] = {}
    cite: bool = False  # name the applicable article of the commune's documents, when a collection holds it
    collections: list[Annotated[str, msgspec.Meta(pattern=COLLECTION_ID)]] | None = None  # default: all readable


class AcknowledgeTask(TaskBase):
    """POST /v1/mail/acknowledge: the uniform wording, a model's one-sentence summary, the letter."""

    name = TASK
    request_type = AcknowledgeIn

    def texts(self, request: AcknowledgeIn) -> tuple[str | None, ...]:
        return request.eml, request.body, request.subject

    async def prepare(self, request: AcknowledgeIn, call: Call) -> Job:
        mail = await workers.run("text", read_mail, request)
        return Job(request, call, engine=request.engine, data=(mail, commune_rules(call.services.settings.data_dir)))

    async def rules(self, job: Job) -> dict[str, Any]:
        return await self._acknowledged(job, None)

    async def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        yield "result", await self._acknowledged(job, job.inference)

    @staticmethod
    async def _acknowledged(job: Job, inference: Inference | None) -> dict[str, Any]:
        (mail, rules), services = job.data, job.call.services
        cited = await applicable(job.call, f"{mail.subject}\n{mail.body[:600]}", job.request.collections) \
            if job.request.cite else None
        ack = await acknowledge(mail, rules, inference, user=job.user, commune_name=commune_name(services.templates),
                                book=services.reference_book, language=job.request.language, cited=cited)
        return with_mail_warnings(msgspec.to_builtins(ack), mail)

    async def letter(self, job: Job, result: dict[str, Any]) -> Letter | None:
        """The letter in the sender's language: the template's version in it, else the French model (the
        library then warns), whose delay must then be worded in French too."""
        if job.request.format == "text":
            return None
        ack = msgspec.convert(result, Acknowledgement)
        letter_language = await _letter_language(job.call.services.templates, ack.language, job.request.format)
        values = {**ack.values, **language_values(ack, letter_language), **job.request.values}
        return Letter(TEMPLATE_ID, values, job.request.format, language=ack.language, reference=ack.reference)

    def describe(self, offer: Offer) -> dict[str, Any]:
        return {**super().describe(offer), "formats": offer.formats(TEMPLATE_ID), "languages": list(LANGUAGES)}


async def _letter_language(templates: Any, language: str, fmt: str) -> str:
    """The language the letter will be in: `language` when the template has a version in it in `fmt`."""
    from plume.documents.library import TemplateNotFound

    if templates is None:
        return language  # rendering says the library is missing
    try:
        info = await anyio.to_thread.run_sync(templates.get, TEMPLATE_ID)
    except TemplateNotFound:  # rendering says so
        return language
    return language if fmt in info.language_formats.get(language, []) else "fr"


def commune_name(templates: Any) -> str:
    """The commune's name from the library's commune.toml (« nom »), or nothing."""
    commune = templates.commune if templates is not None else {}
    return str(commune.get("nom", ""))


__all__ = ["Acknowledgement", "AcknowledgeIn", "AcknowledgeTask", "Automatic", "ReferenceBook", "Suspicious",
           "acknowledge", "acknowledge_text", "language_values", "message_key", "reference_for", "sender_language",
           "template_values"]
