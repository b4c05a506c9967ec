"""`plume models list | check | add`, run as IT runs them (a real subprocess)."""

from __future__ import annotations

import shutil

from tests.conftest import REPO, TINY_MODELS, plume_cli

TINY = TINY_MODELS.parent


def first_column(stdout: str) -> list[str]:
    return [line.split()[0] for line in stdout.splitlines() if line.strip()]


def test_list_prints_one_model_id_per_line_with_kind_tasks_and_state():
    out = plume_cli("models", "list", "--models", str(TINY_MODELS))
    assert first_column(out.stdout) == ["tiny-llm", "tiny-mt"]
    llm, mt = out.stdout.splitlines()
    assert llm.split()[1:] == ["decoder", "chat,plain-language,summarize,minutes,factsheet,extract,triage,acknowledge,translate",
                               "installé"]
    assert mt.split()[1:] == ["encoder-decoder", "translate", "installé"]


def test_list_shows_a_missing_model_as_absent(tmp_path):
    catalog = tmp_path / "models.toml"
    catalog.write_text(TINY_MODELS.read_text())
    shutil.copytree(TINY / "tiny-mt", tmp_path / "tiny-mt")
    out = plume_cli("models", "list", "--models", str(catalog))
    assert [line.split()[-1] for line in out.stdout.splitlines()] == ["absent", "installé"]


def test_production_catalog_lists_nothing_until_it_installs_models():
    out = plume_cli("models", "list", "--models", str(REPO / "onnx_models" / "models.toml"))
    assert out.returncode == 0
    assert out.stdout == ""
    assert "docs/models.md" in out.stderr


def test_check_loads_each_model_and_generates():
    out = plume_cli("models", "check", "--models", str(TINY_MODELS))
    assert out.returncode == 0, out.stdout + out.stderr
    assert [line.split()[:2] for line in out.stdout.splitlines()] == [["OK", "tiny-llm"], ["OK", "tiny-mt"]]
    assert "4 jetons" in out.stdout


def test_check_fails_on_a_broken_model_and_still_checks_the_others(tmp_path):
    catalog = tmp_path / "models.toml"
    catalog.write_text(TINY_MODELS.read_text())
    shutil.copytree(TINY / "tiny-llm", tmp_path / "tiny-llm")
    shutil.copytree(TINY / "tiny-mt", tmp_path / "tiny-mt")
    (tmp_path / "tiny-llm" / "model.onnx").write_bytes(b"\x00" * 64)
    out = plume_cli("models", "check", "--models", str(catalog), check=False)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0].startswith("ERREUR  tiny-llm")
    assert lines[1].startswith("OK      tiny-mt")
    assert "Traceback" not in out.stdout + out.stderr


def test_add_validates_the_folder_then_registers_it(tmp_path):
    catalog = tmp_path / "onnx_models" / "models.toml"
    catalog.parent.mkdir()
    catalog.write_text((REPO / "onnx_models" / "models.toml").read_text())
    folder = tmp_path / "onnx_models" / "opus-mt-fr-es"
    shutil.copytree(TINY / "tiny-mt", folder)
    out = plume_cli("models", "add", str(folder), "--id", "opus-mt-fr-es", "--kind", "encoder-decoder",
                    "--tasks", "translate", "--languages", "fr-es", "--models", str(catalog))
    assert "ajouté" in out.stdout
    assert 'path = "opus-mt-fr-es"' in catalog.read_text()  # relative to the catalog: the folder can move with it
    listed = plume_cli("models", "list", "--models", str(catalog))
    assert listed.stdout.split()[:4] == ["opus-mt-fr-es", "encoder-decoder", "translate", "installé"]
    assert plume_cli("models", "check", "--models", str(catalog)).returncode == 0

    again = plume_cli("models", "add", str(folder), "--id", "opus-mt-fr-es", "--kind", "encoder-decoder",
                      "--tasks", "translate", "--models", str(catalog), check=False)
    assert again.returncode == 1
    assert "existe déjà" in again.stderr


def test_add_refuses_a_folder_that_is_not_a_model(tmp_path):
    catalog = tmp_path / "models.toml"
    catalog.write_text(TINY_MODELS.read_text())
    before = catalog.read_text()
    folder = tmp_path / "half-copied"
    shutil.copytree(TINY / "tiny-llm", folder)
    (folder / "tokenizer.json").unlink()
    out = plume_cli("models", "add", str(folder), "--id", "half", "--kind", "decoder", "--tasks", "chat",
                    "--models", str(catalog), check=False)
    assert out.returncode == 1
    assert "fichier manquant : tokenizer.json" in out.stderr
    assert catalog.read_text() == before
