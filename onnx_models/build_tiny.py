"""Build the tiny random-weight test models, and the larger model the benchmark uses.

    python onnx_models/build_tiny.py                     # -> onnx_models/tiny/{tiny-llm,tiny-mt}
    python onnx_models/build_tiny.py --only tiny-mt --out /tmp/tiny
    python onnx_models/build_tiny.py --bench-llm DIR     # ~200 M parameters, for bench/engine.py
    python onnx_models/build_tiny.py --only tiny-embed   # needs only onnx and tokenizers

Needs the `export` extra (PyTorch, transformers 5, onnx, onnx-ir: the onnxruntime-genai builder);
the server never does. optimum-onnx pins transformers < 4.58, which the genai builder cannot use, so
the optimum step runs in its own virtual environment (the `export-mt` extra), made on first use in
~/.cache/plume/export-mt (or $PLUME_EXPORT_MT_PYTHON, a Python that already has optimum-onnx).
The models have random weights (fixed seed): they prove the pipeline, never quality.

- tiny-llm: a Qwen2-architecture decoder with a byte-level BPE tokenizer trained on the sample
  French texts and a ChatML chat template, exported by the onnxruntime-genai model builder.
- tiny-embed: a sentence encoder for search (`kind = "embedding"`): embedding table, one dense layer
  with tanh, output last_hidden_state as optimum exports encoders; a WordPiece tokenizer trained on
  the search test corpus. Written with onnx.helper directly (a few kB, no PyTorch needed).
- tiny-mt: a MarianMT encoder-decoder (fr->es) with a sentencepiece tokenizer, exported by optimum;
  its tokenizer is converted to a `tokenizers` tokenizer.json so the server needs no sentencepiece.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# No telemetry from ONNX Runtime / onnxruntime-genai here either (the builder runs in a subprocess,
# which inherits this): see server/plume/__init__.py.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
SAMPLES = Path(os.environ.get("PLUME_SAMPLES", REPO.parent / "shared" / "samples"))
SEED = 20261125

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
LLM_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# A few lines of fallback text so the script also works without the samples folder.
FALLBACK_TEXT = """Madame, Monsieur,
Nous accusons réception de votre demande du 3 novembre et vous en remercions.
Le Conseil communal a décidé d'octroyer une subvention pour l'assainissement énergétique.
La taxe sur les déchets est perçue annuellement auprès de chaque ménage domicilié dans la commune.
Veuillez agréer, Madame, Monsieur, nos salutations distinguées.
Señora, señor, acusamos recibo de su solicitud y le agradecemos."""


def corpus() -> list[str]:
    """French sample texts, one paragraph per item."""
    lines: list[str] = FALLBACK_TEXT.splitlines()
    if SAMPLES.exists():
        for path in sorted(SAMPLES.rglob("*")):
            if path.suffix in {".txt", ".eml", ".html", ".toml"} and path.is_file():
                lines += [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines


# --------------------------------------------------------------------------- decoder LLM


def train_bpe(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=1, special_tokens=LLM_SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


def save_llm_hf(hf_dir: Path, *, vocab_size: int, hidden: int, layers: int, heads: int, kv_heads: int,
                intermediate: int, context: int, init_range: float) -> None:
    """A random Qwen2 model and its tokenizer, in Hugging Face format."""
    import torch
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    tok = train_bpe(corpus(), vocab_size)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   model_max_length=context)
    fast.chat_template = CHATML_TEMPLATE
    fast.save_pretrained(hf_dir)
    # onnxruntime-genai's tokenizer picks its algorithm from tokenizer_class.
    cfg_path = hf_dir / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["tokenizer_class"] = "Qwen2Tokenizer"
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False))

    torch.manual_seed(SEED)
    config = Qwen2Config(
        vocab_size=tok.get_vocab_size(), hidden_size=hidden, intermediate_size=intermediate,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
        max_position_embeddings=context, tie_word_embeddings=False, initializer_range=init_range,
        eos_token_id=tok.token_to_id("<|im_end|>"), pad_token_id=tok.token_to_id("<|endoftext|>"),
        bos_token_id=None, torch_dtype="float32",
    )
    model = Qwen2ForCausalLM(config).eval()
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.pad_token_id = config.pad_token_id
    model.save_pretrained(hf_dir)


def export_genai(hf_dir: Path, out: Path, precision: str = "fp32") -> None:
    with tempfile.TemporaryDirectory() as cache:
        run([sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf_dir), "-o", str(out),
             "-p", precision, "-e", "cpu", "-c", cache])


def build_llm(out: Path, **shape) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hf_dir = Path(tmp) / "hf"
        save_llm_hf(hf_dir, **shape)
        shutil.rmtree(out, ignore_errors=True)
        export_genai(hf_dir, out)
    print(f"modèle décodeur écrit dans {out}")


TINY_LLM = dict(vocab_size=2048, hidden=64, layers=2, heads=4, kv_heads=2, intermediate=128, context=8192,
                init_range=0.2)
# ~200 M parameters (fp32: ~0.8 GB): large enough to be memory-bound on decode.
BENCH_LLM = dict(vocab_size=4096, hidden=1024, layers=16, heads=16, kv_heads=4, intermediate=3584, context=2048,
                 init_range=0.02)


def build_bench_llm(out: Path) -> Path:
    """The benchmark model: ONNX in out/onnx, the same weights in Hugging Face format in out/hf."""
    hf_dir = out / "hf"
    shutil.rmtree(out, ignore_errors=True)
    save_llm_hf(hf_dir, **BENCH_LLM)
    export_genai(hf_dir, out / "onnx")
    return out


# --------------------------------------------------------------------------- Marian encoder-decoder


def train_spm(texts: list[str], prefix: Path, vocab_size: int) -> Path:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_prefix=str(prefix), vocab_size=vocab_size, model_type="unigram",
        eos_id=0, unk_id=1, pad_id=2, bos_id=-1, character_coverage=1.0, seed_sentencepiece_size=100_000,
        num_threads=1, minloglevel=2,
    )
    return prefix.with_suffix(".model")


def build_mt(out: Path, vocab_size: int = 800) -> None:
    python = optimum_python()
    if python != sys.executable:  # the whole Marian step runs with optimum's transformers
        run([python, __file__, "--only", "tiny-mt", "--out", str(out.parent)])
        return
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spm_file = train_spm(corpus(), tmp / "spm", vocab_size)
        hf_dir = tmp / "hf"
        hf_dir.mkdir()
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(spm_file))
        vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
        (tmp / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
        MarianTokenizer(source_spm=str(spm_file), target_spm=str(spm_file), vocab=str(tmp / "vocab.json"),
                        source_lang="fr", target_lang="es").save_pretrained(hf_dir)

        torch.manual_seed(SEED)
        config = MarianConfig(
            vocab_size=len(vocab), decoder_vocab_size=len(vocab), d_model=64, encoder_layers=2, decoder_layers=2,
            encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
            max_position_embeddings=512, pad_token_id=2, eos_token_id=0, decoder_start_token_id=2,
            forced_eos_token_id=0, init_std=0.2, scale_embedding=True, share_encoder_decoder_embeddings=True,
        )
        model = MarianMTModel(config).eval()
        model.generation_config.update(max_length=64, num_beams=1, bad_words_ids=[[2]])
        model.save_pretrained(hf_dir)

        shutil.rmtree(out, ignore_errors=True)
        run([python, "-m", "optimum.commands.optimum_cli", "export", "onnx", "--model", str(hf_dir),
             "--task", "text2text-generation-with-past", str(out)])
        sys.path.insert(0, str(Path(__file__).parent))
        from marian_tokenizer import marian_tokenizer_json

        marian_tokenizer_json(out, check_lines=corpus())
    # The server reads config.json, generation_config.json, tokenizer.json and the .onnx files only.
    # decoder_model_merged.onnx does both the first step and the steps with a KV cache.
    for name in ("source.spm", "target.spm", "vocab.json", "special_tokens_map.json", "tokenizer_config.json",
                 "decoder_model.onnx", "decoder_with_past_model.onnx"):
        (out / name).unlink(missing_ok=True)
    print(f"modèle de traduction écrit dans {out}")


# --------------------------------------------------------------------------- helpers

OPTIMUM_REQUIREMENTS = ["torch==2.13.0", "transformers>=4.57,<4.58", "optimum-onnx==0.1.0", "onnx",
                        "sentencepiece", "onnxruntime"]


def build_embed(out: Path, vocab_size: int = 400, hidden: int = 16) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO / "tools" / "search_corpus").glob("*.md"))]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=["[PAD]", "[UNK]"]))
    vocab = tokenizer.get_vocab_size()
    rng = np.random.default_rng(SEED)
    embedding = numpy_helper.from_array(rng.normal(0, 1, (vocab, hidden)).astype(np.float32), "embedding")
    dense = numpy_helper.from_array(rng.normal(0, 0.5, (hidden, hidden)).astype(np.float32), "dense")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["embedding", "input_ids"], ["embedded"]),
         helper.make_node("MatMul", ["embedded", "dense"], ["projected"]),
         helper.make_node("Tanh", ["projected"], ["last_hidden_state"])],
        "tiny-embed",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", hidden])],
        initializer=[embedding, dense])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(model, out / "model.onnx")
    tokenizer.save(str(out / "tokenizer.json"))


def optimum_python() -> str:
    """A Python with optimum-onnx: this one if it has it, else a cached venv made once."""
    if os.environ.get("PLUME_EXPORT_MT_PYTHON"):
        return os.environ["PLUME_EXPORT_MT_PYTHON"]
    probe = subprocess.run([sys.executable, "-c", "import optimum.exporters.onnx"], capture_output=True)
    if probe.returncode == 0:
        return sys.executable
    venv = Path.home() / ".cache" / "plume" / "export-mt"
    python = venv / "bin" / "python"
    if not python.exists():
        run([sys.executable, "-m", "venv", str(venv)])
        # torch first and pinned: pip then takes the CPU build instead of a multi-GB CUDA one.
        run([str(python), "-m", "pip", "install", "-q", "torch==2.13.0"])
        run([str(python), "-m", "pip", "install", "-q", *OPTIMUM_REQUIREMENTS])
    return str(python)



def run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    env = {**os.environ, "PYTHONHASHSEED": "0", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    subprocess.run(cmd, check=True, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "onnx_models" / "tiny")
    parser.add_argument("--only", choices=["tiny-llm", "tiny-mt", "tiny-embed"])
    parser.add_argument("--bench-llm", type=Path, metavar="DIR", help="build the ~200 M benchmark model in DIR")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.bench_llm:
        build_bench_llm(args.bench_llm)
        return 0
    if args.only in (None, "tiny-llm"):
        build_llm(args.out / "tiny-llm", **TINY_LLM)
    if args.only in (None, "tiny-mt"):
        build_mt(args.out / "tiny-mt")
    if args.only in (None, "tiny-embed"):
        build_embed(args.out / "tiny-embed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
