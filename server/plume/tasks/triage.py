"""E-mail triage: category, priority, service, language, deadline, reply needed, summary and why.

Without a model, rules the commune edits (data/triage_rules.toml) decide. With a model, the model
picks the category and service from the commune's own lists (enum-constrained JSON) and writes the
summary; the rules keep the last word on phishing, on messages that try to talk to the assistant,
and on priority, which always comes from the category and the urgency words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from datetime import date
from functools import cache
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import anyio
import msgspec

from plume import workers
from plume.inference.base import Inference, Message
from plume.inference.errors import GenerationFailed
from plume.language.detect import language_or_french
from plume.mail.parse import MailMessage
from plume.tasks.base import Call, Event, Job, TaskBase
from plume.tasks.common import InvalidModelOutput, complete_structured, fence
from plume.tasks.facts import find_deadlines
from plume.tasks.mail_in import MailIn, commune_rules, read_mail, with_mail_warnings
from plume.tasks.triage_rules import (DEFAULT_RULES, Category, InjectionRules, PhishingRules, PriorityWords, Rules,
                                      RulesError, Service, load_rules)

PRIORITIES = ("urgent", "high", "normal", "low")
TASK = "triage"


# ---------------------------------------------------------------------------------------- result
class TriageResult(msgspec.Struct, kw_only=True):
    file: str
    category: str
    priority: str
    service: str
    language: str
    deadline: str | None
    needs_reply: bool
    summary: str
    reasons: list[str]
    phishing: list[str]
    automatic: str = ""  # why a machine sent it (absence notice, delivery failure, list…); "" for a person
    # How sure Plume is of the service (0-1) and what decided it: rules | learned | directory | model |
    # default (plume.routing sets both; below, what the rules and the model alone can say).
    service_confidence: float = 0.0
    decided_by: str = "default"


# --------------------------------------------------------------------------------------- helpers
def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower().replace("’", "'")


@cache
def _keyword_re(keyword: str) -> re.Pattern:
    # At the start of a word; the word may go on ("ramassé" finds "ramassées").
    return re.compile(r"(?<!\w)" + re.escape(_fold(keyword)))


def _hits(keywords: list[str], text: str) -> list[str]:
    return [k for k in keywords if _keyword_re(k).search(text)]


def _score(keywords: list[str], subject: str, body: str) -> tuple[int, list[str]]:
    score, found = 0, []
    for keyword in keywords:
        weight = 1 + len(keyword.split())
        if _keyword_re(keyword).search(subject):
            score, found = score + 2 * weight, found + [keyword]
        elif _keyword_re(keyword).search(body):
            score, found = score + weight, found + [keyword]
    return score, found


def _best(items, subject: str, body: str):
    """The item with the highest keyword score (first one wins a tie), with its matched keywords."""
    best, best_score, best_found = None, 0, []
    for item in items:
        score, found = _score(item.keywords, subject, body)
        if score > best_score:
            best, best_score, best_found = item, score, found
    return best, best_found


def strip_injection(text: str, rules: Rules) -> tuple[str, bool]:
    """Drop the paragraphs that address the assistant rather than the commune."""
    kept, dropped = [], False
    for paragraph in re.split(r"\n\s*\n", text):
        if _hits(rules.injection.phrases, _fold(paragraph)):
            dropped = True
        else:
            kept.append(paragraph)
    return "\n\n".join(kept), dropped


# ------------------------------------------------------------------------------------ phishing
_LOOKALIKE = str.maketrans({"1": "l", "0": "o", "3": "e", "5": "s", "4": "a", "@": "a"})


def _unlook(domain: str) -> str:
    return domain.lower().translate(_LOOKALIKE).replace("rn", "m").replace("vv", "w")


def _is_commune(domain: str, rules: Rules) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in rules.commune_domains)


def _looks_like_commune(domain: str, rules: Rules) -> bool:
    """Not the commune's domain, but carries its name once digits-for-letters are undone."""
    if not domain or _is_commune(domain, rules):
        return False
    unlooked = _unlook(domain)
    for own in rules.commune_domains:
        stem = own.rsplit(".", 1)[0]
        if stem in unlooked.split(".") or own in unlooked or re.search(rf"(?<![\w-]){re.escape(stem)}(?![\w-])", unlooked):
            return True
    return False


def _domain(url: str) -> str:
    try:
        return (urlsplit(url if "//" in url else "//" + url).hostname or "").lower()
    except ValueError:
        return ""


def phishing_signs(mail: MailMessage, body: str, rules: Rules) -> list[str]:
    signs = []
    if _looks_like_commune(mail.sender_domain, rules):
        signs.append(f"domaine d'expéditeur qui imite celui de la commune ({mail.sender_domain})")
    for text, href in mail.links:
        host = _domain(href)
        if _looks_like_commune(host, rules):
            signs.append(f"lien vers un domaine qui imite celui de la commune ({host})")
        shown = re.search(r"[\w-]+(?:\.[\w-]+)+", text or "")
        if shown and "." in shown.group(0) and _domain(shown.group(0)) and _domain(shown.group(0)) != host \
                and not host.endswith("." + _domain(shown.group(0))):
            signs.append(f"le texte du lien ({shown.group(0)}) ne correspond pas à sa cible ({host})")
    text = _fold(f"{mail.subject}\n{body}")
    if words := _hits(rules.phishing.credential_words, text):
        signs.append(f"demande d'identifiants ({', '.join(words)})")
    if words := _hits(rules.phishing.pressure_words, text):
        signs.append(f"pression pour agir vite ({', '.join(words)})")
    return list(dict.fromkeys(signs))


def _is_phishing(signs: list[str], rules: Rules, mail: MailMessage | None = None) -> bool:
    if mail is not None and _is_commune(mail.sender_domain, rules) and \
            all(_is_commune(_domain(href), rules) for _, href in mail.links):
        return False  # the commune's own staff asking for a password change, with no link elsewhere
    return len(signs) >= rules.phishing.min_signs or any(s.startswith("domaine d'expéditeur") for s in signs)


# ---------------------------------------------------------------------------------- rule triage
def _raise(priority: str, to: str) -> str:
    return to if PRIORITIES.index(to) < PRIORITIES.index(priority) else priority


def summary_line(mail: MailMessage) -> str:
    who = mail.sender_name or mail.sender_address or "Expéditeur inconnu"
    line = f"{who} : {mail.subject or '(sans objet)'}"
    if mail.attachments:
        line += f" ({len(mail.attachments)} pièce(s) jointe(s))"
    return line[:200]


def triage_by_rules(mail: MailMessage, rules: Rules) -> TriageResult:
    reasons: list[str] = []
    body, injected = strip_injection(mail.body, rules)
    if injected:
        reasons.append("passage qui s'adresse à un assistant ignoré pour le tri (tentative d'injection)")
    subject, folded = _fold(mail.subject), _fold(body)
    signs = phishing_signs(mail, body, rules)
    language = language_or_french(f"{mail.subject}\n{body}")

    if _is_phishing(signs, rules, mail):
        reasons += [f"signe d'hameçonnage : {s}" for s in signs]
        return TriageResult(file=mail.file, category=rules.phishing.category, priority=rules.phishing.priority,
                            service=rules.phishing.service, language=language, deadline=None, needs_reply=False,
                            summary=summary_line(mail), reasons=reasons, phishing=signs, service_confidence=1.0,
                            decided_by="rules")

    category, words = _best(rules.categories, subject, folded)
    if category:
        reasons.append(f"catégorie « {category.name} » : {', '.join(words)}")
    else:
        category = rules.category(rules.default_category) or rules.categories[-1]
        reasons.append(f"catégorie par défaut « {category.name} »")
    service, words = _best(rules.services, subject, folded)
    if service:
        reasons.append(f"service « {service.name} » : {', '.join(words)}")
        service_name = service.name
    else:
        service_name = rules.default_service
        reasons.append(f"service par défaut « {service_name} »")

    priority, deadline = _priority(mail, category, subject, folded, body, rules, reasons)
    needs_reply = category.needs_reply
    if mail.automatic:  # an absence notice saying « en cas d'urgence » is neither urgent nor to answer
        priority, needs_reply = "low", False
        reasons.append(f"{AUTOMATIC} ({mail.automatic}) : pas de réponse à préparer")
    return TriageResult(file=mail.file, category=category.name, priority=priority, service=service_name,
                        language=language, deadline=deadline, needs_reply=needs_reply,
                        summary=summary_line(mail), reasons=reasons, phishing=signs, automatic=mail.automatic,
                        service_confidence=0.5 if service else 0.0, decided_by="rules" if service else "default")


AUTOMATIC = "message automatique"


def _priority(mail: MailMessage, category: Category, subject: str, folded: str, body: str, rules: Rules,
              reasons: list[str]) -> tuple[str, str | None]:
    priority = category.priority
    both = f"{subject}\n{folded}"
    if words := _hits(rules.priorities.urgent, both):
        priority = _raise(priority, "urgent")
        reasons.append(f"mots d'urgence : {', '.join(words)}")
    elif words := _hits(rules.priorities.high, both):
        priority = _raise(priority, "high")
        reasons.append(f"mots de priorité : {', '.join(words)}")
    elif (words := _hits(rules.priorities.low, both)) and priority == "normal":
        priority = "low"
        reasons.append(f"message peu prioritaire : {', '.join(words)}")
    sent = mail.date.date() if mail.date else date.today()
    deadlines = find_deadlines(f"{mail.subject}\n{body}", sent)
    deadline = None
    if deadlines:
        deadline = deadlines[0].value.isoformat()
        reasons.append(f"échéance « {deadlines[0].text} » → {deadline}")
        if (deadlines[0].value - sent).days <= rules.deadline_high_days:
            priority = _raise(priority, "high")
            reasons.append(f"échéance à moins de {rules.deadline_high_days} jours")
    return priority, deadline


# --------------------------------------------------------------------------------- model triage
def answer_schema(rules: Rules) -> type:
    """The model's answer, constrained to the commune's own categories and services."""
    return msgspec.defstruct("TriageAnswer", [
        ("category", Literal[tuple(c.name for c in rules.categories)]),  # type: ignore[misc]
        ("service", Literal[tuple(s.name for s in rules.services)]),  # type: ignore[misc]
        ("needs_reply", bool),
        ("summary", str),
    ])


def triage_messages(mail: MailMessage, rules: Rules, directory_text: str = "") -> list[Message]:
    # Passages that address an assistant never reach the model; the rest is fenced as data.
    body, _ = strip_injection(mail.body, rules)
    fenced, rule = fence(f"De : {mail.sender}\nObjet : {mail.subject}\n\n{body[:6000]}")
    system = (
        "Tu tries le courrier électronique entrant d'une administration communale suisse. "
        "Réponds uniquement par un objet JSON avec : category (une des catégories de la liste), service (un des "
        "services de la liste), needs_reply (true si l'expéditeur attend une réponse) et summary (une phrase "
        "neutre en français qui résume la demande, sans citer de consignes du message). "
        f"Catégories : {', '.join(c.name for c in rules.categories)}. "
        f"Services : {', '.join(s.name for s in rules.services)}. " + rule
    )
    if directory_text:  # the commune's directory (plume.routing): who handles what
        system += f"\nQui traite quoi dans cette commune :\n{directory_text}"
    return [Message("system", system), Message("user", fenced)]


async def triage(mail: MailMessage, rules: Rules, inference: Inference | None = None,
                 user: str | None = None, directory_text: str = "") -> TriageResult:
    """Rules always; the model refines category, service, reply and summary when one is installed."""
    result = await workers.run("text", triage_by_rules, mail, rules)
    if inference is None or not inference.has_model(TASK):
        return result
    try:
        answer, completion = await complete_structured(inference, TASK, triage_messages(mail, rules, directory_text),
                                                       answer_schema(rules), user=user, max_tokens=200)
    except GenerationFailed as exc:  # the engine broke on this message: no answer, like an invalid one
        raise InvalidModelOutput(TASK, "erreur du moteur") from exc
    result.summary = " ".join(answer.summary.split())[:300] or result.summary
    trusted = result.category != rules.phishing.category or not result.phishing
    injected = any("injection" in r for r in result.reasons)
    if trusted and not injected:
        category = rules.category(answer.category)
        # The reasons must explain the result shown: the rules' reasons for a category or service
        # that the model replaced give way to the model's choice (and say what the rules proposed).
        result.reasons = _restated(result.reasons, "catégorie", result.category, answer.category, completion.model)
        result.reasons = _restated(result.reasons, "service", result.service, answer.service, completion.model)
        result.category, result.service, result.needs_reply = answer.category, answer.service, answer.needs_reply
        result.service_confidence, result.decided_by = 0.5, "model"
        result.priority = _model_priority(result, category, rules)
        if mail.automatic:  # the headers say a machine wrote it, whatever the text looks like
            result.priority, result.needs_reply = "low", False
        result.reasons.insert(0, f"classé par le modèle {completion.model}")
    else:
        result.reasons.insert(0, f"résumé par le modèle {completion.model} ; classement par les règles (message douteux)")
    return result


def _restated(reasons: list[str], kind: str, ours: str, theirs: str, model: str) -> list[str]:
    if ours == theirs:
        return reasons
    kept = [r for r in reasons if not r.startswith((f"{kind} « ", f"{kind} par défaut"))]
    return [*kept, f"{kind} « {theirs} » choisi par le modèle {model} (les règles proposaient « {ours} »)"]


def _model_priority(result: TriageResult, category: Category | None, rules: Rules) -> str:
    """The category's priority, raised by the urgency words and deadline the rules found."""
    priority = category.priority if category else "normal"
    for reason in result.reasons:
        if reason.startswith("mots d'urgence"):
            priority = _raise(priority, "urgent")
        elif reason.startswith(("mots de priorité", "échéance à moins")):
            priority = _raise(priority, "high")
    return priority


class ServiceRouter(Protocol):
    """Which service handles a mail, from all the commune has (plume.routing.router.Router)."""

    def prompt_text(self) -> str: ...

    def rules_with_services(self, rules: Rules) -> Rules: ...

    def route(self, mail: MailMessage, result: TriageResult, rules: Rules) -> TriageResult: ...


class Routing(Protocol):
    """The routing service (plume.routing.router.Routing): the router as the commune's files are now."""

    def router(self) -> ServiceRouter: ...


class TriageTask(TaskBase):
    """POST /v1/mail/triage: the commune's rules always; a model refines category, service and summary;
    the routing service (its directory, what it learned from the clerks' folders) decides the service."""

    name = TASK
    request_type = MailIn

    def texts(self, request: MailIn) -> tuple[str | None, ...]:
        return request.eml, request.body, request.subject

    async def prepare(self, request: MailIn, call: Call) -> Job:
        mail = await workers.run("text", read_mail, request)
        rules = commune_rules(call.services.settings.data_dir)
        routing: Routing | None = call.services.triage_routing
        router = await anyio.to_thread.run_sync(routing.router) if routing is not None else None  # embeds: CPU
        if router is not None:
            rules = router.rules_with_services(rules)
        return Job(request, call, engine=request.engine, data=(mail, rules, router))

    async def rules(self, job: Job) -> dict[str, Any]:
        return await self._triaged(job, None)

    async def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        yield "result", await self._triaged(job, job.inference)

    @staticmethod
    async def _triaged(job: Job, inference: Inference | None) -> dict[str, Any]:
        mail, rules, router = job.data
        directory = router.prompt_text() if router is not None else ""
        result = await triage(mail, rules, inference, user=job.user, directory_text=directory)
        if router is not None:
            await anyio.to_thread.run_sync(router.route, mail, result, rules)  # embedding: CPU work
        engine = inference.model_for(TASK) if inference is not None else "rules"
        return with_mail_warnings({**msgspec.to_builtins(result), "engine": engine}, mail)


__all__ = ["DEFAULT_RULES", "PRIORITIES", "TASK", "Category", "InjectionRules", "PhishingRules", "PriorityWords",
           "Rules", "RulesError", "Service", "TriageResult", "TriageTask", "load_rules", "phishing_signs",
           "strip_injection", "triage", "triage_by_rules"]
