"""The task runner itself (plume.tasks.runner), in process, against a scripted inference: engine choice,
the one retry that names the error, the fallback to the rules with its warning, streaming events,
letters, the usage record, and each refusal's one HTTP mapping. The same behaviour through the real
server is in test_summarize.py (fallback, streaming, 502) and test_capabilities_usage.py (usage)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import msgspec
import plume.tasks as tasks_package
import pytest
from plume.api.problems import STATUS, as_problem
from plume.errors import Refusal
from plume.inference.base import Completion, ModelUnavailable, NoInference
from plume.tasks.acknowledge import Suspicious
from plume.tasks.actions import UnknownAction
from plume.tasks.base import MODEL_FAILED, Call, Engine, Event, Job, Letter, Offer, TaskBase, TextTooLong
from plume.tasks.common import InvalidModelOutput
from plume.tasks.factsheet import NoArticles
from plume.tasks.freetext import generate_checked
from plume.tasks.mail_in import MailTooLarge, RulesUnreadable
from plume.tasks.plain_language import PlainLanguageRequest, PlainLanguageTask
from plume.tasks.proofread import NotChecked
from plume.tasks.registry import TASKS
from plume.tasks.runner import TaskRunner
from plume.tasks.translate import UnsupportedLanguage


class Scripted(NoInference):
    """A model serving every task that answers from a script, recording what it was asked."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[list] = []

    def has_model(self, task: str) -> bool:
        return True

    def model_for(self, task: str) -> str | None:
        return "scripted"

    async def complete(self, task: str, messages: list, **_: Any) -> Completion:
        self.asked.append(list(messages))
        return Completion(text=self.answers.pop(0), model="scripted", prompt_tokens=1, completion_tokens=1)

    async def stream(self, task: str, messages: list, **_: Any) -> AsyncIterator[str]:
        self.asked.append(list(messages))
        for word in self.answers.pop(0).split(" "):
            yield word + " "


class EchoRequest(msgspec.Struct):
    text: str
    engine: Engine = "auto"
    letter: bool = False


class Echo(TaskBase):
    """A task the size of a test: the rules shout the text; a model's answer must end with a full stop."""

    name = "echo"
    request_type = EchoRequest

    def streams(self, job: Job) -> bool:
        return True

    async def rules(self, job: Job) -> dict[str, Any]:
        return {"text": job.request.text.upper(), "engine": "rules", "warnings": []}

    async def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        yield "progress", {"stage": "echo"}
        async for kind, value in generate_checked(job.inference, self.name, [], _full_stop, stream=stream,
                                                  max_tokens=50, user=job.user):
            if kind == "final":
                yield "result", {"text": value, "engine": job.inference.model_for(self.name), "warnings": []}
            else:
                yield kind, value

    async def letter(self, job: Job, result: dict[str, Any]) -> Letter | None:
        return Letter("lettre", {"texte": result["text"], "jours": "30 jours", "absent": "x"}, "odt",
                      reference="AR-1") if job.request.letter else None


def _full_stop(output: str) -> None:
    if not output.strip().endswith("."):
        raise ValueError("la réponse doit finir par un point")


class Library:
    """A letter library that records what it was asked to render."""

    def __init__(self) -> None:
        self.rendered: list[tuple] = []

    def get(self, template_id: str) -> Any:
        fields = [SimpleNamespace(name="texte", type="text"), SimpleNamespace(name="jours", type="number")]
        return SimpleNamespace(fields=fields)

    def render(self, template_id: str, values: dict, fmt: str, language: str | None) -> Any:
        self.rendered.append((template_id, values, fmt, language))
        return SimpleNamespace(content=b"PK", media_type="application/vnd.oasis.opendocument.text")


def runner(inference: Any = None, *, stream: bool = False, limit: int = 1000, templates: Any = None,
           tmp_path: Any = None) -> tuple[TaskRunner, list[dict]]:
    records: list[dict] = []
    settings = SimpleNamespace(max_text_chars=limit, data_dir=tmp_path)
    services = SimpleNamespace(settings=settings, inference=inference or NoInference(), templates=templates,
                               actions=None, reference_book=None, triage_routing=None)
    call = Call(services, user="anne", record=lambda **fields: records.append(fields))
    return TaskRunner(call, stream=stream), records


def run(task_runner: TaskRunner, task: Any, request: Any) -> Any:
    return asyncio.run(task_runner.run(task, request))


def events_of(task_runner: TaskRunner, task: Any, request: Any) -> list[tuple[str, Any]]:
    async def collect() -> list[tuple[str, Any]]:
        outcome = await task_runner.run(task, request)
        assert outcome.events is not None, "expected a stream"
        return [event async for event in outcome.events]
    return asyncio.run(collect())


# -- engine choice ---------------------------------------------------------------------------------------------


def test_rules_never_ask_the_model_even_when_one_is_installed():
    model = Scripted("Bonjour.")
    result = run(runner(model)[0], Echo(), EchoRequest("bonjour", engine="rules")).result
    assert result["engine"] == "rules" and result["text"] == "BONJOUR" and model.asked == []


def test_auto_takes_the_model_when_one_serves_the_task_else_the_rules():
    assert run(runner(Scripted("Bonjour."))[0], Echo(), EchoRequest("bonjour")).result["engine"] == "scripted"
    assert run(runner(NoInference())[0], Echo(), EchoRequest("bonjour")).result["engine"] == "rules"


def test_model_without_a_model_is_refused_with_the_install_command_and_no_shell_in_the_sentence():
    with pytest.raises(ModelUnavailable) as refused:
        run(runner(NoInference())[0], Echo(), EchoRequest("bonjour", engine="model"))
    problem = as_problem(refused.value)
    assert problem.status == 503 and problem.code == "model-unavailable"
    assert "règles sans modèle restent disponibles" in problem.detail and "plume models" not in problem.detail
    assert problem.extensions["task"] == "echo" and problem.extensions["install_command"].startswith("plume models")


def test_a_text_over_the_limit_is_refused_before_anything_runs():
    model = Scripted("Bonjour.")
    with pytest.raises(TextTooLong) as refused:
        run(runner(model, limit=5)[0], Echo(), EchoRequest("bonjour"))
    assert as_problem(refused.value).status == 413 and refused.value.fields == {"max_text_chars": 5}
    assert model.asked == []


# -- retry, fallback -----------------------------------------------------------------------------------------------


def test_one_retry_names_the_error_then_the_second_answer_is_taken():
    model = Scripted("Sans point", "Avec un point.")
    result = run(runner(model)[0], Echo(), EchoRequest("bonjour", engine="model")).result
    assert result == {"text": "Avec un point.", "engine": "scripted", "warnings": []}
    assert len(model.asked) == 2 and "finir par un point" in model.asked[1][-1].content


def test_twice_invalid_is_a_502_with_engine_model():
    with pytest.raises(InvalidModelOutput) as refused:
        run(runner(Scripted("Non", "Toujours non"))[0], Echo(), EchoRequest("bonjour", engine="model"))
    problem = as_problem(refused.value)
    assert (problem.status, problem.code, problem.title) == (502, "invalid-model-output", "Réponse du modèle invalide")
    assert "second essai" in problem.detail and "point" not in problem.detail  # the model's error is not shown


def test_twice_invalid_in_auto_gives_the_rules_with_a_warning_recorded_as_the_rules_work():
    task_runner, records = runner(Scripted("Non", "Toujours non"))
    result = run(task_runner, Echo(), EchoRequest("bonjour")).result
    assert result == {"text": "BONJOUR", "engine": "rules", "warnings": [MODEL_FAILED]}
    assert records == [{"task": "echo"}, {"model": "scripted"}, {"model": "rules"}]


def test_the_fallback_keeps_one_warning_code_per_warning():
    """Plain language says each warning with a code: the fallback's warning gets its own (empty) one."""
    text = "Conformément aux dispositions réglementaires, la taxe est perçue le 1er mars 2027."
    task_runner, _ = runner(Scripted("", ""))
    result = run(task_runner, PlainLanguageTask(), PlainLanguageRequest(text=text)).result
    assert result["engine"] == "rules" and result["warnings"][-1] == MODEL_FAILED
    assert len(result["warning_codes"]) == len(result["warnings"])


# -- streaming ---------------------------------------------------------------------------------------------------------


def test_streaming_sends_progress_deltas_a_restart_with_its_reason_then_one_done():
    events = events_of(runner(Scripted("Sans point", "Avec un point."), stream=True)[0], Echo(),
                       EchoRequest("bonjour", engine="model"))
    names = [name for name, _ in events]
    assert names[0] == "progress" and names[-1] == "done" and names.count("done") == 1
    restart = names.index("restart")
    assert "delta" in names[:restart] and "delta" in names[restart:]
    assert events[restart][1] == {"reason": "la réponse doit finir par un point"}
    assert all(set(data) == {"text"} for name, data in events if name == "delta")
    assert events[-1][1]["text"] == "Avec un point."


def test_a_stream_whose_model_fails_twice_ends_with_the_rules_in_auto_or_the_error():
    auto = events_of(runner(Scripted("Non", "Non"), stream=True)[0], Echo(), EchoRequest("bonjour"))
    assert auto[-1] == ("done", {"text": "BONJOUR", "engine": "rules", "warnings": [MODEL_FAILED]})
    forced = events_of(runner(Scripted("Non", "Non"), stream=True)[0], Echo(), EchoRequest("bonjour", engine="model"))
    assert forced[-1][0] == "error" and isinstance(forced[-1][1], InvalidModelOutput)
    assert [name for name, _ in forced].count("error") == 1 and "done" not in [name for name, _ in forced]


def test_the_rules_answer_plain_data_even_when_streaming_was_asked():
    outcome = run(runner(NoInference(), stream=True)[0], Echo(), EchoRequest("bonjour"))
    assert outcome.events is None and outcome.result["engine"] == "rules"


# -- letters ------------------------------------------------------------------------------------------------------------


def test_a_letter_gets_only_the_declared_fields_in_their_types_and_is_recorded():
    library = Library()
    task_runner, records = runner(NoInference(), templates=library)
    outcome = run(task_runner, Echo(), EchoRequest("bonjour", letter=True))
    assert outcome.result is None and outcome.document.content == b"PK" and outcome.reference == "AR-1"
    assert library.rendered == [("lettre", {"texte": "BONJOUR", "jours": 30.0}, "odt", None)]
    assert {"template": "lettre"} in records


# -- the one mapping of refusals --------------------------------------------------------------------------------------


def _task_refusals() -> list[type[Refusal]]:
    found = set()
    for module in pkgutil.walk_packages(tasks_package.__path__, "plume.tasks."):
        for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(cls, Refusal) and cls.__module__.startswith("plume.tasks"):
                found.add(cls)
    return sorted(found, key=lambda cls: cls.__name__)


def test_every_refusal_of_the_tasks_has_a_status_in_the_one_table():
    refusals = _task_refusals()
    assert len(refusals) >= 10
    assert [cls.__name__ for cls in refusals if not any(base in STATUS for base in cls.__mro__)] == []


@pytest.mark.parametrize(("refusal", "status", "code"), [
    (lambda: Suspicious(["lien"]), 422, "phishing-suspected"),
    (lambda: UnsupportedLanguage("Langue."), 422, "unsupported-language"),
    (lambda: NoArticles("Aucun article."), 422, "no-articles"),
    (lambda: MailTooLarge("Trop grand."), 413, "mail-too-large"),
    (lambda: RulesUnreadable("Règles."), 500, "triage-rules"),
    (lambda: NotChecked(), 503, "proofread-unavailable"),
    (lambda: UnknownAction(), 404, "not-found"),
])
def test_task_refusals_keep_the_status_and_code_the_routes_gave_them(refusal, status, code):
    problem = as_problem(refusal())
    assert (problem.status, problem.code) == (status, code)


def test_each_registered_task_describes_itself_for_the_capabilities():
    offer = Offer(NoInference(), [], "user")
    described = {task.name: task.describe(offer) for task in TASKS}
    assert all({"available", "engines", "reason", "reason_de"} <= set(entry) for entry in described.values())
    assert described["plain-language"]["levels"] == ["B1", "A2"] and described["extract"]["available"] is False
    assert described["actions"]["engines"] == [] and "modèle" in described["actions"]["reason"]
