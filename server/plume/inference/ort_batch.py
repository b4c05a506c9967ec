"""Batched decoding of prompts of different lengths, with plain onnxruntime on the model.onnx that
the onnxruntime-genai builder exported.

Why not onnxruntime-genai itself: its static batches left-pad the prompts, and for these
GroupQueryAttention models the padding is not masked (the padded row's answer changes). The GQA
operator does handle RIGHT padding: each row's valid length comes from its attention mask, its new
key/value goes right after its own past, and its rotary position is its own length. So every row
decodes exactly as it would alone (tests/test_engines.py checks it), while each step reads the
weights once for the whole batch, which is what makes concurrent requests cheap on a
memory-bound machine. Rows that finish leave the batch.

Costs: a second onnxruntime session over the same weights (created on first use), and the KV cache
is copied each step (fine at the lengths of the writing tasks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import numpy as np
import onnxruntime as ort

from plume.inference.engine import GenerationParams

# Belt and braces: this switch only drops the runtime's "non-essential" events (measured: the
# uploads go on); ORT_DISABLE_TELEMETRY, forced in plume/__init__.py, is what stops them.
getattr(ort, "disable_telemetry_events", lambda: None)()

ORT_PROVIDERS = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64,
               "tensor(int32)": np.int32}


class BatchDecoder:
    def __init__(self, folder: Path, genai_config: dict, providers: Sequence[str]) -> None:
        decoder = genai_config["model"]["decoder"]
        chosen = [ORT_PROVIDERS[p] for p in providers if ORT_PROVIDERS.get(p) in ort.get_available_providers()]
        self.session = ort.InferenceSession(str(folder / decoder["filename"]),
                                            providers=chosen or ["CPUExecutionProvider"])
        inputs = {i.name: i for i in self.session.get_inputs()}
        layers = decoder["num_hidden_layers"]
        names = decoder["inputs"]
        self.past_names = [names["past_key_names"] % n for n in range(layers)] + \
                          [names["past_value_names"] % n for n in range(layers)]
        outs = decoder["outputs"]
        self.present_names = [outs["present_key_names"] % n for n in range(layers)] + \
                             [outs["present_value_names"] % n for n in range(layers)]
        self.logits_name = outs["logits"]
        self.ids_name, self.mask_name = names["input_ids"], names["attention_mask"]
        self.positions_name = names.get("position_ids") if names.get("position_ids") in inputs else None
        self.ids_type = NUMPY_TYPES[inputs[self.ids_name].type]
        self.mask_type = NUMPY_TYPES[inputs[self.mask_name].type]
        self.kv_type = NUMPY_TYPES[inputs[self.past_names[0]].type]
        self.kv_shape = (decoder["num_key_value_heads"], decoder["head_size"])

    def decode(self, prompts: list[list[int]], params: GenerationParams, stopped: Callable[[int], bool],
               context_length: int, turn: Callable[[int], AbstractContextManager] = lambda _: nullcontext()
               ) -> Iterator[list[int | None]]:
        """Yields, per step, the new token of each prompt (None for rows that have left the batch).
        Prompt i leaves the batch once `stopped(i)` is true (cancelled, end token, stop string) or
        it has its max_new_tokens. The prefill and each step run in the batch's `turn` (turns.py)."""
        rng = np.random.default_rng(params.seed)
        rows = list(range(len(prompts)))  # which prompt each batch row is
        lengths = np.array([len(p) for p in prompts])
        limits = np.minimum(lengths + params.max_new_tokens, context_length)
        with turn(int(lengths.sum())):
            logits, past = self._prefill(prompts, lengths)
        while rows:
            tokens = [self._choose(row_logits, params, rng) for row_logits in logits]
            out: list[int | None] = [None] * len(prompts)
            for row, token in zip(rows, tokens, strict=True):
                out[row] = token
            yield out
            keep = [i for i, row in enumerate(rows) if not stopped(row) and lengths[i] + 1 < limits[i]]
            if not keep:
                return
            if len(keep) < len(rows):
                rows = [rows[i] for i in keep]
                lengths, limits, past = lengths[keep], limits[keep], {k: v[keep] for k, v in past.items()}
                tokens = [tokens[i] for i in keep]
            with turn(len(rows)):
                logits, past = self._step(tokens, lengths, past)
            lengths = lengths + 1

    def _prefill(self, prompts: list[list[int]], lengths: np.ndarray):
        batch, width = len(prompts), int(lengths.max())
        ids = np.zeros((batch, width), dtype=self.ids_type)
        mask = np.zeros((batch, width), dtype=self.mask_type)
        for i, prompt in enumerate(prompts):  # right padding: GQA masks by each row's length
            ids[i, : len(prompt)] = prompt
            mask[i, : len(prompt)] = 1
        empty = np.zeros((batch, self.kv_shape[0], 0, self.kv_shape[1]), dtype=self.kv_type)
        feed = {self.ids_name: ids, self.mask_name: mask, **{name: empty for name in self.past_names}}
        if self.positions_name:
            feed[self.positions_name] = np.broadcast_to(np.arange(width), (batch, width)).astype(np.int64)
        outputs = self._run(feed)
        last = outputs[self.logits_name][np.arange(batch), lengths - 1]
        return last, self._past(outputs)

    def _step(self, tokens: list[int], lengths: np.ndarray, past: dict):
        batch, total = len(tokens), past[self.past_names[0]].shape[2] + 1
        mask = (np.arange(total)[None, :] <= lengths[:, None]).astype(self.mask_type)
        feed = {self.ids_name: np.array(tokens, dtype=self.ids_type).reshape(batch, 1), self.mask_name: mask, **past}
        if self.positions_name:
            feed[self.positions_name] = lengths.reshape(batch, 1).astype(np.int64)
        outputs = self._run(feed)
        return outputs[self.logits_name][:, -1], self._past(outputs)

    def _run(self, feed: dict) -> dict:
        wanted = [self.logits_name, *self.present_names]
        return dict(zip(wanted, self.session.run(wanted, feed), strict=True))

    def _past(self, outputs: dict) -> dict:
        return {past: outputs[present] for past, present in zip(self.past_names, self.present_names, strict=True)}

    @staticmethod
    def _choose(logits: np.ndarray, params: GenerationParams, rng: np.random.Generator) -> int:
        logits = logits.astype(np.float32)
        if params.temperature <= 0:
            return int(np.argmax(logits))
        scaled = logits / params.temperature
        probs = np.exp(scaled - scaled.max())
        probs /= probs.sum()
        order = np.argsort(-probs)
        keep = order[: int(np.searchsorted(np.cumsum(probs[order]), params.top_p) + 1)]
        return int(rng.choice(keep, p=probs[keep] / probs[keep].sum()))
