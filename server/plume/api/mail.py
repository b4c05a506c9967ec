"""POST /v1/mail/triage and /v1/mail/acknowledge: an e-mail as raw .eml or as fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import anyio
import msgspec
from litestar import Request, Response, post
from litestar.params import JSONBody

from plume.api.problems import Problem
from plume.language import breaks
from plume.api.task_support import Engine, check_size, inference_for, model_or_rules, render_document, task_errors
from plume.mail import MailMessage, MessageTooLarge, from_fields, parse_message
from plume.routing.directory import DirectoryError
from plume.routing.router import Router, router_for, with_directory_services
from plume.tasks import acknowledge as ack_task
from plume.tasks import triage as triage_task


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


class AcknowledgeIn(MailIn, kw_only=True):
    format: Literal["text", "docx", "odt"] = "text"
    # The answer's language when the clerk knows better than the detection (default: the sender's).
    language: Literal["fr", "de", "it", "en"] | None = None
    # Values the clerk adds or corrects for the letter (e.g. the postal address), by template field name.
    values: dict[str, Any] = {}


def rules_for(request: Request) -> triage_task.Rules:
    """The commune's own rules (DATA/triage_rules.toml) when it has some, else the shipped ones."""
    own: Path = request.app.state.settings.data_dir / "triage_rules.toml"
    try:
        return triage_task.load_rules(own if own.exists() else None)
    except triage_task.RulesError as exc:
        raise Problem(500, "Le fichier des règles de tri de la commune est invalide. Le service informatique "
                           "peut le vérifier avec « plume triage --rules FICHIER ».", code="triage-rules") from exc


async def router_of(request: Request) -> Router:
    """The service router of this data folder (plume.routing): directory, learning, embedder."""
    try:
        return await anyio.to_thread.run_sync(router_for, request.app.state.settings.data_dir)
    except DirectoryError as exc:
        raise Problem(500, "L'annuaire des services de la commune (services.toml) est invalide. Le service "
                           "informatique peut le vérifier avec « plume triage learn --check ».",
                      code="triage-directory") from exc


def mail_of(request: Request, data: MailIn) -> MailMessage:
    check_size(request, data.eml, data.body, data.subject)
    if data.eml:
        try:
            return parse_message(data.eml, "message.eml")
        except MessageTooLarge as exc:
            raise Problem(413, "Le message dépasse la taille autorisée.", code="mail-too-large") from exc
    if not (data.body.strip() or data.subject.strip()):
        raise Problem(422, "Envoyez le message brut (« eml ») ou au moins son objet et son texte.", code="validation")
    return from_fields(data.sender, data.subject, data.body, data.date)


@post("/v1/mail/triage", summary="Trier un courriel", tags=["courriel"], status_code=200)
async def triage_mail(request: Request, data: JSONBody[MailIn]) -> dict[str, Any]:
    mail = mail_of(request, data)
    router = await router_of(request)
    rules = with_directory_services(rules_for(request), router.directory)
    with task_errors():
        inference = inference_for(request, triage_task.TASK, data.engine)

    async def run(model):
        result = await triage_task.triage(mail, rules, model, user=request.user.name,
                                          directory_text=router.directory.prompt_text())
        await anyio.to_thread.run_sync(router.route, mail, result, rules)  # embedding: CPU work
        return {**msgspec.to_builtins(result), "engine": model.model_for(triage_task.TASK) if model else "rules"}

    return with_mail_warnings(await model_or_rules(request, data.engine, inference, run), mail)


def with_mail_warnings(result: dict[str, Any], mail: MailMessage) -> dict[str, Any]:
    """What could not be read in the message (a garbled header, a broken part) is said, not hidden."""
    if mail.warnings:
        result.setdefault("warnings", []).extend(w for w in mail.warnings if w not in result["warnings"])
    return result


@post("/v1/mail/acknowledge", summary="Accusé de réception d'un courriel", tags=["courriel"], status_code=200)
async def acknowledge_mail(request: Request, data: JSONBody[AcknowledgeIn]) -> Any:
    mail = mail_of(request, data)
    commune, rules = _commune_name(request), rules_for(request)
    with task_errors():
        inference = inference_for(request, ack_task.TASK, data.engine)

    async def run(model):
        ack = await ack_task.acknowledge(mail, rules, model, user=request.user.name, commune_name=commune,
                                         book=_reference_book(request), language=data.language)
        return msgspec.to_builtins(ack)

    try:
        result = with_mail_warnings(await model_or_rules(request, data.engine, inference, run), mail)
    except ack_task.Suspicious as exc:
        # No draft at all: answering a phishing message tells its sender the address is read.
        raise Problem(422, "Ce message ressemble à une tentative d'hameçonnage : Plume ne rédige pas d'accusé de "
                           "réception. N'y répondez pas, n'ouvrez pas ses liens et transmettez-le au service "
                           "informatique.", title="Message suspect", code="phishing-suspected",
                      signs=exc.signs) from None
    except ack_task.Automatic as exc:
        raise Problem(422, f"Ce message a été envoyé automatiquement ({exc.why}) : personne n'attend d'accusé "
                           "de réception, Plume n'en rédige pas.", title="Message automatique",
                      code="automatic-message", reason=exc.why) from None
    if data.format == "text":
        return result
    return await render_letter(request, msgspec.convert(result, ack_task.Acknowledgement), data.format, data.values)


async def render_letter(request: Request, ack: ack_task.Acknowledgement, fmt: str, values: dict[str, Any]) -> Response:
    # The letter in the sender's language: the template's version in it, else the French model (and a
    # warning, header X-Plume-Warning), whose delay must then be worded in French too.
    letter_language = await _letter_language(request, ack.language, fmt)
    own = {**ack.values, **ack_task.language_values(ack, letter_language), **values}
    response = await render_document(request, ack_task.TEMPLATE_ID, own, fmt, ack.language)
    response.headers["X-Plume-Reference"] = ack.reference
    return response


async def _letter_language(request: Request, language: str, fmt: str) -> str:
    """The language the letter will be in: `language` when the template has a version in it in `fmt`."""
    library = request.app.state.get("templates")
    try:
        info = await anyio.to_thread.run_sync(library.get, ack_task.TEMPLATE_ID)
    except Exception:  # noqa: BLE001 - no library or no template: render_document says so
        return language
    return language if fmt in info.language_formats.get(language, []) else "fr"


def _reference_book(request: Request) -> ack_task.ReferenceBook:
    book = request.app.state.get("acknowledgement_references")
    if book is None:
        book = ack_task.ReferenceBook(request.app.state.settings.data_dir / "acknowledgement-references.json")
        request.app.state.acknowledgement_references = book
    return book


def _commune_name(request: Request) -> str:
    library = request.app.state.get("templates")
    commune = getattr(library, "commune", None)
    if isinstance(commune, dict):
        return str(commune.get("nom", ""))
    return ""


ROUTES = [triage_mail, acknowledge_mail]
