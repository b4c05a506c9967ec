"""Hostile letter models over real HTTP: no upload or render holds the server, each is refused with a
French 4xx naming the cause, /health answers in under a second meanwhile, memory stays bounded.

The inputs are the ones an outside probe found (issue 10): a .docx whose XML patching is quadratic,
nested `range(6000)` loops behind an `{% if %}` (in the letter and in the file-name pattern), a
10 GB string, a money value 1e30, Babel and %-format patterns that used to answer 500.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
from docx import Document

from tests.conftest import start_modelless, start_server

LOOPS = "{% for a in range(6000) %}{% for b in range(6000) %}x{% endfor %}{% endfor %}"


def _docx(*paragraphs: str) -> bytes:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _manifest(template_id: str, output: str = "", extra: str = "") -> bytes:
    return (f'id = "{template_id}"\ntitle = "Essai"\noutput = """{output}"""\n'
            '[[fields]]\nname = "nom"\ntype = "text"\nexample = "Dupont"\n'
            '[[fields]]\nname = "grand"\ntype = "bool"\nexample = false\n' + extra).encode()


def _upload(client, template_id: str, model: bytes, manifest: bytes):
    return client.put(f"/v1/templates/{template_id}", files={
        "file": ("model.docx", model, "application/octet-stream"),
        "manifest": ("template.toml", manifest, "application/toml")})


def _vm_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class HealthWatch:
    """Polls /health in a thread while a hostile request runs: the slowest answer, in seconds."""

    def __init__(self, server) -> None:
        self.server, self.slowest, self.count = server, 0.0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.server.client(role=None, timeout=30) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                assert client.get("/health").status_code == 200
                self.slowest = max(self.slowest, time.monotonic() - started)
                self.count += 1
                time.sleep(0.05)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(35)


@pytest.fixture(scope="module")
def budget_server(tmp_path_factory):
    # A short prepare budget so the quadratic upload is cut quickly; the render budget stays default.
    server = start_modelless(tmp_path_factory.mktemp("budget"), PLUME_TEMPLATE_PREPARE_TIMEOUT_S="3")
    yield server
    server.stop()


def _french(problem: dict) -> str:
    detail = problem["detail"]
    assert any(ch in detail for ch in "éèàêç«»'"), detail
    return detail


def test_quadratic_upload_is_cut_and_health_keeps_answering(budget_server):
    hostile = _docx("{{ nom }} {% if grand %}oui{% endif %}", *["{# {{ #}"] * 4000)
    assert len(hostile) < 60_000
    with budget_server.client("template-owner") as owner, HealthWatch(budget_server) as watch:
        started = time.monotonic()
        response = _upload(owner, "lent", hostile, _manifest("lent"))
        elapsed = time.monotonic() - started
    assert response.status_code in (413, 422), response.text
    assert "temps autorisé (3 s)" in _french(response.json())
    assert elapsed < 20
    assert watch.count >= 5 and watch.slowest < 1.0, (watch.count, watch.slowest)
    with budget_server.client() as client:  # nothing was stored
        assert client.get("/v1/templates/lent").status_code == 404


@pytest.mark.parametrize("where", ["letter", "output"])
def test_nested_ranges_behind_an_if_are_refused_at_render(budget_server, where):
    template_id = f"boucles-{where}"
    body = "{{ nom }} {% if grand %}" + (LOOPS if where == "letter" else "") + "{% endif %}"
    output = "lettre-{% if grand %}" + LOOPS + "{% endif %}" if where == "output" else ""
    with budget_server.client("template-owner") as owner:
        uploaded = _upload(owner, template_id, _docx(body), _manifest(template_id, output))
        assert uploaded.status_code == 201, uploaded.text  # the examples take the short branch
    with budget_server.client() as client:
        fine = client.post(f"/v1/templates/{template_id}/render", json={"values": {"nom": "A", "grand": False}})
        assert fine.status_code == 200
        with HealthWatch(budget_server) as watch:
            response = client.post(f"/v1/templates/{template_id}/render",
                                    json={"values": {"nom": "A", "grand": True}})
    assert response.status_code == 422, response.text
    assert "boucle" in _french(response.json())
    assert watch.slowest < 1.0


@pytest.mark.parametrize("expression, status, words", [
    ("{{ 'a' * 10**10 }}", 413, "trop grand"),
    ("{{ '%0999999999999d' % 1 }}", 422, "largeur de format"),
    ('{{ today|date("zzzz") }}', 422, "rempli"),
    ("{% for i in range(64) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x }}", 413, "trop grand"),
])
def test_growth_and_bad_patterns_are_a_french_4xx_and_memory_stays_bounded(budget_server, expression, status, words):
    template_id = f"croissance-{abs(hash(expression)) % 10**6}"
    with budget_server.client("template-owner") as owner:
        uploaded = _upload(owner, template_id, _docx("{% set ns = namespace(x='a') %}{{ nom }} {% if grand %}" + expression
                                                 + "{% endif %}"),
                           _manifest(template_id))
        assert uploaded.status_code == 201, uploaded.text
    before = _vm_rss_kb(budget_server.process.pid)
    with budget_server.client() as client, HealthWatch(budget_server) as watch:
        response = client.post(f"/v1/templates/{template_id}/render", json={"values": {"nom": "A", "grand": True}})
    assert response.status_code == status, response.text
    assert words in _french(response.json())
    assert watch.slowest < 1.0
    assert _vm_rss_kb(budget_server.process.pid) - before < 200_000  # kB: not the 10 GB the string would take


def test_the_same_patterns_are_caught_by_the_upload_lint(budget_server):
    """Taken by the examples, the bad pattern is a finding at upload, not a 500 later."""
    with budget_server.client("template-owner") as owner:
        response = _upload(owner, "motif-date", _docx('{{ nom }} {{ today|date("zzzz") }} {{ grand }}'),
                           _manifest("motif-date"))
    assert response.status_code == 422
    assert response.json()["findings"]


@pytest.mark.parametrize("value", [1e30, "1e30", "NaN", "inf", "-Infinity", 10**40, "1" * 400])
def test_absurd_money_is_a_422_naming_the_field(budget_server, value):
    with budget_server.client() as client:
        info = client.get("/v1/templates/relance-facture").json()
        money, label = next((f["name"], f["label"]) for f in info["fields"] if f["type"] == "money")
        values = {f["name"]: f["example"] for f in info["fields"] if f.get("example") is not None}
        response = client.post("/v1/templates/relance-facture/render", json={"values": {**values, money: value}})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == [money]
    # The clerk reads the detail: it names the field as the form shows it, and says what is wrong.
    detail = _french(problem)
    assert f"« {label} »" in detail and f"« {money} »" in detail, detail
    assert "montant est attendu" in detail or "trop grand" in detail, detail
    assert f"« {label} »" in problem["errors"][0]["message"]


def test_a_hostile_model_dropped_on_disk_is_prepared_in_the_background(tmp_path):
    """The library notices a new folder while serving: preparing it must not hold /health or the
    template list, and the model is reported invalid once its budget is spent."""
    library = tmp_path / "modeles"
    (library / "lent").mkdir(parents=True)
    server = start_server(tmp_path, "--templates", str(library), "--models", str(tmp_path / "none.toml"),
                          env={"PLUME_TEMPLATE_PREPARE_TIMEOUT_S": "3"})
    try:
        (library / "lent" / "model.docx").write_bytes(_docx("{{ nom }} {{ grand }}", *["{# {{ #}"] * 4000))
        (library / "lent" / "template.toml").write_bytes(_manifest("lent"))
        deadline = time.monotonic() + 30
        with server.client() as client, HealthWatch(server) as watch:
            while time.monotonic() < deadline:
                started = time.monotonic()
                assert client.get("/v1/templates").status_code == 200
                assert time.monotonic() - started < 1.0
                if "lent" in server.health()["templates"]["invalid"]:
                    break
                time.sleep(0.2)
        assert "lent" in server.health()["templates"]["invalid"]
        assert watch.slowest < 1.0
    finally:
        server.stop()


def test_an_output_pattern_over_budget_with_the_examples_is_refused_at_upload(modelless_server):
    # The default prepare budget: with budget_server's 3 s, a loaded machine may spend it before the
    # pattern's own loop budget, and the refusal would then name the time, not the pattern.
    with modelless_server.client("template-owner") as owner:
        response = _upload(owner, "motif-lent", _docx("{{ nom }} {{ grand }}"),
                           _manifest("motif-lent", output="{% if not grand %}" + LOOPS + "{% endif %}"))
    assert response.status_code == 422
    assert any("motif « output »" in f["message"] and "boucle" in f["message"] for f in response.json()["findings"])
