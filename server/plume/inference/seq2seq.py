"""Encoder-decoder translation models (Marian/opus-mt, NLLB, M2M) exported by optimum
(`optimum-cli export onnx --task text2text-generation-with-past`), run with onnxruntime + tokenizers.

Files: encoder_model.onnx, decoder_model_merged.onnx (or decoder_model.onnx +
decoder_with_past_model.onnx), config.json, generation_config.json (optional), tokenizer.json.

Target language:
- a Marian/opus-mt model translates one fixed pair (opus-mt-fr-de: French to German); the catalog's
  `languages = ["fr-de"]` says which, and the prompt is just the source text (`format_chat`);
- a many-to-many model (NLLB-200) is told the languages by tokens: the source text is preceded by
  the source language's token (fra_Latn) and the target's token (deu_Latn) is forced as the first
  generated token. Pass `language_pair="fr-de"` to `generate`; ISO codes map to NLLB's FLORES codes
  (FLORES below). The catalog lists the pairs the model may serve;
- a multi-target Marian model (opus-mt-fr-ROMANCE style) takes a `>>es<<` token before the source:
  `language_pair` adds it when the tokenizer has it.

Decoding: greedy (streamed token by token) or beam search (`num_beams > 1`, sent at the end, as the
best hypothesis is only known then). Both keep the decoder's self-attention KV cache and compute the
cross-attention keys/values once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from plume.inference.engine import CancelToken, Chunk, Engine, EngineError, GenerationParams
from plume.inference.textstream import TextStream

getattr(ort, "disable_telemetry_events", lambda: None)()  # see ort_batch.py: the variable is what counts

FLORES = {"fr": "fra_Latn", "de": "deu_Latn", "it": "ita_Latn", "en": "eng_Latn", "es": "spa_Latn",
          "pt": "por_Latn", "sq": "als_Latn", "sr": "srp_Cyrl", "tr": "tur_Latn", "ar": "arb_Arab",
          "uk": "ukr_Cyrl", "ru": "rus_Cyrl", "ti": "tir_Ethi", "fa": "pes_Arab", "ta": "tam_Taml"}
ORT_PROVIDERS = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider",
                 "tensorrt": "TensorrtExecutionProvider", "dml": "DmlExecutionProvider"}


class Seq2SeqEngine(Engine):
    def __init__(self, folder: Path | str, *, model_id: str, context_length: int | None = None,
                 providers: Sequence[str] = ("cuda", "cpu"), languages: Sequence[str] = ()) -> None:
        self.folder = Path(folder)
        # A catalog entry with one pair needs no language_pair from the caller.
        self.default_pair = languages[0] if len(languages) == 1 else None
        self.model_id = model_id
        config = {**self._read_json("config.json"), **self._read_json("generation_config.json", optional=True)}
        self.context_length = min(context_length or config.get("max_position_embeddings", 512),
                                  config.get("max_position_embeddings", 512))
        self.decoder_start = int(config["decoder_start_token_id"])
        eos = config.get("eos_token_id", 0)
        self.eos_ids = set(eos if isinstance(eos, list) else [eos])
        self.banned = [ids[0] for ids in config.get("bad_words_ids") or [] if len(ids) == 1]
        self.max_batch = 1
        self.providers = _ort_providers(providers)
        self.encoder = self._session("encoder_model.onnx")
        merged = self.folder / "decoder_model_merged.onnx"
        if merged.exists():
            self.decoder = self.decoder_with_past = self._session(merged.name)
        else:
            self.decoder = self._session("decoder_model.onnx")
            self.decoder_with_past = self._session("decoder_with_past_model.onnx")
        self.merged = merged.exists()
        self.past_names = [i.name for i in self.decoder_with_past.get_inputs() if i.name.startswith("past_key_values")]
        try:
            self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        except Exception as exc:  # noqa: BLE001
            raise EngineError(f"« {model_id} » : tokenizer.json illisible ({exc})") from exc

    # -- loading ----------------------------------------------------------------------------------

    def _read_json(self, name: str, optional: bool = False) -> dict:
        path = self.folder / name
        if optional and not path.exists():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise EngineError(f"« {self.model_id} » : fichier manquant {name} dans {self.folder}") from exc
        except ValueError as exc:
            raise EngineError(f"« {self.model_id} » : {name} illisible ({exc})") from exc

    def _session(self, name: str) -> ort.InferenceSession:
        path = self.folder / name
        if not path.exists():
            raise EngineError(f"« {self.model_id} » : fichier manquant {name} dans {self.folder}")
        try:
            session = ort.InferenceSession(str(path), providers=self.providers)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises several types
            raise EngineError(f"« {self.model_id} » : {name} ne peut pas être chargé ({_first_line(exc)})") from exc
        self.provider = next((k for k, v in ORT_PROVIDERS.items() if v == session.get_providers()[0]), "cpu")
        return session

    # -- Engine -----------------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text).ids)

    def format_chat(self, messages: list[dict[str, str]]) -> str:
        """A translation model takes the source text alone: the last user message."""
        return next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")

    def generate(self, prompt: str, params: GenerationParams, cancel: CancelToken,
                 language_pair: str | None = None) -> Iterator[Chunk]:
        source, forced = self._source_ids(prompt, language_pair or self.default_pair)
        if len(source) > self.context_length:
            raise EngineError(f"texte trop long pour « {self.model_id} » ({len(source)} jetons, "
                              f"maximum {self.context_length})")
        max_new = min(params.max_new_tokens, self.context_length)
        try:
            hidden, mask = self._encode(source)
            if params.num_beams > 1:
                yield from self._beam(hidden, mask, forced, max_new, params, cancel)
            else:
                yield from self._greedy(hidden, mask, forced, max_new, params, cancel)
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - runtime failures become EngineError
            raise EngineError(f"« {self.model_id} » : échec de la génération ({_first_line(exc)})") from exc

    def _source_ids(self, prompt: str, language_pair: str | None) -> tuple[list[int], list[int]]:
        """The encoder's input ids, and the tokens to force at the start of the output."""
        if not language_pair:
            return self.tokenizer.encode(prompt).ids, []
        source_lang, _, target_lang = language_pair.partition("-")
        token = self.tokenizer.token_to_id
        if token(FLORES.get(target_lang, "")) is not None:  # NLLB: src_lang text </s>, forced tgt_lang
            if token(FLORES.get(source_lang, "")) is None:
                raise EngineError(f"« {self.model_id} » ne connaît pas la langue source « {source_lang} »")
            text = self.tokenizer.encode(prompt, add_special_tokens=False).ids
            return [token(FLORES[source_lang]), *text, *sorted(self.eos_ids)[:1]], [token(FLORES[target_lang])]
        if token(f">>{target_lang}<<") is not None:  # multi-target Marian
            return [token(f">>{target_lang}<<"), *self.tokenizer.encode(prompt).ids], []
        return self.tokenizer.encode(prompt).ids, []  # a fixed-pair model

    # -- decoding ---------------------------------------------------------------------------------

    def _encode(self, source: list[int]) -> tuple[np.ndarray, np.ndarray]:
        ids = np.array([source], dtype=np.int64)
        mask = np.ones_like(ids)
        hidden = self.encoder.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return hidden, mask

    def _step(self, tokens: np.ndarray, hidden: np.ndarray, mask: np.ndarray, past: dict | None):
        """One decoder pass: log-probabilities of the next token for each row, and the new cache."""
        first = past is None
        session = self.decoder if first else self.decoder_with_past
        feed = {"input_ids": tokens, "encoder_attention_mask": mask}
        names = {i.name for i in session.get_inputs()}
        if "encoder_hidden_states" in names:
            feed["encoder_hidden_states"] = hidden
        if self.merged:
            feed["use_cache_branch"] = np.array([not first])
            feed.update(past or self._empty_past(tokens.shape[0], hidden))
        elif not first:
            feed.update(past)
        outputs = session.run(None, feed)
        out_names = [o.name for o in session.get_outputs()]
        new_past = {}
        for name, value in zip(out_names[1:], outputs[1:], strict=True):
            past_name = name.replace("present", "past_key_values")
            # The cross-attention cache is computed on the first step only; keep it afterwards.
            keep_old = ".encoder." in name and not first
            new_past[past_name] = past[past_name] if keep_old else value
        logits = outputs[0][:, -1, :].astype(np.float32)
        if self.banned:
            logits[:, self.banned] = -np.inf
        return _log_softmax(logits), new_past

    def _empty_past(self, batch: int, hidden: np.ndarray) -> dict:
        past = {}
        for inp in self.decoder.get_inputs():
            if inp.name.startswith("past_key_values"):
                heads, dim = inp.shape[1], inp.shape[3]
                length = hidden.shape[1] if ".encoder." in inp.name else 0
                past[inp.name] = np.zeros((batch, heads, length, dim), dtype=np.float32)
        return past

    def _greedy(self, hidden, mask, forced, max_new, params, cancel) -> Iterator[Chunk]:
        stream = TextStream(self.tokenizer, params.stop)
        rng = np.random.default_rng(params.seed)
        tokens = np.array([[self.decoder_start]], dtype=np.int64)
        past = None
        for step in range(max_new):
            if cancel.cancelled:
                return
            logprobs, past = self._step(tokens, hidden, mask, past)
            if step < len(forced):
                token = forced[step]
            elif params.temperature > 0:
                token = _sample(logprobs[0], params.temperature, params.top_p, rng)
            else:
                token = int(np.argmax(logprobs[0]))
            if token in self.eos_ids:
                yield Chunk("", 1)
                break
            chunk = stream.push(token)
            if chunk:
                yield chunk
            if stream.stopped:
                break
            tokens = np.array([[token]], dtype=np.int64)
        tail = stream.flush()
        if tail:
            yield tail

    def _beam(self, hidden, mask, forced, max_new, params, cancel) -> Iterator[Chunk]:
        """Beam search; the best finished hypothesis by log-probability / length (HF's default
        length_penalty = 1). Stops when `num_beams` hypotheses have ended."""
        k = params.num_beams
        hidden_k, mask_k = np.repeat(hidden, k, axis=0), np.repeat(mask, k, axis=0)
        sequences: list[list[int]] = [[] for _ in range(k)]
        scores = np.array([0.0] + [-np.inf] * (k - 1))  # all beams start identical: keep one
        tokens = np.full((k, 1), self.decoder_start, dtype=np.int64)
        finished: list[tuple[float, list[int]]] = []
        past = None
        for step in range(max_new):
            if cancel.cancelled:
                return
            logprobs, past = self._step(tokens, hidden_k, mask_k, past)
            if step < len(forced):
                only = np.full_like(logprobs, -np.inf)
                only[:, forced[step]] = 0.0
                logprobs = only
            total = (scores[:, None] + logprobs).reshape(-1)
            vocab = logprobs.shape[1]
            best = np.argsort(-total, kind="stable")[: 2 * k]
            keep_beams, keep_tokens, keep_scores = [], [], []
            for flat in best:
                beam, token = divmod(int(flat), vocab)
                if not np.isfinite(total[flat]):
                    break
                if token in self.eos_ids:
                    finished.append((total[flat] / (len(sequences[beam]) + 1), sequences[beam]))
                    continue
                keep_beams.append(beam)
                keep_tokens.append(token)
                keep_scores.append(total[flat])
                if len(keep_beams) == k:
                    break
            if len(finished) >= k or not keep_beams:
                break
            sequences = [sequences[b] + [t] for b, t in zip(keep_beams, keep_tokens, strict=True)]
            scores = np.array(keep_scores + [-np.inf] * (k - len(keep_scores)))
            order = np.array(keep_beams + [keep_beams[0]] * (k - len(keep_beams)))
            past = {name: value[order] for name, value in past.items()}
            tokens = np.array([[t] for t in keep_tokens] + [[keep_tokens[0]]] * (k - len(keep_tokens)),
                              dtype=np.int64)
            sequences += [sequences[0]] * (k - len(sequences))
        if not finished:  # ran out of length: the best open hypothesis
            finished = [(scores[i] / max(1, len(sequences[i])), sequences[i]) for i in range(k)
                        if np.isfinite(scores[i])]
        _, best_ids = max(finished, key=lambda item: item[0])
        stream = TextStream(self.tokenizer, params.stop)
        text = "".join(c.text for c in (stream.push(t) for t in best_ids) if c)
        tail = stream.flush()
        yield Chunk(text + (tail.text if tail else ""), len(best_ids) + 1)

    def close(self) -> None:
        self.encoder = self.decoder = self.decoder_with_past = None


def _ort_providers(names: Sequence[str]) -> list[str]:
    """The catalog's preference order, keeping those this onnxruntime build has; CPU always last."""
    available = set(ort.get_available_providers())
    chosen = [ORT_PROVIDERS[n] for n in names if ORT_PROVIDERS.get(n) in available]
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _sample(logprobs: np.ndarray, temperature: float, top_p: float, rng: np.random.Generator) -> int:
    scaled = logprobs / temperature
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    order = np.argsort(-probs)
    cumulative = np.cumsum(probs[order])
    keep = order[: int(np.searchsorted(cumulative, top_p) + 1)]
    return int(rng.choice(keep, p=probs[keep] / probs[keep].sum()))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
