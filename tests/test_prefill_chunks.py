"""onnxruntime-genai holds the GIL while it reads a prompt, so Plume feeds it in chunks of
PREFILL_CHUNK tokens (one long prefill stopped /health for seconds). The answer must be the very
one a single prefill gives: checked against plain onnxruntime fed the whole prompt at once."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer

from plume.inference.catalog import create_engine, load_catalog
from plume.inference.onnx_genai import PREFILL_CHUNK
from tests.test_engines import CATALOG, SOURCE_TEXT, TINY, reference_greedy, run


@pytest.mark.skipif(not CATALOG.exists(), reason="tiny models not built")
def test_a_prompt_read_in_chunks_gives_the_single_prefill_answer():
    llm = create_engine(load_catalog(CATALOG).get("tiny-llm"))
    prompt = llm.format_chat([{"role": "user", "content": " ".join([SOURCE_TEXT] * 18)}])
    prompt_ids = llm.encode(prompt)
    assert len(prompt_ids) > 4 * PREFILL_CHUNK and len(prompt_ids) % PREFILL_CHUNK  # several chunks, a partial last
    text, tokens = run(llm, prompt, max_new_tokens=16)
    expected = reference_greedy(TINY / "tiny-llm", prompt_ids, 16)
    assert tokens == len(expected)
    assert text == Tokenizer.from_file(str(TINY / "tiny-llm" / "tokenizer.json")).decode(expected)
