"""What a writing task is: one object that the runner (`tasks/runner.py`) drives.

A task has a request type (a msgspec Struct, validated at the edge), `prepare` (the checks that turn
a request into a Job, or refuse it with a `plume.errors.Refusal`), a rules path that needs no model,
a model path that yields events, and optionally a letter its result is written into. The runner owns
everything around them: engine choice, the fallback to the rules, streaming, letters and the usage
record. Nothing here knows HTTP; the services a task may use come with each call (`Call`).

A new task: a module with a `TaskBase` subclass, one line in `tasks/registry.py`, a route of a few
lines in `api/` (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from plume.errors import Refusal, TooLarge
from plume.inference.base import Inference, ModelUnavailable

if TYPE_CHECKING:
    from plume.config import Settings
    from plume.documents.library import TemplateInfo, TemplateLibrary
    from plume.search.service import SearchService
    from plume.tasks.actions import ActionLibrary
    from plume.tasks.reference_book import ReferenceBook

# "auto": the model when one is installed, else the rules; "rules": never a model; "model": a model or 503.
Engine = Literal["auto", "rules", "model"]

# What a model path yields: ("progress", {...}), ("delta", text), ("restart", reason) while the model
# writes (docs/writing-tasks.md, « Streaming »), then ("result", the task's answer as plain data).
Event = tuple[str, Any]

MODEL_FAILED = ("Le modèle n'a pas produit de réponse valide, même après un second essai : résultat des règles "
                "sans modèle.")
RULES_REMAIN = ("Aucun modèle n'est installé pour la tâche « {task} ». Les règles sans modèle restent disponibles "
                "(\"engine\": \"rules\").")


class TaskServices(Protocol):
    """What tasks may use of the server's services (`plume.services.Services` has this shape)."""

    settings: Settings
    inference: Inference
    templates: TemplateLibrary | None
    actions: ActionLibrary
    reference_book: ReferenceBook
    triage_routing: Any  # plume.tasks.triage.Routing, or None: the rules' service list alone
    search: SearchService | None  # the commune's documents (tasks/sources.py); None when not configured
    search_broken: bool


class Recorder(Protocol):
    """Adds fields (task, model, template…) to the request's usage record: never any text."""

    def __call__(self, **fields: Any) -> None: ...


def _record_nothing(**_: Any) -> None:
    return None


@dataclass(frozen=True)
class Call:
    """Who asks, and what the server has: handed to a task with each request."""

    services: TaskServices
    user: str | None = None
    role: str = "user"
    record: Recorder = _record_nothing

    @property
    def inference(self) -> Inference:
        return self.services.inference


@dataclass
class Job:
    """One request, checked. `data` holds what the task read while checking it (the parsed e-mail,
    the template's fields…); `answer`, a result already complete (nothing to translate)."""

    request: Any
    call: Call
    engine: Engine = "auto"
    data: Any = None
    answer: dict[str, Any] | None = None

    @property
    def user(self) -> str | None:
        return self.call.user

    @property
    def inference(self) -> Inference:
        return self.call.inference


@dataclass(frozen=True)
class Letter:
    """A task's result as a letter: the template, the values for its fields, the format (docx, odt),
    the letter's language (None: French) and the reference it carries, if any (acknowledgements)."""

    template_id: str
    values: dict[str, Any]
    format: str
    language: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class Offer:
    """What the server has now, for the capabilities a task announces (GET /v1/capabilities)."""

    inference: Inference
    templates: list[TemplateInfo]
    role: str
    actions: ActionLibrary | None = None

    def formats(self, template_id: str) -> list[str]:
        """"text", then the letter formats of `template_id` that the task routes write (no pdf)."""
        found = next((t.formats for t in self.templates if t.id == template_id), [])
        return ["text", *(f for f in found if f != "pdf")]


class TextTooLong(TooLarge):
    code = "text-too-long"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Le texte dépasse la limite de {limit} caractères. Envoyez-le en plusieurs parties.",
                         max_text_chars=limit)


def capability(available: bool, engines: list[str], reason: str | None = None, reason_de: str | None = None,
               **details: Any) -> dict[str, Any]:
    """One task's entry in GET /v1/capabilities; `reason`/`reason_de` only when it is unavailable."""
    return {"available": available, "engines": engines, "reason": None if available else reason,
            "reason_de": None if available else reason_de, **details}


class Task(Protocol):
    """The shape the runner drives; `TaskBase` gives every part but the paths a default."""

    name: str  # the task's name in the catalog, the usage report and GET /v1/capabilities
    request_type: type  # the body its route takes (a msgspec Struct)
    model_task: str  # the catalog task a model must serve (the commune's actions: "chat")
    rules_engine: str | None  # what writes without a model ("rules", "apertium"…); None: a model only

    def texts(self, request: Any) -> Iterable[str | None]: ...

    async def prepare(self, request: Any, call: Call) -> Job: ...

    def usage(self, job: Job) -> str: ...

    def model_id(self, job: Job) -> str | None: ...

    def model_missing(self, job: Job) -> Refusal: ...

    def rules_available(self, job: Job) -> bool: ...

    def streams(self, job: Job) -> bool: ...

    async def rules(self, job: Job) -> dict[str, Any]: ...

    def model(self, job: Job, stream: bool) -> AsyncIterator[Event]: ...

    def fell_back(self, job: Job, result: dict[str, Any]) -> None: ...

    async def letter(self, job: Job, result: dict[str, Any]) -> Letter | None: ...

    def describe(self, offer: Offer) -> dict[str, Any]: ...

    def install(self, inference: Inference) -> str | None: ...


class TaskBase:
    """Defaults for the parts most tasks share: the request's `text` and `engine`, a model chosen by
    the catalog for `model_task`, the rules always there, no streaming, no letter."""

    name = ""
    request_type: type = object
    model_task = ""
    rules_engine: str | None = "rules"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.model_task = cls.model_task or cls.name

    def texts(self, request: Any) -> Iterable[str | None]:
        return (request.text,)

    async def prepare(self, request: Any, call: Call) -> Job:
        return Job(request, call, engine=request.engine)

    def usage(self, job: Job) -> str:
        return self.name

    def model_id(self, job: Job) -> str | None:
        inference = job.inference
        return inference.model_for(self.model_task) if inference.has_model(self.model_task) else None

    def model_missing(self, job: Job) -> Refusal:
        return ModelUnavailable(self.model_task, install_command=job.inference.install_command(self.model_task),
                                detail=RULES_REMAIN.format(task=self.model_task))

    def rules_available(self, job: Job) -> bool:
        return self.rules_engine is not None

    def streams(self, job: Job) -> bool:
        return False

    async def rules(self, job: Job) -> dict[str, Any]:
        raise NotImplementedError(f"{self.name} has no rules path")

    def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        raise NotImplementedError(f"{self.name} has no model path")

    def fell_back(self, job: Job, result: dict[str, Any]) -> None:
        """Say in `result` that the rules wrote it after the model failed twice. `warning_codes`, where
        the task has them, keeps one code per warning."""
        result.setdefault("warnings", []).append(MODEL_FAILED)
        if "warning_codes" in result:
            result["warning_codes"].append("")

    async def letter(self, job: Job, result: dict[str, Any]) -> Letter | None:
        return None

    def describe(self, offer: Offer) -> dict[str, Any]:
        model = offer.inference.model_for(self.model_task) if offer.inference.has_model(self.model_task) else None
        return capability(True, ["rules", model] if model else ["rules"])

    def install(self, inference: Inference) -> str | None:
        return inference.install_command(self.model_task)

