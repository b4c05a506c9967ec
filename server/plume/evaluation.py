"""`plume eval`: run the writing tasks over an evaluation folder with one or more catalog models and
measure, per task and model, what a commune needs to choose a model (docs/models.md):

- valid: share of structured answers (JSON) accepted at the first try (schema and task checks);
- agree: share of the expected values (`*.expected.toml`, `emails/expected.toml`) found;
- facts: share of the source's facts (numbers, dates, amounts, names) kept where the task promises it;
- readability: Kandel-Moles before → after, and words per sentence after (rewrites, summaries);
- tags: share of translations whose formatting tags came back whole (HTML inputs);
- latency per item, time to first token per model call, tokens per second of generation.

A metric that a task cannot have is None (shown "—"), never a made-up figure. The folder has the
layout of the repo's samples: cases/ (notes + expected values), emails/ (.eml + expected.toml),
texts/ (.txt, .html), notes/, regulations/.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
import tomllib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from plume.inference.base import Completion, Message, PairModels
from plume.tasks.common import InvalidModelOutput

TASKS = ("extract", "triage", "acknowledge", "plain-language", "summarize", "minutes", "factsheet", "translate")
METRICS = ("valid", "agree", "facts", "kandel_moles_before", "kandel_moles_after", "words_per_sentence",
           "grammar", "tags", "latency_s", "ttft_s", "tokens_per_s", "errors", "items")
RETRY_CUES = ("Ta réponse est invalide", "Ta réponse ne convient pas")


@dataclass
class Calls:
    """What the metered inference saw for one task and model."""

    first_tries: int = 0  # structured requests, first attempts
    retries: int = 0
    ttft: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0


class Metered:
    """The inference service, pinned to one model, measuring every call (time to first token,
    tokens, generation time) and counting structured answers that needed a retry."""

    def __init__(self, service: Any, model_id: str) -> None:
        self.service = service
        self.model_id = model_id
        self.calls = Calls()

    def has_model(self, task: str) -> bool:
        return task in self.service.slots[self.model_id].tasks

    def model_for(self, task: str) -> str | None:
        return self.model_id if self.has_model(task) else None

    def context_length(self, task: str) -> int:
        engine = self.service.slots[self.model_id].engine
        return int(getattr(engine, "context_length", 0) or 0)

    def count_tokens(self, task: str, text: str) -> int | None:
        engine = self.service.slots[self.model_id].engine
        return engine.count_tokens(text) if engine is not None else None

    def install_command(self, task: str) -> str:
        return self.service.install_command(task)

    def models_for_pair(self, task: str, source: str, target: str) -> PairModels:
        return PairModels(instruction=self.model_for(task))  # the one model under evaluation

    async def complete(self, task: str, messages: list[Message], **options: Any) -> Completion:
        text = "".join([piece async for piece in self.stream(task, messages, **options)])
        return Completion(text=text, model=self.model_id, prompt_tokens=0, completion_tokens=0)

    async def stream(self, task: str, messages: list[Message], **options: Any) -> AsyncIterator[str]:
        if options.get("json_schema") is not None:
            retry = any(m.role == "user" and m.content.startswith(RETRY_CUES) for m in messages[-1:])
            self.calls.retries += retry
            self.calls.first_tries += not retry
        start, first, pieces = time.perf_counter(), None, []
        async for piece in self.service.stream(task, messages, **{**options, "model": self.model_id}):
            if first is None:
                first = time.perf_counter() - start
            pieces.append(piece)
            yield piece
        engine = self.service.slots[self.model_id].engine
        self.calls.seconds += time.perf_counter() - start
        if first is not None:
            self.calls.ttft.append(first)
        self.calls.tokens += engine.count_tokens("".join(pieces)) if pieces else 0


# ---------------------------------------------------------------------------------------------- data


def _texts(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if ".expected." not in p.name) if folder.is_dir() else []


def _toml(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _norm(value: Any) -> str:
    return " ".join(str(value).casefold().replace("’", "'").split())


def _agreement(expected: dict, got: Callable[[str], Any]) -> tuple[int, int]:
    hits = sum(_norm(got(key)) == _norm(want) or (isinstance(want, bool) and got(key) is want)
               for key, want in expected.items())
    return hits, len(expected)


def _facts_kept(source: str, output: str, figures_only: bool = False) -> tuple[int, int]:
    from plume.language import facts

    known = facts.figures(source) if figures_only else facts.facts(source)
    return len(known) - len(facts.missing(source, output, known)), len(known)


# ---------------------------------------------------------------------------------------------- tasks
# Each task lists its items: one coroutine function per item, taking the inference and returning
# what it can measure: {"agree": (hits, total), "facts": (kept, total), "before"/"after":
# Readability, "tags": bool}.


def _extract(data: Path, repo: Path):
    from plume.documents.library import TemplateLibrary
    from plume.tasks.extract import FieldSpec, extract

    # Only the repo's templates are read (their fields); nothing is ever uploaded.
    library = TemplateLibrary(templates_dir=repo / "templates", uploads_dir=Path(tempfile.gettempdir()) / "plume-eval")
    for note in _texts(data / "cases", "*.txt"):
        expected = _toml(note.with_suffix(".expected.toml"))
        if not expected.get("template"):
            continue
        fields = [FieldSpec(name=f.name, type=f.type, label=f.label, required=f.required, choices=list(f.choices or []))
                  for f in library.get(expected["template"]).fields]

        async def item(inference, text=note.read_text(encoding="utf-8"), fields=fields, expected=expected):
            got = await extract(text, fields, inference)
            return {"agree": _agreement(expected.get("values", {}), lambda k: got.values.get(k))}
        yield item


def _mails(data: Path):
    from plume.mail.parse import parse_message

    expected = _toml(data / "emails" / "expected.toml")
    for path in _texts(data / "emails", "*.eml"):
        yield parse_message(path.read_bytes(), path.name), expected.get(path.name, {})


def _triage(data: Path, repo: Path, learned: Path | None = None):
    """The whole triage chain with the model (plume.routing.evaluation, which adds per-field figures)."""
    from plume.routing.evaluation import items_with_model

    yield from items_with_model(data, learned)


def _acknowledge(data: Path, repo: Path):
    """Agreement: a draft exactly for the messages a clerk would answer (none for a suspect one, which
    Plume refuses), written in the sender's language."""
    from plume.language.detect import detect
    from plume.tasks.acknowledge import Suspicious, acknowledge
    from plume.tasks.triage import load_rules

    rules = load_rules()
    for mail, expected in _mails(data):
        async def item(inference, mail=mail, expected=expected):
            suspect = expected.get("category") == "suspect"
            try:
                ack = await acknowledge(mail, rules, inference)
            except Suspicious:
                return {"agree": (int(suspect), 1)}
            if suspect:
                return {"agree": (0, 1)}  # a draft answering a phishing message
            language = expected.get("language")
            return {"agree": (int(detect(ack.text)[0] == language), 1)} if language else {}
        yield item


def _plain(data: Path, repo: Path):
    from plume.language import lexicon
    from plume.language.readability import measure
    from plume.tasks.plain_language import with_model

    terms = lexicon.load()
    for path in _texts(data / "texts", "*.txt"):
        async def item(inference, text=path.read_text(encoding="utf-8")):
            got = await with_model(inference, text, "B1", terms)
            kept = await anyio.to_thread.run_sync(_facts_kept, text, got.text)
            return {"facts": kept, "before": await anyio.to_thread.run_sync(measure, text), "after": got.after,
                    "grammar": await _new_errors(text, got.text)}
        yield item


def _summarize(data: Path, repo: Path):
    from plume.language.readability import measure
    from plume.tasks.summarize import key_figures, with_model

    for path in _texts(data / "texts", "*.txt") + _texts(data / "regulations", "*.txt"):
        async def item(inference, text=path.read_text(encoding="utf-8")):
            got = await with_model(inference, text, "short")
            promised = key_figures(text, "short")  # the figures the prompt asks to keep
            kept = sum(re.sub(r"\D", "", f) in re.sub(r"\D", "", got.text) for f in promised)
            return {"facts": (kept, len(promised)), "before": await anyio.to_thread.run_sync(measure, text),
                    "after": await anyio.to_thread.run_sync(measure, got.text), "grammar": await _new_errors(text, got.text)}
        yield item


def _minutes(data: Path, repo: Path):
    from plume.tasks.minutes import read_notes, write_discussions

    for path in _texts(data / "notes", "*.txt"):
        async def item(inference, text=path.read_text(encoding="utf-8")):
            await write_discussions(read_notes(text), inference)
            return {}
        yield item


def _factsheet(data: Path, repo: Path):
    from plume.tasks.factsheet import read_facts, sheet_text, write_sheet

    for path in _texts(data / "regulations", "*.txt"):
        async def item(inference, text=path.read_text(encoding="utf-8")):
            sheet = await write_sheet(text, read_facts(text), inference)
            written = sheet_text(sheet)
            return {"facts": await anyio.to_thread.run_sync(_facts_kept, text, written, True),
                    "grammar": await _new_errors(text, written)}
        yield item


def _translate(data: Path, repo: Path):
    from plume.language import tags
    from plume.tasks.translate import translate

    for path in _texts(data / "texts", "*.txt") + _texts(data / "texts", "*.html"):
        async def item(inference, text=path.read_text(encoding="utf-8"), html=path.suffix == ".html"):
            got = await translate(inference, text, "fr", "en", html=html, engine="model")
            found: dict[str, Any] = {"facts": await anyio.to_thread.run_sync(_facts_kept, text, got.text, True)}
            if html:
                found["tags"] = not tags.problems(text, got.text)
            return found
        yield item


async def _new_errors(source: str, written: str) -> int | None:
    """Grammar and spelling errors Plume's French output has and its source has not (Grammalecte);
    None where Grammalecte is not installed: not measured, not zero."""
    from plume.language import grammar

    if not grammar.CHECKER.available():
        return None
    return len(await anyio.to_thread.run_sync(grammar.new_errors, source, written))


RUNNERS = {"extract": _extract, "triage": _triage, "acknowledge": _acknowledge, "plain-language": _plain,
           "summarize": _summarize, "minutes": _minutes, "factsheet": _factsheet, "translate": _translate}


# ---------------------------------------------------------------------------------------------- running


def _share(pairs: list[tuple[int, int]]) -> float | None:
    total = sum(t for _, t in pairs)
    return sum(h for h, _ in pairs) / total if total else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarise(items: list[dict], calls: Calls, latencies: list[float], errors: int) -> dict[str, Any]:
    before = [i["before"] for i in items if "before" in i]
    after = [i["after"] for i in items if "after" in i]
    tags_ok = [i["tags"] for i in items if "tags" in i]
    new_errors = [i["grammar"] for i in items if i.get("grammar") is not None]
    structured = calls.first_tries
    return {
        "valid": (structured - calls.retries) / structured if structured else None,
        "agree": _share([i["agree"] for i in items if "agree" in i]),
        "facts": _share([i["facts"] for i in items if "facts" in i]),
        "kandel_moles_before": _mean([r.kandel_moles for r in before]),
        "kandel_moles_after": _mean([r.kandel_moles for r in after]),
        "words_per_sentence": _mean([r.words_per_sentence for r in after]),
        "grammar": _mean(new_errors),  # new grammar/spelling errors per text written in French
        "tags": sum(tags_ok) / len(tags_ok) if tags_ok else None,
        "latency_s": _mean(latencies),
        "ttft_s": _mean(calls.ttft),
        "tokens_per_s": calls.tokens / calls.seconds if calls.seconds else None,
        "errors": errors,
        "items": len(latencies),
    }


async def evaluate(models_file: Path, model_ids: list[str], tasks: list[str], data: Path, repo: Path,
                   progress: Callable[[str, str, int, int], None] | None = None, constrained: bool = True,
                   learned: Path | None = None) -> dict[str, Any]:
    """{"models": [...], "tasks": {task: {model: metrics}}} for these models and tasks over `data`."""
    from plume.config import load_settings
    from plume.inference.service import InferenceService

    # An evaluation is offline: a slow machine must not turn into timeouts (the latency is measured).
    service = InferenceService(load_settings(models_file=models_file, request_timeout_s=3600.0))
    await service.start()
    try:
        for slot in service.slots.values():
            await slot.loaded.wait()
        chosen = model_ids or [s.id for s in service.slots.values() if set(s.tasks) & set(tasks)]
        results: dict[str, dict[str, Any]] = {task: {} for task in tasks}
        plan = [(m, t) for m in chosen for t in tasks if t in service.slots[m].tasks]
        for done, (model_id, task) in enumerate(plan, start=1):
            slot = service.slots[model_id]
            if slot.engine is not None and hasattr(slot.engine, "guidance"):
                slot.engine.guidance = constrained
            if progress:
                progress(task, model_id, done - 1, len(plan))
            results[task][model_id] = await _run_task(Metered(service, model_id), task, data, repo, learned)
        if progress and plan:
            progress("", "", len(plan), len(plan))
        return {"models": chosen, "tasks": results, "data": str(data), "constrained": constrained}
    finally:
        await service.stop()


async def _run_task(inference: Metered, task: str, data: Path, repo: Path, learned: Path | None = None
                    ) -> dict[str, Any]:
    items, latencies, errors = [], [], 0
    runner = partial(_triage, learned=learned) if task == "triage" else RUNNERS[task]  # what `triage learn` learned
    for item in runner(data, repo):
        start = time.perf_counter()
        try:
            items.append(await item(inference))
        except InvalidModelOutput:
            errors += 1  # no valid answer after the retry: counted, the other items still run
        except Exception as exc:  # noqa: BLE001 - a failing item is reported, the evaluation goes on
            errors += 1
            print(f"\n{task} : un élément a échoué ({type(exc).__name__})", file=sys.stderr)
        latencies.append(time.perf_counter() - start)
    summary = summarise(items, inference.calls, latencies, errors)
    if task == "triage":  # agreement per field, per language, « à confirmer » (plume.routing.evaluation)
        from plume.routing.evaluation import summary as triage_summary

        summary["triage"] = triage_summary([i for i in items if "fields" in i], latencies)
    return summary
