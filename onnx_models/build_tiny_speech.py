"""Build the tiny random-weight Whisper model the speech tests use (CTranslate2 format).

    python onnx_models/build_tiny_speech.py OUT_DIR

Needs only what the server has (numpy, ctranslate2, tokenizers): no PyTorch, so the tests build it
in about a second when they need it instead of keeping binary weights in the repository.

The model has Whisper's multilingual layout (51 865 tokens: text, <|endoftext|>, the 99 language
tokens, the task tokens, <|notimestamps|>, 1 501 timestamps), so faster-whisper and CTranslate2 treat
it exactly as they treat Whisper base or large-v3 (the language is given, timestamps are decoded),
but with 16-dimensional layers and random weights (fixed seed). It proves the pipeline — decoding,
windows, jobs, progress, cancellation, restart — never quality: its output is gibberish.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from ctranslate2.specs import whisper_spec
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

SEED = 20261207
D_MODEL, HEADS, LAYERS, MELS = 16, 2, 1, 80
TEXT_TOKENS = 50257  # Whisper's multilingual text vocabulary size; ids above are special
LANGUAGES = ("en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg "
             "lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo "
             "so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su").split()
SPECIALS = (["<|endoftext|>", "<|startoftranscript|>"] + [f"<|{code}|>" for code in LANGUAGES]
            + ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>",
               "<|notimestamps|>"] + [f"<|{i * 0.02:.2f}|>" for i in range(1501)])
WORDS = ("le la les de du des un une et à au en est sont conseil commune séance point vote crédit rue "
         "ordre jour présidente monsieur madame merci accepté refusé oui non abstentions francs").split()


def tokens() -> list[str]:
    """Whisper's id layout: the 256 byte-level symbols, some French words (so that the gibberish
    reads as words), filler up to 50 257, then the special tokens in Whisper's order."""
    byte_symbols = list(pre_tokenizers.ByteLevel.alphabet())
    byte_symbols.sort()
    spell = pre_tokenizers.ByteLevel(add_prefix_space=False).pre_tokenize_str
    words = [spell(" " + w)[0][0] for w in WORDS]  # byte-level spelling: « Ġle », « ĠsÃ©ance »
    text = byte_symbols + [w for w in words if w not in byte_symbols]
    text += [f"tok{i}" for i in range(TEXT_TOKENS - len(text))]
    return text + SPECIALS


def tokenizer(vocabulary: list[str]) -> Tokenizer:
    text = {token: i for i, token in enumerate(vocabulary[:TEXT_TOKENS])}
    tok = Tokenizer(models.BPE(vocab=text, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIALS)  # ids TEXT_TOKENS.. in order, as in Whisper
    return tok


def spec(vocabulary_size: int) -> whisper_spec.WhisperSpec:
    rng = np.random.default_rng(SEED)

    def rand(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    def linear(layer, out_dim: int, in_dim: int) -> None:
        layer.weight, layer.bias = rand(out_dim, in_dim), rand(out_dim)

    def norm(layer) -> None:
        layer.gamma, layer.beta = np.ones(D_MODEL, np.float32), np.zeros(D_MODEL, np.float32)

    def block(layer, cross: bool) -> None:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * D_MODEL, D_MODEL)  # q, k, v fused
        linear(layer.self_attention.linear[1], D_MODEL, D_MODEL)
        if cross:
            norm(layer.attention.layer_norm)
            linear(layer.attention.linear[0], D_MODEL, D_MODEL)
            linear(layer.attention.linear[1], 2 * D_MODEL, D_MODEL)  # k, v of the encoder output
            linear(layer.attention.linear[2], D_MODEL, D_MODEL)
        norm(layer.ffn.layer_norm)
        linear(layer.ffn.linear_0, 4 * D_MODEL, D_MODEL)
        linear(layer.ffn.linear_1, D_MODEL, 4 * D_MODEL)

    model = whisper_spec.WhisperSpec(LAYERS, HEADS, LAYERS, HEADS)
    encoder, decoder = model.encoder, model.decoder
    encoder.conv1.weight, encoder.conv1.bias = rand(D_MODEL, MELS, 3), rand(D_MODEL)
    encoder.conv2.weight, encoder.conv2.bias = rand(D_MODEL, D_MODEL, 3), rand(D_MODEL)
    encoder.position_encodings.encodings = rand(1500, D_MODEL)
    norm(encoder.layer_norm)
    for layer in encoder.layer:
        block(layer, cross=False)
    embeddings = rand(vocabulary_size, D_MODEL)
    decoder.embeddings.weight = embeddings
    decoder.projection.weight = embeddings  # tied, as in Whisper: stored once
    decoder.position_encodings.encodings = rand(448, D_MODEL)
    norm(decoder.layer_norm)
    for layer in decoder.layer:
        block(layer, cross=True)
    return model


def build(out: Path) -> Path:
    vocabulary = tokens()
    model = spec(len(vocabulary))
    # Whisper's own vocabulary leaves id 50 256 empty, and CTranslate2 4.8 recognises a multilingual
    # model by that layout (with any other token there it decodes as an English-only model).
    model.register_vocabulary([*vocabulary[:TEXT_TOKENS - 1], "", *vocabulary[TEXT_TOKENS:]])
    config = model.config
    config.suppress_ids = []
    config.suppress_ids_begin = [220, TEXT_TOKENS]
    config.lang_ids = [TEXT_TOKENS + 2 + i for i in range(len(LANGUAGES))]
    config.alignment_heads = [[0, h] for h in range(HEADS)]
    model.validate()
    model.optimize(quantization="int8")
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("model.bin", "config.json", "vocabulary.json"):
        (out / stale).unlink(missing_ok=True)
    model.save(str(out))
    tokenizer(vocabulary).save(str(out / "tokenizer.json"))
    (out / "README.txt").write_text("Tiny random Whisper (CTranslate2) built by onnx_models/build_tiny_speech.py: "
                                    "proves the pipeline, never quality.\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(build(Path(sys.argv[1])))
