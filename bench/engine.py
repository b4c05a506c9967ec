"""Inference engine benchmarks. Each part prints ratios measured in the same run on this machine.

(a) decode tokens/s of Plume's GenAIEngine vs transformers + PyTorch `generate`, on the same random
    weights (~200 M parameters: memory-bound on decode), fp32 against fp32, and Plume's int4 export
    of those weights (what docs/models.md recommends on CPU) against the same PyTorch baseline;
(b) Plume's decode rate x bytes of weights read per token / the machine's memory bandwidth
    (measured here with numpy copies): how close decoding comes to the memory-bandwidth bound;
(c), (d) serving: see bench/serving.py (concurrency, HTTP overhead), run from here too;
(e) the reference model (scripts/reference-model.sh): onnxruntime-genai's og.Engine against
    Plume's BatchDecoder at 1, 4 and 8 concurrent requests (bench/batching.py);
(f) the reference model's decode tokens/s through Plume's GenAIEngine and, when `llama_cpp`
    (llama-cpp-python) is importable, through llama.cpp on the same GGUF, in the same run: the ratio.
    Same prompt text, greedy, token by token. `--variant NAME=FOLDER` adds another ONNX export of the
    same GGUF (e.g. one made with the builder's `--extra_options block_size=128`).

    .venv/bin/python bench/engine.py [--parts a,b,c,d,e,f] [--tokens 64] [--variant NAME=FOLDER]

The benchmark model is built once into ~/.cache/plume/bench-llm (or $PLUME_BENCH_DIR) by
onnx_models/build_tiny.py; the baseline (torch CPU, transformers) is installed into this venv if
missing. Nothing is asserted: speed is reported, never tested.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
sys.path.insert(0, str(REPO))
BENCH_DIR = Path(os.environ.get("PLUME_BENCH_DIR", Path.home() / ".cache" / "plume" / "bench-llm"))
PROMPT = [{"role": "user", "content": "Résumez le règlement communal sur la détention des chiens en trois phrases."}]


# --------------------------------------------------------------------------- setup


def ensure_baseline() -> None:
    """torch (the CPU build on disk) and transformers, for the baseline and the model builder."""
    try:
        import onnx_ir  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
        return
    except ImportError:
        pass
    pip = [sys.executable, "-m", "pip", "install", "-q", "-c", str(REPO / "constraints.txt")]
    subprocess.run([*pip, "torch==2.13.0"], check=True)  # first, pinned: the CPU build, not CUDA
    subprocess.run([*pip, "transformers", "onnx", "onnx-ir"], check=True)


def ensure_models() -> Path:
    if not (BENCH_DIR / "onnx" / "genai_config.json").exists():
        subprocess.run([sys.executable, str(REPO / "onnx_models" / "build_tiny.py"), "--bench-llm", str(BENCH_DIR)],
                       check=True)
    int4 = BENCH_DIR / "onnx-int4"
    if not (int4 / "genai_config.json").exists():
        subprocess.run([sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(BENCH_DIR / "hf"),
                        "-o", str(int4), "-p", "int4", "-e", "cpu", "-c", str(BENCH_DIR / "cache")], check=True)
    return BENCH_DIR


# --------------------------------------------------------------------------- (a) decode speed


def decode_rate(timestamps: list[float]) -> float:
    """Tokens per second after the first token (the prompt's prefill is not decoding)."""
    return (len(timestamps) - 1) / (timestamps[-1] - timestamps[0])


def plume_runner(folder: Path, tokens: int):
    """One measurement of Plume's decode rate per call."""
    from plume.inference.engine import CancelToken, GenerationParams
    from plume.inference.onnx_genai import GenAIEngine

    engine = GenAIEngine(folder, model_id=folder.name, providers=["cpu"])
    prompt = engine.format_chat(PROMPT)

    def measure() -> float:
        counts, stamps = [], []
        for chunk in engine.generate_batch([prompt], GenerationParams(max_new_tokens=tokens), [CancelToken()]):
            if chunk[0] is not None and chunk[0].tokens:
                stamps.append(time.perf_counter())
                counts.append(chunk[0].tokens)  # a chunk may hold several tokens (UTF-8 held back until whole)
        return (sum(counts) - counts[0]) / (stamps[-1] - stamps[0])  # after the first chunk: decoding only

    measure.prompt = prompt  # the exact text given to the peer, so that both decode the same tokens
    return measure


def torch_runner(folder: Path, tokens: int):
    """One measurement of transformers' decode rate per call: (time for N tokens - time for 1) / (N - 1)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    ids = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, return_tensors="pt", return_dict=True)

    def measure() -> float:
        timings = {}
        with torch.inference_mode():
            for n in (1, tokens):
                start = time.perf_counter()
                model.generate(**ids, max_new_tokens=n, min_new_tokens=n, do_sample=False)
                timings[n] = time.perf_counter() - start
        return (tokens - 1) / (timings[tokens] - timings[1])

    return measure


def part_a(results: dict, tokens: int, rounds: int = 4) -> None:
    ensure_baseline()
    folder = ensure_models()
    runners = {"torch": torch_runner(folder / "hf", tokens), "plume_fp32": plume_runner(folder / "onnx", tokens),
               "plume_int4": plume_runner(folder / "onnx-int4", tokens)}
    # Interleaved rounds, best of each: the machine is shared, so a busy moment hits every engine alike.
    for name, measure in runners.items():
        measure()  # warm-up
    bandwidth = results.setdefault("bandwidth", {"copy": 0.0, "read": 0.0})
    for _ in range(rounds):
        for name, measure in runners.items():
            results[name] = max(results.get(name, 0.0), measure())
        for kind, value in memory_bandwidth(repeats=2).items():  # in the same rounds, for (b)
            bandwidth[kind] = max(bandwidth[kind], value)
    print(f"(a) décodage, modèle aléatoire ~200 M paramètres, lot de 1, CPU ({os.cpu_count()} cœurs), "
          f"meilleur de {rounds} tours alternés :")
    print(f"    transformers + PyTorch generate (fp32) : {results['torch']:8.1f} jetons/s")
    print(f"    Plume GenAIEngine (fp32, mêmes poids)  : {results['plume_fp32']:8.1f} jetons/s"
          f"   ratio {results['plume_fp32'] / results['torch']:.2f}x")
    print(f"    Plume GenAIEngine (int4, mêmes poids)  : {results['plume_int4']:8.1f} jetons/s"
          f"   ratio {results['plume_int4'] / results['torch']:.2f}x")


# --------------------------------------------------------------------------- (b) bandwidth bound


def weight_bytes_per_token(folder: Path) -> int:
    """Bytes of weights one decoding step reads: every initializer except the embedding table (one
    row is gathered) and the rotary cos/sin caches (one row each)."""
    import onnx
    from onnx.external_data_helper import uses_external_data

    model = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    total = 0
    for init in model.graph.initializer:
        if "embed_tokens" in init.name or init.name in ("cos_cache", "sin_cache"):
            continue
        if uses_external_data(init):
            total += int(next(e.value for e in init.external_data if e.key == "length"))
        else:
            total += len(init.raw_data) or onnx.numpy_helper.to_array(init).nbytes
    return total


def memory_bandwidth(megabytes: int = 512, repeats: int = 7) -> dict[str, float]:
    """Bytes/s of this machine's memory, best of several runs on one thread and on all:
    "copy": large numpy copies, bytes read + bytes written;
    "read": a float32 matrix-vector product over the array (what a decoding step does to weights)."""
    import numpy as np

    src = np.ones(megabytes * 2**20 // 4, dtype=np.float32)
    dst = np.zeros_like(src)  # touched, so no page faults are timed
    matrix, vector = src.reshape(-1, 1024), np.ones(1024, dtype=np.float32)
    kernels = {"copy": (lambda a, b: np.copyto(dst[a:b], src[a:b]), 2 * src.nbytes),
               "read": (lambda a, b: matrix[a // 1024:b // 1024] @ vector, src.nbytes)}
    best = {}
    for name, (kernel, moved) in kernels.items():
        best[name] = 0.0
        for workers in sorted({1, os.cpu_count() or 1}):
            edges = np.linspace(0, src.size // 1024, workers + 1).astype(int) * 1024
            for _ in range(repeats):
                jobs = [threading.Thread(target=kernel, args=(a, b)) for a, b in zip(edges[:-1], edges[1:])]
                start = time.perf_counter()
                for job in jobs:
                    job.start()
                for job in jobs:
                    job.join()
                best[name] = max(best[name], moved / (time.perf_counter() - start))
    return best


def part_b(results: dict, tokens: int) -> None:
    if "plume_fp32" not in results:
        part_a(results, tokens)
    bandwidth = results["bandwidth"]
    print(f"(b) bande passante mémoire mesurée : copie numpy {bandwidth['copy'] / 1e9:.1f} Go/s (lecture + écriture), "
          f"lecture matrice-vecteur {bandwidth['read'] / 1e9:.1f} Go/s ; charge {os.getloadavg()[0]:.1f}")
    for label, key, sub in (("fp32", "plume_fp32", "onnx"), ("int4", "plume_int4", "onnx-int4")):
        per_token = weight_bytes_per_token(BENCH_DIR / sub)
        rate = results[key]
        print(f"    {label}: {per_token / 1e6:6.1f} Mo de poids lus par jeton, {rate:5.1f} jetons/s -> "
              f"{rate * per_token / 1e9:5.1f} Go/s = {rate * per_token / bandwidth['copy']:.0%} de la copie, "
              f"{rate * per_token / bandwidth['read']:.0%} de la lecture")


# --------------------------------------------------------------------------- (c), (d) serving


def part_c(results: dict, tokens: int) -> None:
    from bench.serving import report_c

    report_c()


def part_d(results: dict, tokens: int) -> None:
    from bench.serving import report_d

    report_d()


# --------------------------------------------------------------------------- (e), (f) the reference model


def reference_model() -> tuple[Path, Path]:
    """(ONNX folder, GGUF file) of the reference model, installed by scripts/reference-model.sh."""
    out = subprocess.run(["bash", str(REPO / "scripts" / "reference-model.sh")], capture_output=True, text=True,
                         check=True)
    catalog = Path(out.stdout.strip().splitlines()[-1])
    return catalog.parent / "qwen2.5-coder-1.5b", next(catalog.parent.glob("*.gguf"))


def part_e(results: dict, tokens: int) -> None:
    from bench.batching import measure

    folder, _ = reference_model()
    print("(e) requêtes simultanées, modèle de référence : og.Engine contre BatchDecoder")
    measure(folder, [1, 4, 8], 128)  # long enough that decoding, not only the prompts, is measured


def llama_cpp_runner(gguf: Path, prompt: str, tokens: int):
    """llama.cpp on the GGUF the ONNX export was made from, given the same prompt text (chat template
    applied by Plume) and stepped token by token, greedy, so both sides decode the same tokens."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=os.cpu_count(), verbose=False)
    ids = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def measure() -> float:
        stamps = []
        for token in llm.generate(ids, temp=0.0, reset=True):
            stamps.append(time.perf_counter())
            if len(stamps) == tokens or token == llm.token_eos():
                break
        return decode_rate(stamps)

    return measure


def part_f(results: dict, tokens: int, rounds: int = 3) -> None:
    folder, gguf = reference_model()
    runners = {"plume": plume_runner(folder, tokens)}
    for label, variant in results.get("variants", {}).items():  # other exports of the same GGUF
        runners[f"plume {label}"] = plume_runner(variant, tokens)
    try:
        runners["llama.cpp"] = llama_cpp_runner(gguf, runners["plume"].prompt, tokens)
    except ImportError:
        print("    (llama_cpp absent : pip install llama-cpp-python, compilé avec GGML_NATIVE=OFF et les trois "
              "options GGML_AMX_* à OFF sur ces processeurs)")
    for measure in runners.values():
        measure()  # warm-up
    best = {name: 0.0 for name in runners}
    for _ in range(rounds):  # interleaved: a busy moment of the shared machine hits both alike
        for name, measure in runners.items():
            best[name] = max(best[name], measure())
    print(f"(f) décodage du modèle de référence (Qwen2.5-Coder-1.5B, int4/Q4_K_M), lot de 1, {os.cpu_count()} cœurs, "
          f"{tokens} jetons, meilleur de {rounds} tours :")
    for name, rate in best.items():
        print(f"    {name:16s} {rate:6.1f} jetons/s")
    if "llama.cpp" in best:
        for name in (n for n in best if n.startswith("plume")):
            print(f"    ratio {name} / llama.cpp : {best[name] / best['llama.cpp']:.2f}")


PARTS = {"a": part_a, "b": part_b, "c": part_c, "d": part_d, "e": part_e, "f": part_f}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="a,b,c,d", help="parties à mesurer (a,b,c,d)")
    parser.add_argument("--tokens", type=int, default=64, help="jetons générés par mesure")
    parser.add_argument("--variant", action="append", default=[], metavar="NOM=DOSSIER",
                        help="(f) un autre export ONNX du même GGUF à mesurer aussi (p. ex. block_size=128)")
    args = parser.parse_args(argv)
    results: dict = {"variants": {k: Path(v) for k, v in (item.split("=", 1) for item in args.variant)}}
    for name in args.parts.split(","):
        PARTS[name.strip()](results, args.tokens)
    return 0


if __name__ == "__main__":
    sys.exit(main())
