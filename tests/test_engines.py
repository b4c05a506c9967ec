"""The engines on the committed tiny models: decoding checked against a plain-onnxruntime reference,
beam search, stop strings, cancellation, broken model files, and the catalog."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from plume.inference.catalog import (
    CatalogError,
    check_files,
    create_engine,
    load_catalog,
)
from plume.inference.engine import CancelToken, EngineError, GenerationParams
from tokenizers import Tokenizer

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "onnx_models" / "tiny"
CATALOG = TINY / "models.toml"
PROMPT_TEXT = "Bonjour, pouvez-vous m'expliquer la taxe sur les déchets ?"
SOURCE_TEXT = "La taxe sur les déchets est perçue annuellement auprès de chaque ménage domicilié dans la commune."


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(CATALOG)


@pytest.fixture(scope="module")
def llm(catalog):
    return create_engine(catalog.get("tiny-llm"))


@pytest.fixture(scope="module")
def mt(catalog):
    return create_engine(catalog.get("tiny-mt"))


def run(engine, prompt, cancel=None, **params):
    chunks = list(engine.generate(prompt, GenerationParams(**params), cancel or CancelToken()))
    return "".join(c.text for c in chunks), sum(c.tokens for c in chunks)


# --------------------------------------------------------------------------- decoder (onnxruntime-genai)


def reference_greedy(folder: Path, prompt_ids: list[int], steps: int) -> list[int]:
    """Greedy decoding with plain onnxruntime on the same model.onnx, feeding the KV cache by hand."""
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    past_inputs = [i for i in session.get_inputs() if i.name.startswith("past_key_values")]
    past = {i.name: np.zeros((1, i.shape[1], 0, 16), dtype=np.float32) for i in past_inputs}
    out_names = [o.name for o in session.get_outputs()]
    ids, generated = list(prompt_ids), []
    step_ids = ids
    for _ in range(steps):
        feed = {"input_ids": np.array([step_ids], dtype=np.int64),
                "attention_mask": np.ones((1, len(ids)), dtype=np.int64), **past}
        outputs = dict(zip(out_names, session.run(None, feed), strict=True))
        token = int(np.argmax(outputs["logits"][0, -1]))
        generated.append(token)
        if token == 2:  # <|im_end|>
            break
        past = {name: outputs[name.replace("past_key_values", "present")] for name in past}
        ids.append(token)
        step_ids = [token]
    return generated


def test_greedy_decode_equals_step_by_step_onnxruntime_reference(llm):
    prompt = llm.format_chat([{"role": "user", "content": PROMPT_TEXT}])
    text, tokens = run(llm, prompt, max_new_tokens=24)
    expected_ids = reference_greedy(TINY / "tiny-llm", llm.encode(prompt), 24)
    tokenizer = Tokenizer.from_file(str(TINY / "tiny-llm" / "tokenizer.json"))
    assert tokens == len(expected_ids) == 24
    assert text == tokenizer.decode(expected_ids)
    assert text.strip()


def test_chat_template_from_the_tokenizer_config(llm, catalog):
    prompt = llm.format_chat([{"role": "system", "content": "Sois bref."}, {"role": "user", "content": "Salut"}])
    assert prompt == ("<|im_start|>system\nSois bref.<|im_end|>\n<|im_start|>user\nSalut<|im_end|>\n"
                      "<|im_start|>assistant\n")
    entry = catalog.get("tiny-llm")
    custom = create_engine(type(entry)(**{**{f: getattr(entry, f) for f in entry.__struct_fields__},
                                          "chat_template": "{{ messages[-1]['content'] }} =>"}))
    assert custom.format_chat([{"role": "user", "content": "Salut"}]) == "Salut =>"


def test_sampling_is_reproducible_with_a_seed_and_differs_from_greedy(llm):
    prompt = llm.format_chat([{"role": "user", "content": PROMPT_TEXT}])
    sampled = run(llm, prompt, max_new_tokens=20, temperature=1.0, top_p=0.95, seed=7)
    assert sampled == run(llm, prompt, max_new_tokens=20, temperature=1.0, top_p=0.95, seed=7)
    assert sampled[0] != run(llm, prompt, max_new_tokens=20)[0]


def test_stop_string_ends_the_text_before_it(llm):
    prompt = llm.format_chat([{"role": "user", "content": PROMPT_TEXT}])
    full, _ = run(llm, prompt, max_new_tokens=40)
    stop = full[12:15]
    stopped, tokens = run(llm, prompt, max_new_tokens=40, stop=[stop])
    assert stopped == full[: full.index(stop)]
    assert tokens < 40


def test_cancel_stops_the_generation(llm):
    prompt = llm.format_chat([{"role": "user", "content": PROMPT_TEXT}])
    cancel = CancelToken()
    counted = 0
    for chunk in llm.generate(prompt, GenerationParams(max_new_tokens=2000), cancel):
        counted += chunk.tokens
        if counted >= 5:
            cancel.cancel()
            at_cancel = counted
    assert counted == at_cancel  # not one token after the cancel
    assert counted < 10


def test_cancel_from_another_thread_stops_a_running_generation(llm):
    prompt = llm.format_chat([{"role": "user", "content": PROMPT_TEXT}])
    cancel, counts, started = CancelToken(), [], threading.Event()

    def worker():
        for chunk in llm.generate(prompt, GenerationParams(max_new_tokens=7000), cancel):
            counts.append(chunk.tokens)
            started.set()

    thread = threading.Thread(target=worker)
    thread.start()
    assert started.wait(10)
    cancel.cancel()
    thread.join(10)
    assert not thread.is_alive()
    stopped_at = sum(counts)
    assert stopped_at < 7000


def test_concurrent_generations_share_the_model_and_match_single_runs(llm):
    prompts = [llm.format_chat([{"role": "user", "content": t}]) for t in (PROMPT_TEXT, "Salut", "Merci beaucoup")]
    expected = [run(llm, p, max_new_tokens=16) for p in prompts]
    results: dict[int, tuple] = {}
    threads = [threading.Thread(target=lambda i=i, p=p: results.__setitem__(i, run(llm, p, max_new_tokens=16)))
               for i, p in enumerate(prompts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [results[i] for i in range(len(prompts))] == expected


def test_batch_equals_single_runs_for_same_and_different_prompt_lengths(llm):
    a, b, c = (llm.format_chat([{"role": "user", "content": t}]) for t in ("Bonjour", "Merci", PROMPT_TEXT))
    assert len(llm.encode(a)) == len(llm.encode(b)) != len(llm.encode(c))  # a and b share a batched pass
    texts, tokens = ["", "", ""], [0, 0, 0]
    cancels = [CancelToken(), CancelToken(), CancelToken()]
    for step in llm.generate_batch([a, b, c], GenerationParams(max_new_tokens=16), cancels):
        for i, chunk in enumerate(step):
            texts[i] += chunk.text if chunk else ""
            tokens[i] += chunk.tokens if chunk else 0
        if tokens[1] >= 5:
            cancels[1].cancel()
    assert texts[0] == run(llm, a, max_new_tokens=16)[0]
    assert texts[2] == run(llm, c, max_new_tokens=16)[0]
    assert tokens == [16, 5, 16]  # the cancelled row stopped, the others went on


def test_prompt_longer_than_the_context_is_an_engine_error(catalog):
    entry = catalog.get("tiny-llm")
    small = create_engine(type(entry)(**{**{f: getattr(entry, f) for f in entry.__struct_fields__}, "context_length": 32}))
    with pytest.raises(EngineError, match="trop longue"):
        run(small, small.format_chat([{"role": "user", "content": SOURCE_TEXT * 3}]))


# --------------------------------------------------------------------------- encoder-decoder (optimum export)


class Reference:
    """Plain onnxruntime on decoder_model_merged.onnx WITHOUT the KV cache: the whole prefix each step."""

    def __init__(self, folder: Path, source_ids: list[int]) -> None:
        encoder = ort.InferenceSession(str(folder / "encoder_model.onnx"), providers=["CPUExecutionProvider"])
        self.decoder = ort.InferenceSession(str(folder / "decoder_model_merged.onnx"), providers=["CPUExecutionProvider"])
        self.ids = np.array([source_ids], dtype=np.int64)
        self.mask = np.ones_like(self.ids)
        self.hidden = encoder.run(None, {"input_ids": self.ids, "attention_mask": self.mask})[0]

    def logprobs(self, prefix: list[int]) -> np.ndarray:
        feed = {"input_ids": np.array([prefix], dtype=np.int64), "encoder_attention_mask": self.mask,
                "encoder_hidden_states": self.hidden, "use_cache_branch": np.array([False])}
        for inp in self.decoder.get_inputs():
            if inp.name.startswith("past_key_values"):
                length = self.hidden.shape[1] if ".encoder." in inp.name else 0
                feed[inp.name] = np.zeros((1, inp.shape[1], length, inp.shape[3]), dtype=np.float32)
        logits = self.decoder.run(None, feed)[0][0, -1].astype(np.float64)
        logits[2] = -np.inf  # the pad token is banned (generation_config bad_words_ids)
        return logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()

    def greedy(self, steps: int, forced: tuple[int, ...] = ()) -> list[int]:
        prefix = [2, *forced]
        for _ in range(steps):
            token = int(np.argmax(self.logprobs(prefix)))
            prefix.append(token)
            if token == 0:
                break
        return prefix[1 + len(forced):]

    def score(self, ids: list[int]) -> float:
        """Length-normalised log-probability of a finished or cut hypothesis."""
        prefix, total = [2], 0.0
        for token in ids:
            total += self.logprobs(prefix)[token]
            prefix.append(token)
        return total / len(ids)


def test_seq2seq_greedy_with_kv_cache_equals_reference_without_cache(mt):
    text, tokens = run(mt, SOURCE_TEXT, max_new_tokens=20)
    reference = Reference(TINY / "tiny-mt", mt.tokenizer.encode(SOURCE_TEXT).ids)
    expected = reference.greedy(20)
    assert tokens == len(expected)
    assert text == mt.tokenizer.decode(expected)
    assert text.strip()
    assert run(mt, SOURCE_TEXT, max_new_tokens=20) == (text, tokens)


def test_beam_search_is_deterministic_and_scores_at_least_as_well_as_greedy(mt):
    beam_text, _ = run(mt, SOURCE_TEXT, max_new_tokens=20, num_beams=4)
    assert beam_text.strip()
    assert run(mt, SOURCE_TEXT, max_new_tokens=20, num_beams=4)[0] == beam_text
    reference = Reference(TINY / "tiny-mt", mt.tokenizer.encode(SOURCE_TEXT).ids)
    greedy_ids = reference.greedy(20)
    beam_ids = mt.tokenizer.encode(beam_text, add_special_tokens=False).ids
    assert reference.score(beam_ids) >= reference.score(greedy_ids) - 1e-6


def test_translation_prompt_is_the_source_text(mt):
    messages = [{"role": "system", "content": "Traduis en espagnol."}, {"role": "user", "content": SOURCE_TEXT}]
    assert mt.format_chat(messages) == SOURCE_TEXT


def test_seq2seq_cancel_stops_the_generation(mt):
    cancel = CancelToken()
    counted = 0
    for chunk in mt.generate(SOURCE_TEXT, GenerationParams(max_new_tokens=500), cancel):
        counted += chunk.tokens
        if counted >= 3:
            cancel.cancel()
            at_cancel = counted
    assert counted == at_cancel


# --------------------------------------------------------------------------- broken models, catalog


def broken_copy(tmp_path: Path, model: str, damage: str) -> Path:
    folder = tmp_path / model
    shutil.copytree(TINY / model, folder)
    (folder / damage).write_bytes(b"ceci n'est pas un modele ONNX")
    catalog = tmp_path / "models.toml"
    catalog.write_text(CATALOG.read_text())
    return catalog


@pytest.mark.parametrize(("model", "damage"), [("tiny-llm", "model.onnx"), ("tiny-mt", "encoder_model.onnx"),
                                               ("tiny-mt", "tokenizer.json")])
def test_broken_model_file_is_a_clear_engine_error(tmp_path, model, damage):
    entry = load_catalog(broken_copy(tmp_path, model, damage)).get(model)
    assert check_files(entry) == []  # the files are there: only loading finds the damage
    with pytest.raises(EngineError) as caught:
        create_engine(entry)
    message = str(caught.value)
    assert model in message
    assert "Traceback" not in message


def test_missing_model_files_are_listed(tmp_path):
    catalog_file = tmp_path / "models.toml"
    catalog_file.write_text(CATALOG.read_text())
    shutil.copytree(TINY / "tiny-mt", tmp_path / "tiny-mt")
    (tmp_path / "tiny-mt" / "decoder_model_merged.onnx").unlink()
    catalog = load_catalog(catalog_file)
    assert check_files(catalog.get("tiny-llm")) == [f"« tiny-llm » : le dossier {tmp_path / 'tiny-llm'} n'existe pas."]
    assert any("decoder_model_merged.onnx" in p for p in check_files(catalog.get("tiny-mt")))
    with pytest.raises(EngineError, match="n'existe pas"):
        create_engine(catalog.get("tiny-llm"))


def test_catalog_chooses_the_pair_model_first_for_translation(catalog):
    assert [m.id for m in catalog.models] == ["tiny-llm", "tiny-mt"]
    assert [m.id for m in catalog.for_task("translate", "fr-es")] == ["tiny-mt", "tiny-llm"]
    assert [m.id for m in catalog.for_task("translate", "fr-de")] == ["tiny-llm"]
    assert [m.id for m in catalog.for_task("summarize")] == ["tiny-llm"]
    assert catalog.for_task("no-such-task") == []
    assert Path(catalog.get("tiny-mt").path) == TINY / "tiny-mt"


@pytest.mark.parametrize("text", ["[[models]]\nid = 'x'\n", "[[models]]\nid='a'\nkind='robot'\ntasks=[]\npath='a'\n",
                                  "pas du toml", "[[models]]\nid='a'\nkind='decoder'\ntasks=[]\npath='a'\n"
                                  "[[models]]\nid='a'\nkind='decoder'\ntasks=[]\npath='b'\n"])
def test_malformed_catalog_is_a_catalog_error(tmp_path, text):
    path = tmp_path / "models.toml"
    path.write_text(text)
    with pytest.raises(CatalogError, match="atalogue"):
        load_catalog(path)


def test_production_catalog_loads_and_is_empty_until_it_installs_models():
    assert load_catalog(REPO / "onnx_models" / "models.toml").models == []


def with_language_tokens(tmp_path: Path, tokens: dict[int, str]) -> Path:
    """A copy of tiny-mt whose vocabulary entries at these ids became language tokens."""
    import json

    folder = tmp_path / "tiny-mt"
    shutil.copytree(TINY / "tiny-mt", folder)
    data = json.loads((folder / "tokenizer.json").read_text())
    for token_id, content in tokens.items():
        data["model"]["vocab"][token_id][0] = content
        data["added_tokens"].append({"id": token_id, "content": content, "single_word": False, "lstrip": False,
                                     "rstrip": False, "normalized": False, "special": True})
    (folder / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False))
    return folder


def test_nllb_style_model_gets_source_token_and_forced_target_token(tmp_path, mt):
    from plume.inference.seq2seq import Seq2SeqEngine

    nllb = Seq2SeqEngine(with_language_tokens(tmp_path, {700: "fra_Latn", 701: "spa_Latn", 702: "deu_Latn"}),
                         model_id="nllb-like", providers=["cpu"])
    source, forced = nllb._source_ids(SOURCE_TEXT, "fr-es")
    assert source[0] == 700 and source[-1] == 0 and source[1:-1] == mt.tokenizer.encode(SOURCE_TEXT).ids[:-1]
    assert forced == [701]
    chunks = list(nllb.generate(SOURCE_TEXT, GenerationParams(max_new_tokens=12), CancelToken(), language_pair="fr-es"))
    to_german = list(nllb.generate(SOURCE_TEXT, GenerationParams(max_new_tokens=12), CancelToken(),
                                   language_pair="fr-de"))
    assert sum(c.tokens for c in chunks) == 12
    assert "spa_Latn" not in "".join(c.text for c in chunks)  # the forced language token is not text
    reference = Reference(tmp_path / "tiny-mt", source)
    for target, got in ((701, chunks), (702, to_german)):
        assert "".join(c.text for c in got) == nllb.tokenizer.decode(reference.greedy(11, forced=(target,)))
    with pytest.raises(EngineError, match="langue source"):
        list(nllb.generate(SOURCE_TEXT, GenerationParams(), CancelToken(), language_pair="rm-es"))


def test_multi_target_marian_gets_the_target_prefix_token(tmp_path):
    from plume.inference.seq2seq import Seq2SeqEngine

    romance = Seq2SeqEngine(with_language_tokens(tmp_path, {700: ">>es<<", 701: ">>it<<"}), model_id="romance",
                            providers=["cpu"])
    assert romance._source_ids(SOURCE_TEXT, "fr-it")[0][0] == 701
    assert romance._source_ids(SOURCE_TEXT, "fr-es") == ([700, *romance.tokenizer.encode(SOURCE_TEXT).ids], [])


def test_cuda_first_then_cpu(llm, mt):
    import onnxruntime_genai as og
    from plume.inference.onnx_genai import GenAIEngine

    assert llm.provider == ("cuda" if og.is_cuda_available() else "cpu")
    assert mt.provider == ("cuda" if "CUDAExecutionProvider" in ort.get_available_providers() else "cpu")
    if not og.is_cuda_available():  # CUDA only, on a machine without it: a clear refusal, no crash
        with pytest.raises(EngineError, match="impossible de charger le modèle.*cuda"):
            GenAIEngine(TINY / "tiny-llm", model_id="gpu-only", providers=["cuda"])


def test_batch_of_eight_ragged_prompts_decodes_each_as_alone(llm):
    prompts = [llm.format_chat([{"role": "user", "content": f"Demande {i} : " + "la taxe " * i}]) for i in range(8)]
    assert len({len(llm.encode(p)) for p in prompts}) == 8
    params = GenerationParams(max_new_tokens=24, stop=["ai"])
    texts, tokens = [""] * 8, [0] * 8
    for step in llm.generate_batch(prompts, params, [CancelToken() for _ in prompts]):
        for i, chunk in enumerate(step):
            texts[i] += chunk.text if chunk else ""
            tokens[i] += chunk.tokens if chunk else 0
    alone = [run(llm, p, max_new_tokens=24, stop=["ai"]) for p in prompts]
    assert list(zip(texts, tokens, strict=True)) == alone
    assert any(t < 24 for t in tokens)  # some rows ended early on the stop string, the batch went on
