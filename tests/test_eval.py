"""`plume eval` on the tiny random model: it runs, measures what each task can have, shows « — »
for what it cannot, and writes a self-contained HTML page and JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, SAMPLES, TINY_MODELS


def plume_eval(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "plume", "eval", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=900, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory, samples):
    if not TINY_MODELS.exists():
        pytest.skip("tiny models not built")
    out = tmp_path_factory.mktemp("eval")
    done = plume_eval("--models", str(TINY_MODELS), "--model", "tiny-llm", "--tasks", "extract,triage,summarize",
                      "--data", str(SAMPLES), "--json", str(out / "eval.json"), "--html", str(out / "eval.html"))
    assert done.returncode == 0, done.stderr  # whatever the scores
    return done, json.loads((out / "eval.json").read_text()), (out / "eval.html").read_text()


def test_table_has_a_row_per_task_and_a_progress_bar(report):
    done, _, _ = report
    rows = [line.split() for line in done.stdout.splitlines()]
    assert [r[:2] for r in rows if r and r[0] in ("extract", "triage", "summarize")] == \
        [["extract", "tiny-llm"], ["triage", "tiny-llm"], ["summarize", "tiny-llm"]]
    assert "Évaluation [" in done.stderr and "3/3" in done.stderr


def test_metrics_a_task_cannot_have_are_absent_not_invented(report):
    done, data, _ = report
    triage, summary = data["tasks"]["triage"]["tiny-llm"], data["tasks"]["summarize"]["tiny-llm"]
    assert triage["items"] == len(list((SAMPLES / "emails").glob("*.eml")))
    # expected.toml gives the answers: agreement is measured on the items that got an answer. The tiny
    # random model often fails all of them; then it is absent, never a figure made up.
    if triage["errors"] < triage["items"]:
        assert triage["agree"] is not None and 0 <= triage["agree"] <= 1
    else:
        assert triage["agree"] is None
    assert triage["valid"] is not None and triage["kandel_moles_after"] is None and triage["tags"] is None
    assert summary["valid"] is None  # free text: no schema
    assert triage["tokens_per_s"] > 0 and triage["ttft_s"] > 0
    triage_row = next(line for line in done.stdout.splitlines() if line.startswith("triage"))
    assert "—" in triage_row


def test_grammar_counts_the_errors_in_the_french_plume_writes(report):
    """« fautes »: Grammalecte's new errors per text Plume wrote in French; « — » without Grammalecte."""
    from plume.language.grammar import CHECKER

    done, data, _ = report
    tasks = {task: by_model["tiny-llm"] for task, by_model in data["tasks"].items()}
    assert tasks["extract"]["grammar"] is None and tasks["triage"]["grammar"] is None  # no French prose
    summary = tasks["summarize"]
    row = next(line for line in done.stdout.splitlines() if line.startswith("summarize"))
    header = done.stdout.splitlines()[0]
    column = row[:header.index("fautes") + len("fautes")].split()[-1]  # cells are right-aligned
    if CHECKER.available() and summary["errors"] < summary["items"]:
        # The tiny model writes gibberish: Grammalecte must find errors in it, not merely run.
        assert isinstance(summary["grammar"], (int, float)) and summary["grammar"] > 0, summary
        assert column == f"{summary['grammar']:.1f}", row
    else:
        assert summary["grammar"] is None and column == "—", row


def test_grammar_counts_only_new_errors_and_is_not_measured_without_grammalecte(monkeypatch):
    import asyncio

    from plume import evaluation
    from plume.language import grammar

    if grammar.CHECKER.available():
        assert asyncio.run(evaluation._new_errors("Le chien dort.", "Les chien dorment.")) >= 1
        assert asyncio.run(evaluation._new_errors("Les chien dorment.", "Les chien dorment.")) == 0  # the source's own
    monkeypatch.setattr(grammar.CHECKER, "available", lambda: False)
    assert asyncio.run(evaluation._new_errors("Le chien dort.", "Le chien dors.")) is None  # not zero
    from plume.cli.eval import fmt

    assert fmt("grammar", None) == "—"


def test_html_report_is_self_contained_with_a_chart_per_task(report):
    _, _, page = report
    assert page.count("<svg") == 3
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    assert "<h2>extract</h2>" in page


def test_unknown_task_or_model_is_a_clear_error():
    done = plume_eval("--models", str(TINY_MODELS), "--tasks", "poésie")
    assert done.returncode == 2 and "Tâche inconnue" in done.stderr
    done = plume_eval("--models", str(TINY_MODELS), "--model", "absent", "--tasks", "triage")
    assert done.returncode == 2 and "absent" in done.stderr


def test_acknowledge_refusing_a_phishing_message_is_agreement_not_a_failure(samples):
    """Plume refuses to draft for a suspect message: for the sample flagged « suspect » that is the
    right answer. The other drafts agree when written in the sender's language. (Rules, no model.)"""
    import asyncio

    from plume.evaluation import _acknowledge

    async def run_all():
        return [await item(None) for item in _acknowledge(SAMPLES, REPO)]

    items = asyncio.run(run_all())
    assert len(items) == len(list((SAMPLES / "emails").glob("*.eml")))
    assert all(i["agree"] == (1, 1) for i in items), items
