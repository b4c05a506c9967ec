"""Decoder LLMs through onnxruntime-genai (folders made by its model builder: genai_config.json,
model.onnx, tokenizer.json).

onnxruntime-genai runs the model with its KV cache and the search (greedy or sampling); the
`tokenizers` library encodes and decodes (one tokenizer for counting, prompting and streaming) and
jinja2 applies the chat template. Execution providers are tried in the catalog's order (CUDA, then
CPU).

Concurrency and batching:
- `generate` may be called from several threads at once (`max_batch` of them, the scheduler's
  slots): each call has its own onnxruntime-genai Generator over the one shared model.
- `generate_batch` decodes several prompts, of any lengths, in one batch: one pass over the weights
  per step for all of them (see ort_batch.py: plain onnxruntime on the same model.onnx with right
  padding, because onnxruntime-genai 0.18 does not mask the left padding of its own static batches
  for GroupQueryAttention models: measured, the padded row's first token already differs).
- onnxruntime-genai's continuous-batching `og.Engine` runs on the CPU too, but measured on the
  reference model it was slower, later to the first token and twice as large in memory
  (docs/inference.md, "Batching on the reference model"): the BatchDecoder stays.
- A request with a JSON schema (constrained decoding) uses onnxruntime-genai's guidance, so it
  always runs on an onnxruntime-genai generator, batched only with requests of the same schema.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
from jinja2.sandbox import ImmutableSandboxedEnvironment
from tokenizers import Tokenizer

from plume.inference.engine import CancelToken, Chunk, Engine, EngineError, GenerationParams
from plume.inference.textstream import TextStream

log = logging.getLogger(__name__)

# catalog provider name -> onnxruntime-genai provider name ("cpu" = no provider appended)
GENAI_PROVIDERS = {"cuda": "cuda", "dml": "dml", "webgpu": "webgpu", "cpu": None}
PREFILL_CHUNK = 32  # prompt tokens read per onnxruntime-genai call (0.8 s on the reference model, 2 cores; see _generator)


def cpu_threads() -> int:
    """The CPUs this process may run on. onnxruntime-genai left to itself ran the reference model on
    one thread on the 2-core machines here (8.5 tokens/s; 16.4 with both: bench/engine.py part f),
    so the CPU session is told explicitly, unless the model's genai_config.json sets it."""
    return max(1, len(os.sched_getaffinity(0)))


class GenAIEngine(Engine):
    takes_turns = True  # every prompt chunk and decoding step in its request's turn
    def __init__(self, folder: Path | str, *, model_id: str, context_length: int | None = None,
                 providers: Sequence[str] = ("cuda", "cpu"), chat_template: str | None = None,
                 max_batch: int = 8) -> None:
        import onnxruntime_genai as og

        getattr(og, "disable_telemetry_events", lambda: None)()  # see ort_batch.py: the variable is what counts
        self._og = og
        self.folder = Path(folder)
        self.model_id = model_id
        config = self._read_json("genai_config.json")
        model_config = config["model"]
        self._session_options = model_config.get("decoder", {}).get("session_options", {})
        self.context_length = min(context_length or model_config["context_length"], model_config["context_length"])
        eos = model_config.get("eos_token_id", [])
        self.eos_ids = set(eos if isinstance(eos, list) else [eos])
        self.pad_id = int(model_config.get("pad_token_id", 0))
        self.vocab_size = int(model_config.get("vocab_size", 0))
        self.model, self.provider = self._load_model(providers)
        try:
            self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        except Exception as exc:  # noqa: BLE001 - the library's own message is clear enough
            raise EngineError(f"« {model_id} » : tokenizer.json illisible ({exc})") from exc
        self._template = _compile_template(chat_template or self._template_source(), self._special_tokens())
        self.max_batch = max_batch
        self.guidance = True  # constrained decoding (JSON schema); False once the runtime refused it
        self._batch = None
        self._batch_lock = threading.Lock()

    # -- loading ----------------------------------------------------------------------------------

    def _read_json(self, name: str) -> dict:
        try:
            return json.loads((self.folder / name).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise EngineError(f"« {self.model_id} » : fichier manquant {name} dans {self.folder}") from exc
        except ValueError as exc:
            raise EngineError(f"« {self.model_id} » : {name} illisible ({exc})") from exc

    def _load_model(self, providers: Sequence[str]):
        errors = []
        for provider in providers or ["cpu"]:
            try:
                config = self._og.Config(str(self.folder))
                if provider == "cpu" and "intra_op_num_threads" not in self._session_options:
                    config.overlay(json.dumps({"model": {"decoder": {"session_options": {
                        "intra_op_num_threads": cpu_threads()}}}}))
                config.clear_providers()
                if GENAI_PROVIDERS.get(provider):
                    config.append_provider(GENAI_PROVIDERS[provider])
                model = self._og.Model(config)
                log.info("model %s loaded on %s", self.model_id, provider)
                return model, provider
            except Exception as exc:  # noqa: BLE001 - try the next provider
                errors.append(f"{provider}: {exc}")
        raise EngineError(f"« {self.model_id} » : impossible de charger le modèle ({' | '.join(errors)})")

    def _template_source(self) -> str:
        jinja_file = self.folder / "chat_template.jinja"
        if jinja_file.exists():
            return jinja_file.read_text(encoding="utf-8")
        config_file = self.folder / "tokenizer_config.json"
        if config_file.exists():
            template = json.loads(config_file.read_text(encoding="utf-8")).get("chat_template")
            if isinstance(template, list):  # several named templates: take the default one
                template = next((t["template"] for t in template if t.get("name") == "default"), None)
            if template:
                return template
        raise EngineError(f"« {self.model_id} » : pas de modèle de conversation (chat_template) ; "
                          "indiquez chat_template dans models.toml")

    def _special_tokens(self) -> dict[str, str]:
        config_file = self.folder / "tokenizer_config.json"
        config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.exists() else {}
        return {k: _token_text(config.get(k)) for k in ("bos_token", "eos_token")}

    # -- Engine -----------------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def format_chat(self, messages: list[dict[str, str]]) -> str:
        return self._template.render(messages=messages, add_generation_prompt=True)

    def encode(self, prompt: str) -> list[int]:
        ids = self.tokenizer.encode(prompt, add_special_tokens=False).ids
        if not ids:
            raise EngineError("invite vide")
        return ids

    def generate(self, prompt: str, params: GenerationParams, cancel: CancelToken) -> Iterator[Chunk]:
        for chunks in self.generate_batch([prompt], params, [cancel]):
            if chunks[0] is not None:
                yield chunks[0]

    def generate_batch(self, prompts: Sequence[str], params: GenerationParams,
                       cancels: Sequence[CancelToken]) -> Iterator[list[Chunk | None]]:
        """Decode several prompts together (same sampling settings). Yields, after each step, one
        item per prompt: a Chunk of new text or None. A prompt whose CancelToken is set, or that met
        its end token (an empty Chunk counting 1 token) or a stop string, stops receiving text and
        leaves the batch; the batch ends when all have.

        One prompt runs on onnxruntime-genai. Several run in one batch on plain onnxruntime
        (ort_batch.BatchDecoder: right padding, which GroupQueryAttention masks exactly), each
        decoding exactly as it would alone; sampling then uses numpy's generator, so a seeded
        sampled answer differs between the two paths (greedy answers are the same)."""
        encoded = [self.encode(p) for p in prompts]
        longest = max(len(ids) for ids in encoded)
        if longest + 1 > self.context_length:
            raise EngineError(f"invite trop longue pour « {self.model_id} » ({longest} jetons, "
                              f"contexte {self.context_length})")
        streams = [TextStream(self.tokenizer, params.stop) for _ in prompts]
        finished = [False] * len(prompts)

        def stopped(i: int) -> bool:
            finished[i] = finished[i] or cancels[i].cancelled
            return finished[i]

        try:
            # Constrained decoding (a JSON schema) needs onnxruntime-genai's guidance, which the plain
            # onnxruntime batch does not have: such prompts each get their own generator.
            # All rows of a batch share one turn (the scheduler gives them the batch's).
            steps = self._genai_steps(encoded, params, stopped, cancels) if len(encoded) == 1 or params.json_schema \
                else self._batch_decoder().decode(encoded, params, stopped, self.context_length, turn=cancels[0].turn)
            for step in steps:
                yield [None if token is None or stopped(i) else self._next(i, token, streams, finished)
                       for i, token in enumerate(step)]
                if all(stopped(i) for i in range(len(prompts))):
                    break
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - runtime failures become EngineError
            raise EngineError(f"« {self.model_id} » : échec de la génération ({exc})") from exc
        yield [None if cancels[i].cancelled else s.flush() for i, s in enumerate(streams)]

    def _genai_steps(self, prompts: list[list[int]], params: GenerationParams, stopped: Callable[[int], bool],
                     cancels: Sequence[CancelToken]) -> Iterator[list[int | None]]:
        """One onnxruntime-genai generator per prompt, stepped in turn; each unit of compute in its
        request's turn."""
        generators = [self._generator([p], params, min(len(p) + params.max_new_tokens, self.context_length),
                                      cancels[i].turn) for i, p in enumerate(prompts)]
        while True:
            step: list[int | None] = [None] * len(prompts)
            for i, generator in enumerate(generators):
                if generator is None or stopped(i) or generator.is_done():
                    generators[i] = None
                    continue
                with cancels[i].turn(1):
                    generator.generate_next_token()
                    step[i] = int(np.asarray(generator.get_next_tokens()).reshape(-1)[0])
            if all(g is None for g in generators):
                return
            yield step

    def _batch_decoder(self):
        """Created on first use: a second onnxruntime session over the same weights."""
        with self._batch_lock:
            if self._batch is None:
                from plume.inference.ort_batch import BatchDecoder

                self._batch = BatchDecoder(self.folder, self._read_json("genai_config.json"), [self.provider])
            return self._batch

    def _generator(self, encoded: list[list[int]], params: GenerationParams, max_length: int,
                   turn: Callable[[int], AbstractContextManager]):
        og = self._og
        gp = og.GeneratorParams(self.model)
        options: dict = {"max_length": max_length, "batch_size": len(encoded)}
        if params.temperature > 0:
            options.update(do_sample=True, temperature=params.temperature, top_p=params.top_p,
                           top_k=self.vocab_size or 50)
            if params.seed is not None:
                options["random_seed"] = params.seed
        else:
            options["do_sample"] = False
        gp.set_search_options(**options)
        if params.json_schema and self.guidance:
            try:  # llguidance masks, at each step, the tokens that would leave the schema
                gp.set_guidance("json_schema", params.json_schema)
            except Exception as exc:  # noqa: BLE001 - e.g. a tokenizer it cannot read: callers check the JSON
                self.guidance = False
                log.warning("model %s: no constrained decoding (%s); answers are checked instead",
                            self.model_id, type(exc).__name__)
        generator = og.Generator(self.model, gp)
        batch = np.array(encoded, dtype=np.int32)
        if len(encoded) > 1:
            with turn(batch.size):
                generator.append_tokens(batch)
        else:
            # In chunks: onnxruntime-genai holds the GIL while it reads a prompt, so one long prefill
            # stopped the event loop (and /health) for seconds; between chunks other threads run, and
            # another request may take its turn (turns.py). The tokens generated are the same
            # (checked on the tiny model), and it is faster.
            for start in range(0, len(batch[0]), PREFILL_CHUNK):
                with turn(len(batch[0][start:start + PREFILL_CHUNK])):
                    generator.append_tokens(batch[0][start:start + PREFILL_CHUNK])
        return generator

    def _next(self, i: int, token: int, streams: list[TextStream], finished: list[bool]) -> Chunk | None:
        if finished[i]:
            return None
        if token in self.eos_ids:
            finished[i] = True
            return Chunk("", 1)  # the end token counts as generated
        chunk = streams[i].push(token)
        finished[i] = streams[i].stopped
        return chunk

    def close(self) -> None:
        self.model = None


def _token_text(value) -> str:
    if isinstance(value, dict):  # {"content": "<|im_end|>", ...}
        return value.get("content", "")
    return value or ""


def _compile_template(source: str, special_tokens: dict[str, str]):
    """The Hugging Face chat template, rendered the way transformers does (sandboxed jinja2)."""

    def raise_exception(message: str) -> None:
        raise EngineError(f"modèle de conversation : {message}")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(source, globals=special_tokens)
