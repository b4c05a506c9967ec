"""Write tokenizer.json for a Marian / opus-mt model folder, so Plume needs no sentencepiece.

    python onnx_models/marian_tokenizer.py FOLDER      # FOLDER has source.spm, target.spm, vocab.json

Marian models encode with source.spm, decode with target.spm, and map pieces to model ids through
vocab.json (ids are not sentencepiece ids). The result is one `tokenizers` Unigram tokenizer whose
ids are vocab.json's: pieces of the source model keep their scores, pieces only the target side uses
get a very low score (they decode, but encoding does not choose them). Encoding appends </s>, as
MarianTokenizer does. Needs sentencepiece (the `export` extras have it); checks itself against
sentencepiece on sample lines.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGET_ONLY_SCORE = -100.0


def marian_tokenizer_json(folder: Path, check_lines: list[str] | None = None) -> Path:
    import sentencepiece as spm
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    folder = Path(folder)
    vocab: dict[str, int] = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    source = spm.SentencePieceProcessor(model_file=str(folder / "source.spm"))
    scores = {source.id_to_piece(i): source.get_score(i) for i in range(source.get_piece_size())}
    by_id = sorted(vocab.items(), key=lambda item: item[1])
    if [i for _, i in by_id] != list(range(len(by_id))):
        raise SystemExit("vocab.json : identifiants non contigus, conversion impossible")
    pieces = [(piece, scores.get(piece, TARGET_ONLY_SCORE)) for piece, _ in by_id]
    unk, eos = vocab["<unk>"], vocab["</s>"]
    tok = Tokenizer(models.Unigram(pieces, unk_id=unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Strip(left=False, right=True),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", eos)])
    tok.add_special_tokens([p for p in ("</s>", "<unk>", "<pad>") if p in vocab])
    out = folder / "tokenizer.json"
    tok.save(str(out))
    if check_lines:
        _check(source, vocab, Tokenizer.from_file(str(out)), check_lines)
    return out


def _check(source, vocab: dict[str, int], tok, lines: list[str]) -> None:
    """Same ids as MarianTokenizer would give (source pieces mapped through vocab.json)."""
    unk = vocab["<unk>"]
    same = sum(
        [vocab.get(p, unk) for p in source.encode(line, out_type=str)] + [vocab["</s>"]] == tok.encode(line).ids
        for line in lines
    )
    print(f"tokenizer.json vs sentencepiece : {same}/{len(lines)} lignes identiques")
    if len(lines) - same > len(lines) // 50:
        raise SystemExit("la conversion du tokenizer sentencepiece diverge")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sample = ["Madame, Monsieur, nous accusons réception de votre demande du 3 novembre.",
              "La taxe sur les déchets est perçue annuellement auprès de chaque ménage."]
    print(marian_tokenizer_json(Path(sys.argv[1]), sample))
