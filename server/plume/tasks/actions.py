"""The commune's own actions (« Raccourcir de moitié », « Ton plus chaleureux »…): named instructions
an admin keeps in `actions.toml` in the data folder, run by the instruction model on the selection.

The instruction is a small template filled by Plume (`{{ langue }}`: the output language's name;
`{{ date }}`: today's date) in the letters' bounded sandbox (an admin, or a hand edit of the file,
must not be able to exhaust the server with it); the selection goes to the model fenced as data, never
as instructions. The library is read again whenever its file changes, so the sidebars see a new
action without a restart.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import msgspec
import tomli_w
from babel.dates import format_date
from jinja2 import TemplateError, TemplateSyntaxError

from plume import workers
from plume.documents.budget import BudgetExceeded, spending
from plume.documents.formatting import plain_environment
from plume.errors import InvalidRequest, NotFound
from plume.files import atomic_write
from plume.inference.base import Message, ModelUnavailable
from plume.language.detect import language_or_french
from plume.tasks.base import Call, Event, Job, Offer, TaskBase, capability
from plume.tasks.common import fence
from plume.tasks.freetext import generate_checked

MODEL_TASK = "chat"  # custom actions need a general instruction model
NO_MODEL = "Les actions de la commune demandent un modèle de langue, qui n'est pas installé sur ce serveur."
NO_MODEL_DE = "Die Aktionen der Gemeinde brauchen ein Sprachmodell, das auf diesem Server nicht installiert ist."
ACTION_ID = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?\Z"
FILE_NAME = "actions.toml"
MAX_TOKENS = 1200
LANGUAGE_NAMES = {"fr": "français", "de": "allemand", "it": "italien", "en": "anglais", "es": "espagnol",
                  "pt": "portugais"}

Role = Literal["user", "template-owner", "admin"]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class Action(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    title: Title  # shown in the sidebars, French
    instruction: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    title_de: Annotated[str, msgspec.Meta(max_length=80)] = ""
    applies_to: Literal["selection", "document"] = "selection"
    output_language: Literal["same", "fr", "de", "it", "en", "es", "pt"] = "same"
    role: Role = "user"  # the least role that sees the action
    # Listed only where a model can run it (« Améliorer le style »), instead of greyed out with the reason.
    only_with_model: bool = False


DEFAULTS = {
    "raccourcir": Action(
        title="Raccourcir de moitié", title_de="Um die Hälfte kürzen",
        instruction="Raccourcis ce texte de moitié environ. Garde tous les faits, montants, dates, délais et noms. "
                    "Écris en {{ langue }}."),
    "ton-chaleureux": Action(
        title="Ton plus chaleureux", title_de="Wärmerer Ton",
        instruction="Réécris ce texte sur un ton plus chaleureux et bienveillant, en restant courtois et "
                    "administratif. Garde tous les faits, montants, dates et noms. Écris en {{ langue }}."),
    "formule-politesse": Action(
        title="Formule de politesse", title_de="Grussformel",
        instruction="Propose une formule de politesse finale adaptée à cette lettre, en {{ langue }}, "
                    "dans l'usage d'une administration communale suisse. Réponds par la formule seule."),
    "ameliorer-style": Action(
        title="Améliorer le style", title_de="Stil verbessern",
        instruction="Améliore le style de ce texte : phrases claires et fluides, mots précis, répétitions évitées, "
                    "ton courtois d'une administration communale. Ne change pas le sens et garde tous les faits, "
                    "montants, dates, délais et noms. Écris en {{ langue }}.",
        only_with_model=True),
}


class InvalidAction(InvalidRequest):
    """An instruction that is not a valid template: the admin gets a 422 naming the error."""

    code = "invalid-action"


class ActionLibrary:
    """`actions.toml` in the data folder; the shipped defaults until an admin writes one."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self._lock = threading.Lock()
        self._cache: tuple[float, dict[str, Action]] | None = None

    def all(self) -> dict[str, Action]:
        with self._lock:
            return dict(self._read())

    def get(self, action_id: str) -> Action | None:
        return self.all().get(action_id)

    def put(self, action_id: str, action: Action) -> bool:
        """Create or replace; True when it was new."""
        check_instruction(action.instruction)
        with self._lock:
            actions = dict(self._read())
            created = action_id not in actions
            actions[action_id] = action
            self._write(actions)
        return created

    def delete(self, action_id: str) -> bool:
        with self._lock:
            actions = dict(self._read())
            if actions.pop(action_id, None) is None:
                return False
            self._write(actions)
        return True

    def _read(self) -> dict[str, Action]:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return DEFAULTS
        if self._cache is None or self._cache[0] != mtime:
            raw = tomllib.loads(self.path.read_text(encoding="utf-8"))
            self._cache = (mtime, {k: msgspec.convert(v, Action) for k, v in raw.get("actions", {}).items()})
        return self._cache[1]

    def _write(self, actions: dict[str, Action]) -> None:
        body = {"actions": {k: _without_defaults(v) for k, v in sorted(actions.items())}}
        atomic_write(self.path, tomli_w.dumps(body))  # a reader sees the old or the new library, never half
        self._cache = None


def visible(actions: dict[str, Action], role: str) -> dict[str, Action]:
    rank = {"user": 0, "template-owner": 1, "admin": 2}
    return {k: a for k, a in actions.items() if rank[a.role] <= rank.get(role, 0)}


def listed(actions: dict[str, Action], role: str, ready: bool) -> dict[str, Action]:
    """What the sidebars list: the visible actions, less those shown only where a model can run them."""
    return {k: a for k, a in visible(actions, role).items() if ready or not a.only_with_model}


_ENV = plain_environment()  # plain text, with the letters' bounds on loops, sizes and numbers


def check_instruction(instruction: str) -> None:
    """Refuse, in French, an instruction Plume could not fill: bad syntax, or one that fails or asks
    too much when filled (tried for every output language)."""
    try:
        _ENV.parse(instruction)
    except TemplateSyntaxError as exc:
        # Jinja's own message is English: the admin gets the line and what to look at, in French.
        raise InvalidAction(f"La consigne n'est pas un modèle valide (ligne {exc.lineno}) : vérifiez les "
                            "balises {{ … }} et {% … %}.") from exc
    for language in LANGUAGE_NAMES:
        _fill(instruction, language, date.today())


def instruction_for(action: Action, language: str, today: date | None = None) -> str:
    output = language if action.output_language == "same" else action.output_language
    return _fill(action.instruction, output, today or date.today())


def _fill(instruction: str, language: str, today: date) -> str:
    values = {"langue": LANGUAGE_NAMES.get(language, "français"),
              "date": format_date(today, format="long", locale="fr_CH")}
    try:
        with spending():
            return _ENV.from_string(instruction).render(values).strip()
    except BudgetExceeded as exc:
        raise InvalidAction(f"La consigne demande trop de calcul ou de texte : {exc.detail}") from None
    except (TemplateError, ValueError, TypeError, ArithmeticError, LookupError) as exc:  # SecurityError too
        raise InvalidAction("La consigne ne peut pas être remplie : elle ne peut utiliser que {{ langue }} et "
                            f"{{{{ date }}}} ({type(exc).__name__}).") from None


def messages(action: Action, text: str, language: str) -> list[Message]:
    fenced, rule = fence(text)
    system = ("Tu es l'assistant de rédaction d'une administration communale suisse. Tu appliques la consigne "
              f"au texte fourni et tu réponds uniquement par le texte obtenu, sans commentaire. {rule}")
    return [Message("system", system), Message("user", f"Consigne : {instruction_for(action, language)}\n\n{fenced}")]


def _no_check(_output: str) -> None:
    """An action's output has no shape to check beyond freetext's basic check (not empty, no fences)."""


def _without_defaults(action: Action) -> dict:
    return {k: v for k, v in msgspec.to_builtins(action).items() if v not in ("", None) and v is not False}


def valid_id(action_id: str) -> bool:
    return re.match(ACTION_ID, action_id) is not None


# -- the task ---------------------------------------------------------------------------------------------------


class RunRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1)]
    # The selection's language; detected when absent.
    language: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}\Z")] | None = None


class ActionResult(msgspec.Struct, kw_only=True):
    text: str
    action: str
    engine: str
    warnings: list[str] = msgspec.field(default_factory=list)


@dataclass(frozen=True)
class ActionRun:
    """One of the commune's actions (the path) run on a selection (the body)."""

    action_id: str
    text: str
    language: str | None = None


class UnknownAction(NotFound):
    def __init__(self) -> None:
        super().__init__("Cette action n'existe pas.")


def check_id(action_id: str) -> None:
    if not valid_id(action_id):
        raise InvalidRequest("L'identifiant d'une action s'écrit en minuscules, chiffres et tirets (40 caractères "
                             "au plus).")


class ActionTask(TaskBase):
    """POST /v1/actions/{id}/run: the instruction model applies the action to the selection (streamed).
    Each action is counted on its own in the usage report (`action:{id}`)."""

    name = "actions"
    model_task = MODEL_TASK
    rules_engine = None  # a model or nothing
    request_type = RunRequest

    async def prepare(self, request: ActionRun, call: Call) -> Job:
        check_id(request.action_id)
        found = visible(await anyio.to_thread.run_sync(call.services.actions.all), call.role)
        action = found.get(request.action_id)
        if action is None:
            raise UnknownAction()
        language = request.language or await workers.run("text", language_or_french, request.text)
        try:
            prompt = messages(action, request.text, language)
        except InvalidAction as exc:  # a hand edit of actions.toml the PUT route would have refused
            raise InvalidAction(f"Cette action est mal définie ; le service informatique peut la corriger. "
                                f"{exc.detail}") from None
        return Job(request, call, engine="model", data=prompt)

    def usage(self, job: Job) -> str:
        return f"action:{job.request.action_id}"

    def model_missing(self, job: Job) -> ModelUnavailable:
        return ModelUnavailable(MODEL_TASK, install_command=job.inference.install_command(MODEL_TASK), detail=NO_MODEL)

    def streams(self, job: Job) -> bool:
        return True

    async def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        model = job.inference.model_for(MODEL_TASK) or "model"
        async for kind, value in generate_checked(job.inference, MODEL_TASK, job.data, _no_check, stream=stream,
                                                  max_tokens=MAX_TOKENS, user=job.user, temperature=0.0):
            if kind == "final":
                result = ActionResult(text=value, action=job.request.action_id, engine=model)
                yield "result", msgspec.to_builtins(result)
            else:
                yield kind, value

    def describe(self, offer: Offer) -> dict[str, Any]:
        model = offer.inference.model_for(MODEL_TASK) if offer.inference.has_model(MODEL_TASK) else None
        shown = listed(offer.actions.all(), offer.role, model is not None) if offer.actions else {}
        return capability(model is not None, [model] if model else [], NO_MODEL, NO_MODEL_DE, count=len(shown))
