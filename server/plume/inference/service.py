"""The inference service: what every writing task and /v1/chat/completions call (plume.services
builds it once and injects it).

It reads the catalog, loads each model on a background thread (`slots.py`), and sends every
generation through the one scheduler (`generation.py`). A missing or broken model never stops the
server: it is reported in /health (degraded, with the model id and a reason in French) and requests
for its task raise ModelUnavailable with the command that installs a model.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

from plume.config import Settings
from plume.inference.base import Completion, Message, ModelUnavailable, PairModels
from plume.inference.engine import GenerationParams
from plume.inference.errors import InferenceRefusal, ModelLoading, UnknownModel
from plume.inference.generation import (Generation, StopFilter, as_dicts, fit, speaks_chat,
                                        takes_language_pair)
from plume.inference.metrics import Metrics
from plume.inference.scheduler import Scheduler
from plume.inference.slots import LOADING, READY, UNAVAILABLE, ModelSlot, describe, load

log = logging.getLogger("plume.inference")

LONG_TEXT_CHARS = 20_000  # count tokens of longer prompts off the event loop


def _pair(options: dict[str, Any]) -> str | None:
    pair = options.get("language_pair")
    return "-".join(pair) if isinstance(pair, tuple | list) else pair


class InferenceService:
    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.catalog_file = Path(settings.models_file)
        self.metrics = metrics or Metrics()
        self.scheduler = Scheduler(queue_size=settings.queue_size, timeout_s=settings.request_timeout_s,
                                   metrics=self.metrics, interactive_first=settings.interactive_first)
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
            self.catalog_problem = f"Le catalogue des modèles {self.catalog_file} est illisible ({describe(exc)})."
            log.error("model catalog %s unreadable: %s", self.catalog_file, describe(exc))
            return
        for entry in self.catalog.models:
            if entry.kind != "embedding":  # sentence encoders serve search (search/service.py), not tasks
                self.slots[entry.id] = ModelSlot(entry)
        self._loader = asyncio.create_task(self._load_all())

    async def _load_all(self) -> None:
        # One model at a time: loading several large models at once only fights for memory bandwidth.
        for slot in self.slots.values():
            await load(slot)

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

    def count_tokens(self, task: str, text: str) -> int | None:
        slot = self._pick(task)
        return slot.engine.count_tokens(text) if slot is not None and slot.engine is not None else None

    def models_for_pair(self, task: str, source: str, target: str) -> PairModels:
        """The first usable translation model made for the pair, and the first instruction model that
        speaks both languages (or any language, when its entry lists none), in catalog order."""
        translation = instruction = None
        for slot in self.slots.values():
            if task not in slot.tasks or slot.status == UNAVAILABLE:
                continue
            if "encoder" in slot.kind:
                if f"{source}-{target}" in slot.languages and translation is None:
                    translation = slot.id
            elif instruction is None and (not slot.languages or {source, target} <= set(slot.languages)):
                instruction = slot.id
        return PairModels(translation=translation, instruction=instruction)

    async def complete(self, task: str, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.0,
                       user: str | None = None, **options: Any) -> Completion:
        generation = await self.open(self.slot_for_task(task, options), as_dicts(messages),
                                     self._params(max_tokens, temperature, options), user=user, task=task,
                                     language_pair=_pair(options))
        try:
            text = "".join([piece async for piece in generation])
        finally:
            generation.cancel()  # a no-op when finished; stops the engine if this task was cancelled
        return generation.completion(text)

    async def stream(self, task: str, messages: list[Message], *, max_tokens: int = 512, temperature: float = 0.0,
                     user: str | None = None, **options: Any) -> AsyncIterator[str]:
        generation = await self.open(self.slot_for_task(task, options), as_dicts(messages),
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
        prompt = None if speaks_chat(engine) else engine.format_chat(messages)
        counted = prompt if prompt is not None else "\n".join(m["content"] for m in messages)
        prompt_tokens = (await asyncio.to_thread(engine.count_tokens, counted) if len(counted) > LONG_TEXT_CHARS
                         else engine.count_tokens(counted))
        try:
            params = fit(params, prompt_tokens, engine, slot.id, seq2seq="encoder" in slot.kind)
            generate = None
            if prompt is None:  # upstream servers take the messages and apply their own template
                generate = partial(engine.generate_chat, messages, params)
            elif language_pair and takes_language_pair(engine):
                generate = partial(engine.generate, prompt, params, language_pair=language_pair)
            job = self.scheduler.submit(engine=engine, task=task, user=user, prompt=prompt, params=params,
                                        generate=generate, work=prompt_tokens + params.max_new_tokens)
        except InferenceRefusal as refused:  # too long, queue full: counted per task like the others
            self.metrics.requests.labels(task, slot.id, refused.code).inc()
            raise
        self.metrics.prompt_tokens.labels(slot.id).inc(prompt_tokens)
        return Generation(self.scheduler, self.metrics, job, slot.id, prompt_tokens, params)

    # -- reporting -----------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        models = {}
        problems = []
        for slot in self.slots.values():
            report: dict[str, Any] = {"status": slot.status, "kind": slot.kind, "tasks": slot.tasks}
            if slot.status == READY and slot.files_gone():
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
                "kind": slot.kind, "tasks": slot.tasks, "languages": slot.languages,
                "context_length": int(getattr(entry, "context_length", 0) or 0),
                "loaded": slot.status == READY, "status": slot.status,
            }
            if slot.status == UNAVAILABLE:
                item["reason"] = slot.reason
            out.append(item)
        return out


__all__ = ["InferenceService", "Generation", "StopFilter", "ModelSlot"]
