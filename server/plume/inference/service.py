"""The inference service: `app.state.inference`, what every writing task and /v1/chat/completions call.

It reads the catalog, loads each model on a background thread, and sends every generation through
the one scheduler. A missing or broken model never stops the server: it is reported in /health
(degraded, with the model id and a reason in French) and requests for its task raise
ModelUnavailable with the command that installs a model.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from plume.config import Settings
from plume.inference.base import Completion, Message, ModelUnavailable
from plume.inference.errors import InferenceRefusal, InputTooLong, InvalidOptions, ModelLoading, UnknownModel
from plume.inference.engine import Engine, GenerationParams
from plume.inference.metrics import Metrics
from plume.inference.scheduler import Job, Scheduler

log = logging.getLogger("plume.inference")

LOADING, READY, UNAVAILABLE = "loading", "ready", "unavailable"
LONG_TEXT_CHARS = 20_000  # count tokens of longer prompts off the event loop


@dataclass(eq=False)
class ModelSlot:
    """One catalog entry and what became of it."""

    entry: Any
    status: str = LOADING
    reason: str = ""
    engine: Engine | None = None
    loaded: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def kind(self) -> str:
        return str(getattr(self.entry, "kind", ""))

    @property
    def tasks(self) -> list[str]:
        return list(getattr(self.entry, "tasks", []) or [])


def _pair(options: dict[str, Any]) -> str | None:
    pair = options.get("language_pair")
    return "-".join(pair) if isinstance(pair, tuple | list) else pair


def _takes_language_pair(engine: Engine) -> bool:
    import inspect

    return "language_pair" in inspect.signature(engine.generate).parameters


def _files_gone(entry: Any) -> bool:
    if getattr(entry, "kind", "") == "upstream" or not getattr(entry, "path", ""):
        return False
    return not Path(entry.path).exists()


class InferenceService:
    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.catalog_file = Path(settings.models_file)
        self.metrics = metrics or Metrics()
        self.scheduler = Scheduler(queue_size=settings.queue_size, timeout_s=settings.request_timeout_s,
                                   metrics=self.metrics)
        self.timeout_s = settings.request_timeout_s
        self.slots: dict[str, ModelSlot] = {}
        self.catalog: Any = None
        self.catalog_problem = ""
        self._loader: asyncio.Task | None = None

    # -- life cycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the catalog now; load the models in the background (the server answers meanwhile)."""
        from plume.inference import catalog as catalog_module

        if not self.catalog_file.exists():
            self.catalog_problem = (f"Le catalogue des modèles {self.catalog_file} n'existe pas : aucune tâche "
                                    "rédactionnelle n'utilise de modèle.")
            log.warning("model catalog %s not found; running without models", self.catalog_file)
            return
        try:
            self.catalog = catalog_module.load_catalog(self.catalog_file)
        except Exception as exc:  # noqa: BLE001 - a bad catalog must not stop the server
            self.catalog_problem = f"Le catalogue des modèles {self.catalog_file} est illisible ({_describe(exc)})."
            log.error("model catalog %s unreadable: %s", self.catalog_file, _describe(exc))
            return
        for entry in self.catalog.models:
            self.slots[entry.id] = ModelSlot(entry)
        self._loader = asyncio.create_task(self._load_all())

    async def _load_all(self) -> None:
        # One model at a time: loading several large models at once only fights for memory bandwidth.
        for slot in self.slots.values():
            await self._load(slot)

    async def _load(self, slot: ModelSlot) -> None:
        try:
            problems = await asyncio.to_thread(_check_files, slot.entry)
            if problems:
                raise _Unusable("; ".join(problems))
            started = time.monotonic()
            slot.engine = await asyncio.to_thread(_create_engine, slot.entry)
            slot.status = READY
            log.info("model %s ready in %.1f s", slot.id, time.monotonic() - started)
        except Exception as exc:  # noqa: BLE001 - reported in /health, never fatal
            slot.status = UNAVAILABLE
            slot.reason = exc.reason if isinstance(exc, _Unusable) else (
                f"le modèle n'a pas pu être chargé ({_describe(exc)}) ; ses fichiers sont peut-être incomplets "
                "ou corrompus")
            log.error("model %s unavailable: %s", slot.id, _describe(exc))
        finally:
            slot.loaded.set()

    async def stop(self) -> None:
        if self._loader is not None:
            self._loader.cancel()
        self.scheduler.close()
        for slot in self.slots.values():
            if slot.engine is not None:
                try:
                    slot.engine.close()
                except Exception:  # noqa: BLE001
                    pass

    # -- what tasks ask (plume.inference.base.Inference) ---------------------------------------------

    def has_model(self, task: str) -> bool:
        return any(slot.status != UNAVAILABLE for slot in self._candidates(task))

    def model_for(self, task: str) -> str | None:
        slot = self._pick(task)
        return slot.id if slot else None

    def context_length(self, task: str) -> int:
        slot = self._pick(task)
        if slot is None:
            return 0
        return int(slot.engine.context_length if slot.engine else getattr(slot.entry, "context_length", 0) or 0)

    async def complete(self, task: str, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.0,
                       user: str | None = None, **options: Any) -> Completion:
        generation = await self.open(self.slot_for_task(task, options), _as_dicts(messages),
                                     self._params(max_tokens, temperature, options), user=user, task=task,
                                     language_pair=_pair(options))
        try:
            text = "".join([piece async for piece in generation])
        finally:
            generation.cancel()  # a no-op when finished; stops the engine if this task was cancelled
        return generation.completion(text)

    async def stream(self, task: str, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.0,
                     user: str | None = None, **options: Any) -> AsyncIterator[str]:
        generation = await self.open(self.slot_for_task(task, options), _as_dicts(messages),
                                     self._params(max_tokens, temperature, options), user=user, task=task,
                                     language_pair=_pair(options))
        try:
            async for piece in generation:
                yield piece
        finally:
            generation.cancel()  # the caller stopped reading (client gone): stop the engine now

    @staticmethod
    def _params(max_tokens: int, temperature: float, options: dict[str, Any]) -> GenerationParams:
        extra = {k: options[k] for k in ("top_p", "stop", "num_beams", "seed") if options.get(k) is not None}
        if options.get("json_schema") is not None:  # constrained decoding, where the engine can
            schema = options["json_schema"]
            extra["json_schema"] = schema if isinstance(schema, str) else json.dumps(schema, sort_keys=True)
        return GenerationParams(max_new_tokens=max_tokens, temperature=temperature, **extra)

    # -- choosing a model ----------------------------------------------------------------------------

    def _candidates(self, task: str, language_pair: str | None = None) -> list[ModelSlot]:
        """Slots serving `task`, best first (the catalog decides the order)."""
        if self.catalog is None:
            return []
        return [self.slots[entry.id] for entry in self.catalog.for_task(task, language_pair)]

    def _pick(self, task: str, language_pair: str | None = None) -> ModelSlot | None:
        candidates = self._candidates(task, language_pair)
        for wanted in (READY, LOADING):  # catalog order among equals: the catalog says which is preferred
            for slot in candidates:
                if slot.status == wanted:
                    return slot
        return None

    def slot_for_task(self, task: str, options: dict[str, Any] | None = None) -> ModelSlot:
        options = options or {}
        if options.get("model"):
            return self.slot_for_model(options["model"], task=task)
        pair = options.get("language_pair")
        if pair is None and options.get("source_language") and options.get("target_language"):
            pair = (options["source_language"], options["target_language"])
        if isinstance(pair, tuple | list):
            pair = "-".join(pair)  # the catalog writes pairs as "fr-de"
        slot = self._pick(task, pair)
        if slot is None:
            raise self._unavailable(task, self._candidates(task, pair))
        return slot

    def slot_for_model(self, model_id: str, *, task: str = "chat") -> ModelSlot:
        slot = self.slots.get(model_id)
        if slot is None:
            raise UnknownModel(f"Le modèle « {model_id} » n'existe pas dans le catalogue de ce serveur. "
                               "La liste des modèles est sur /v1/models.")
        if slot.status == UNAVAILABLE:
            raise self._unavailable(task, [slot])
        return slot

    def _unavailable(self, task: str, candidates: list[ModelSlot]) -> ModelUnavailable:
        broken = [slot for slot in candidates if slot.status == UNAVAILABLE]
        if broken:
            slot = broken[0]
            return ModelUnavailable(
                task, f"Le modèle « {slot.id} » est indisponible : {slot.reason}. Remplacez son dossier ({slot.entry.path}) "
                      f"puis vérifiez-le avec « {self.check_command(slot)} », ou installez-en un autre.",
                install_command=self.install_command(task))
        reason = self.catalog_problem or "Aucun modèle du catalogue ne sert cette tâche."
        return ModelUnavailable(task, reason, install_command=self.install_command(task))

    def install_command(self, task: str = "chat") -> str:
        """The command that registers a newly exported model for `task` (docs/models.md says how to export)."""
        kind = {"translate": "encoder-decoder", "transcribe": "speech"}.get(task, "decoder")
        return (f"plume models add DOSSIER_DU_MODELE --id ID_DU_MODELE --kind {kind} --tasks {task} "
                f"--models {self.catalog_file}")

    def check_command(self, slot: ModelSlot) -> str:
        """The command that re-checks a listed model once its folder has been replaced."""
        return f"plume models check --models {self.catalog_file} --id {slot.id}"

    # -- generating ----------------------------------------------------------------------------------

    async def open(self, slot: ModelSlot, messages: list[dict[str, str]], params: GenerationParams, *,
                   user: str | None, task: str, language_pair: str | None = None) -> Generation:
        """Check sizes, admit the request to the scheduler, and hand back its running generation.
        Raises 413 (input too long), 503 (queue full or model unavailable)."""
        if slot.status == LOADING:
            try:
                await asyncio.wait_for(slot.loaded.wait(), self.timeout_s)
            except TimeoutError:
                raise ModelLoading(f"Le modèle « {slot.id} » est encore en cours de chargement. Réessayez dans un "
                                   "instant.", retry_after=10) from None
        if slot.status != READY or slot.engine is None:
            raise self._unavailable(task, [slot])
        engine = slot.engine
        prompt = None if _speaks_chat(engine) else engine.format_chat(messages)
        counted = prompt if prompt is not None else "\n".join(m["content"] for m in messages)
        prompt_tokens = (await asyncio.to_thread(engine.count_tokens, counted) if len(counted) > LONG_TEXT_CHARS
                         else engine.count_tokens(counted))
        try:
            params = _fit(params, prompt_tokens, engine, slot)
            generate = None
            if prompt is None:  # upstream servers take the messages and apply their own template
                generate = partial(engine.generate_chat, messages, params)
            elif language_pair and _takes_language_pair(engine):
                # A multilingual translation model (NLLB) must be told the target language.
                generate = partial(engine.generate, prompt, params, language_pair=language_pair)
            job = self.scheduler.submit(engine=engine, task=task, user=user, prompt=prompt, params=params,
                                        generate=generate)
        except InferenceRefusal as refused:  # too long, queue full: counted per task like the others
            self.metrics.requests.labels(task, slot.id, refused.code).inc()
            raise
        self.metrics.prompt_tokens.labels(slot.id).inc(prompt_tokens)
        return Generation(self, job, slot.id, prompt_tokens, params)

    # -- reporting -----------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        models = {}
        problems = []
        for slot in self.slots.values():
            report: dict[str, Any] = {"status": slot.status, "kind": slot.kind, "tasks": slot.tasks}
            if slot.status == READY and _files_gone(slot.entry):
                # Loaded in memory, so it still answers; but it will not survive a restart.
                report["status"] = "files-missing"
                report["reason"] = "les fichiers du modèle ont disparu du disque"
                report["check_command"] = self.check_command(slot)
                problems.append(f"Modèle « {slot.id} » : les fichiers ont disparu du disque ; il ne redémarrera pas.")
            if slot.status == UNAVAILABLE:
                report["reason"] = slot.reason
                report["check_command"] = self.check_command(slot)
                problems.append(f"Modèle « {slot.id} » indisponible : {slot.reason}.")
            models[slot.id] = report
        notes = []
        if self.catalog_problem and self.catalog_file.exists():
            problems.append(self.catalog_problem)  # a catalog that cannot be read: what it lists is missing
        elif self.catalog_problem:
            notes.append(self.catalog_problem)  # no model configured: a supported mode (rules), not a fault
        elif not self.slots:
            notes.append(f"Le catalogue {self.catalog_file} ne contient aucun modèle.")
        body: dict[str, Any] = {
            "status": "degraded" if problems else "ok",
            "catalog": str(self.catalog_file),
            "models": models,
            "queue_depth": self.scheduler.depth,
            "admitted": self.scheduler.admitted,
        }
        if problems or notes:
            body["problems" if problems else "notes"] = problems or notes
            body["install_command"] = self.install_command()
        return body

    def describe_models(self) -> list[dict[str, Any]]:
        """The catalog as /v1/models shows it."""
        out = []
        for slot in self.slots.values():
            entry = slot.entry
            item = {
                "id": slot.id, "object": "model", "created": 0, "owned_by": "plume",
                "kind": slot.kind, "tasks": slot.tasks,
                "languages": list(getattr(entry, "languages", []) or []),
                "context_length": int(getattr(entry, "context_length", 0) or 0),
                "loaded": slot.status == READY, "status": slot.status,
            }
            if slot.status == UNAVAILABLE:
                item["reason"] = slot.reason
            out.append(item)
        return out


class Generation:
    """A generation admitted to the scheduler: iterate it for text; then read the counts."""

    def __init__(self, service: InferenceService, job: Job, model: str, prompt_tokens: int,
                 params: GenerationParams) -> None:
        self.service = service
        self.job = job
        self.model = model
        self.prompt_tokens = prompt_tokens
        self.params = params
        self.completion_tokens = 0
        self.finish_reason = "stop"
        self._stop = StopFilter(params.stop)

    def cancel(self) -> None:
        """Stop generating (the engine stops at its next step) or leave the queue."""
        self.service.scheduler.abandon(self.job)

    async def __aiter__(self) -> AsyncIterator[str]:
        outcome = "error"
        try:
            async for chunk in self.service.scheduler.chunks(self.job):
                self.completion_tokens += chunk.tokens
                text, stopped = self._stop.feed(chunk.text)
                if text:
                    yield text
                if stopped:
                    break
            else:
                if tail := self._stop.flush():
                    yield tail
                if self.completion_tokens >= self.params.max_new_tokens:
                    self.finish_reason = "length"
            outcome = "ok"
        except InferenceRefusal as refused:
            outcome = refused.code
            raise
        except (asyncio.CancelledError, GeneratorExit):
            outcome = "cancelled"
            raise
        finally:
            self.service.metrics.requests.labels(self.job.task, self.model, outcome).inc()

    def completion(self, text: str) -> Completion:
        return Completion(text=text, model=self.model, prompt_tokens=self.prompt_tokens,
                          completion_tokens=self.completion_tokens, finish_reason=self.finish_reason)


class StopFilter:
    """Cuts the output at the first stop string, holding back text that could be the start of one."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self.hold = max((len(s) for s in self.stops), default=1) - 1
        self.buffer = ""

    def feed(self, text: str) -> tuple[str, bool]:
        if not self.stops:
            return text, False
        self.buffer += text
        cut = min((i for i in (self.buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            out, self.buffer = self.buffer[:cut], ""
            return out, True
        keep = len(self.buffer) - self.hold
        out, self.buffer = (self.buffer[:keep], self.buffer[keep:]) if keep > 0 else ("", self.buffer)
        return out, False

    def flush(self) -> str:
        out, self.buffer = self.buffer, ""
        return out


# -- helpers --------------------------------------------------------------------------------------------


class _Unusable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _create_engine(entry: Any) -> Engine:
    from plume.inference.catalog import create_engine

    return create_engine(entry)


def _check_files(entry: Any) -> list[str]:
    """French descriptions of what is wrong with the entry's files (empty: looks usable)."""
    from plume.inference.catalog import check_files

    return check_files(entry)


def _speaks_chat(engine: Engine) -> bool:
    """Upstream servers apply their own chat template: they take the messages, not a prompt."""
    return callable(getattr(engine, "generate_chat", None))


def _fit(params: GenerationParams, prompt_tokens: int, engine: Engine, slot: ModelSlot) -> GenerationParams:
    """413 when the input alone fills the model's context; otherwise clamp max_new_tokens to what is left."""
    limit = int(engine.context_length or 0)
    if params.max_new_tokens < 1:
        raise InvalidOptions("Le nombre maximal de jetons à générer (max_tokens) doit être au moins 1.")
    if not limit:
        return params
    seq2seq = "encoder" in slot.kind
    if prompt_tokens >= limit or (not seq2seq and prompt_tokens + 1 > limit):
        raise InputTooLong(f"Le texte est trop long pour le modèle « {slot.id} » : {prompt_tokens} jetons, pour une "
                           f"limite de {limit} jetons. Raccourcissez-le ou découpez-le en plusieurs parties.",
                           prompt_tokens=prompt_tokens, context_length=limit)
    room = limit if seq2seq else limit - prompt_tokens
    if params.max_new_tokens > room:
        params = GenerationParams(**{**_fields(params), "max_new_tokens": room})
    return params


def _fields(params: GenerationParams) -> dict[str, Any]:
    return {name: getattr(params, name) for name in params.__struct_fields__}


def _as_dicts(messages: list[Message] | list[dict[str, str]]) -> list[dict[str, str]]:
    return [m if isinstance(m, dict) else {"role": m.role, "content": m.content} for m in messages]


def _describe(exc: BaseException) -> str:
    # The exception type and a short, path-free hint: model-file errors carry no user text, but keep it brief.
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


__all__ = ["InferenceService", "Generation", "StopFilter", "ModelSlot"]
