"""The real-model tier: a real instruction model (the reference model of scripts/reference-model.sh,
Qwen2.5-Coder-1.5B-Instruct int4) through the real HTTP server, every writing task once with
`engine: "model"` on the repo's samples.

It asserts what any real model must get right whatever its size: answers valid against their
schema, streamed text equal to the plain answer (temperature 0), a stop at the end of the turn (no
chat-template tokens in the text), the figures of the source kept where the task promises it, and a
generation that stops when the client goes away. It does not judge style: the reference model is a
pipeline reference, not a quality one (docs/models.md).

The model comes from $PLUME_REFERENCE_CATALOG (scripts/test.sh sets it) or, when that is unset, from
scripts/reference-model.sh run here (from its cache when present). The tier is skipped only when
PLUME_REALMODEL=0 says so: a missing model is an error, not a skip. Generation lengths are kept
small; on two CPU cores the tier takes about ten minutes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import warnings
from pathlib import Path

import msgspec
import pytest
from httpx_sse import connect_sse

from tests.conftest import REPO, SAMPLES, plume_cli, start_server

pytestmark = [pytest.mark.realmodel, pytest.mark.timeout(1800)]

MODEL = "qwen2.5-coder-1.5b"
DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")
TEMPLATE_TOKENS = re.compile(r"<\|[a-z_]+\|>|<<<(?:DONNEES|FIN)-")


def reference_catalog() -> Path:
    if os.environ.get("PLUME_REALMODEL", "1").lower() in ("0", "no", "off", "false"):
        pytest.skip("real-model tier disabled (PLUME_REALMODEL=0)")
    given = os.environ.get("PLUME_REFERENCE_CATALOG")
    if given:
        return Path(given)
    done = subprocess.run(["bash", str(REPO / "scripts" / "reference-model.sh")], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, f"scripts/reference-model.sh failed:\n{done.stderr[-3000:]}"
    return Path(done.stdout.strip().splitlines()[-1])


# The search corpus, for answers from the commune's documents: one embedder keeps indexing short, and the
# answer route's threshold is set for it (tests/test_search_answer.py).
SEARCH_CONFIG = 'search_embedders = ["use-multilingual-v3"]\nsearch_answer_min_score = 0.9\n'


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    catalog = reference_catalog()
    tmp = tmp_path_factory.mktemp("realmodel")
    shutil.copytree(REPO / "tests" / "data" / "search", tmp / "docs")
    (tmp / "plume.toml").write_text(SEARCH_CONFIG, encoding="utf-8")
    collections = str(tmp / "docs" / "collections.toml")
    plume_cli("search", "index", "--collections", collections, "--config", str(tmp / "plume.toml"), "--quiet",
              data=tmp / "data")
    server = start_server(tmp, "--models", str(catalog), "--collections", collections, "--config",
                          str(tmp / "plume.toml"), env={"PLUME_REQUEST_TIMEOUT_S": "1500"})
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status = server.health()["models"]["models"][MODEL]["status"]
            if status != "loading":
                break
            time.sleep(0.5)
        assert status == "ready", server.log.read_text()[-2000:]
        yield server
    finally:
        server.stop()


def sample(path: str) -> str:
    return (SAMPLES / path).read_text(encoding="utf-8")


def post(server, route: str, body: dict, timeout: float = 1500) -> dict:
    """The route's answer; asked a second time, as the 502 tells the clerk to, when the model's answers
    were refused twice. Each request fences its data with a new random tag, so the prompt and the
    answer differ from one request to the next: with the schemas' keys left open, the extraction was
    refused 4 times in 20 identical requests (2026-12-01); with closed schemas 0 in 10. Said in the
    warnings summary, so that a run that needed the second request is seen."""
    with server.client("user", timeout=timeout) as client:
        answer = client.post(route, json={**body, "engine": "model"})
        if answer.status_code == 502 and answer.json().get("type", "").endswith("invalid-model-output"):
            warnings.warn(f"{route}: the model's answers were refused twice; asked again", stacklevel=2)
            answer = client.post(route, json={**body, "engine": "model"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def clean(text: str) -> None:
    """The model stopped at its end-of-turn token: nothing of the chat template or of Plume's data
    fences leaks into what the clerk gets."""
    assert text.strip()
    assert not TEMPLATE_TOKENS.search(text), text


def digits(text: str) -> set[str]:
    """The numbers written in a text (thousands separators dropped): 1'250'000 → 1250000."""
    return set(re.findall(r"\d+", re.sub(r"(?<=\d)['’\u202f ,.](?=\d{3}\b)", "", text)))


# -- structured answers ---------------------------------------------------------------------------------------


def test_extract_fills_fields_with_passages_of_the_note(real):
    from plume.tasks.extract import Extraction

    note = sample("cases/01-attestation.txt")
    got = msgspec.convert(post(real, "/v1/templates/attestation-domicile/extract", {"text": note}), Extraction)
    assert got.engine == f"rules+{MODEL}"  # the rules left fields open: the model was asked
    for name, value in got.values.items():
        if isinstance(value, str) and name in got.uncertain:
            folded = " ".join(re.sub(r"[^\w@.'’-]+", " ", value.casefold()).split())
            assert folded in " ".join(re.sub(r"[^\w@.'’-]+", " ", note.casefold()).split()), (name, value)


def test_triage_classifies_within_the_rules_and_explains_the_result(real):
    from plume.tasks.triage import TriageResult

    got = msgspec.convert(post(real, "/v1/mail/triage", {"eml": sample("emails/03-reclamation-dechets.eml")}),
                          TriageResult)
    clean(got.summary)
    assert any(MODEL in reason for reason in got.reasons)
    # The reasons name the service and category shown, never a different one.
    for kind, shown in (("service", got.service), ("catégorie", got.category)):
        named = [r for r in got.reasons if r.startswith(f"{kind} ")]
        assert named and all(f"« {shown} »" in r.split("(")[0] for r in named), got.reasons


def test_acknowledge_keeps_the_deadline_and_reference_facts(real):
    got = post(real, "/v1/mail/acknowledge", {"eml": sample("emails/04-permis-construire.eml")})
    clean(got["text"])
    assert MODEL in got["engine"]


def test_factsheet_statements_cite_articles_of_the_regulation(real):
    from plume.tasks.factsheet import FactSheet, sentences

    regulation = sample("regulations/01-reglement-chiens.txt")
    got = post(real, "/v1/text/factsheet", {"text": regulation})
    assert got["engine"] == MODEL
    clean(got["text"])
    sheet = msgspec.convert(got["sheet"], FactSheet)
    refs = {ref for _, ref in sentences(sheet.articles)} | {f"art. {a.number}" for a in sheet.articles}
    statements = [s for group in (sheet.what, sheet.who, sheet.amounts, sheet.deadlines, sheet.how_to,
                                  sheet.contact) for s in group]
    assert statements
    for statement in statements:
        clean(statement.text)
        assert statement.reference in refs, statement  # cites the regulation, never an invented article
    for statement in sheet.amounts:  # an amount stated must be one of the regulation's
        assert digits(statement.text) <= digits(regulation), statement


def test_minutes_keep_the_votes_and_write_discussions(real):
    notes = sample("notes/01-conseil-general-notes.txt")
    got = post(real, "/v1/text/minutes", {"text": notes})
    assert got["engine"] == MODEL
    clean(got["text"])
    minutes = got["minutes"]
    votes = [item["vote"] for item in minutes["items"] if item.get("vote")]
    assert {(v.get("yes"), v.get("no"), v.get("abstentions")) for v in votes} >= {(31, 4, 2), (29, 6, 2)}
    discussions = [item["discussion"] for item in minutes["items"] if item.get("discussion")]
    assert discussions
    for text in discussions:
        clean(text)


# -- free text --------------------------------------------------------------------------------------------------


def test_summary_keeps_the_figures_it_promises(real):
    regulation = sample("regulations/01-reglement-chiens.txt")
    got = post(real, "/v1/text/summarize", {"text": regulation, "length": "short"})
    clean(got["text"])
    assert got["engine"] == MODEL
    assert digits(got["text"]) <= digits(regulation), got["text"]  # no figure made up


def test_plain_language_rewrite_is_easier_or_refused(real):
    text = sample("texts/02-permis-stationnement.txt")
    with real.client("user", timeout=1500) as client:
        answer = client.post("/v1/text/plain-language", json={"text": text, "level": "B1", "engine": "model"})
    # A weak model may fail to simplify: then the clerk gets a clear refusal, never the same text.
    assert answer.status_code in (200, 502), answer.text
    if answer.status_code == 502:
        assert "second essai" in answer.json()["detail"]
        return
    got = answer.json()
    clean(got["text"])
    assert got["after"]["kandel_moles"] > got["before"]["kandel_moles"] or \
        got["after"]["words_per_sentence"] < got["before"]["words_per_sentence"]
    assert not got["missing"] or got["warnings"]


def test_translation_fr_en_keeps_numbers_and_dates(real):
    text = "La séance du 16.11.2026 a accepté un crédit de CHF 1'250'000 par 31 voix contre 4."
    got = post(real, "/v1/text/translate", {"text": text, "source": "fr", "target": "en"})
    clean(got["text"])
    assert got["engine"] == MODEL
    # Amounts and counts stay as they are; a date may be written the English way (November 16,
    # 2026), so of a date only its day and year must be there.
    assert digits(re.sub(DATE, "", text)) | {"16", "2026"} <= digits(got["text"]), got["text"]


# -- answers from the commune's documents -------------------------------------------------------------------------


def test_an_answer_from_the_documents_cites_passages_that_state_what_it_says(real):
    from plume.language.citations import check_answer, split_sentences

    got = post(real, "/v1/search/answer", {"query": "Combien coûte la taxe annuelle pour un chien ?"})
    assert got["kind"] == "answer" and got["engine"] == "model" and got["model"] == MODEL, got
    clean(got["answer"])
    hits = got["citations"]
    sentences = split_sentences(got["answer"])
    assert sentences and all(s.citations and all(1 <= n <= len(hits) for n in s.citations) for s in sentences)
    # Checked again here, on what came over the wire: every figure is in a passage its sentence cites.
    passages = [f"{h['reference']}\n{h['heading']}\n{h['text']}" for h in hits]
    assert not check_answer(sentences, passages).problems, got["answer"]
    cited = {hits[n - 1]["locator"] for s in sentences for n in s.citations}
    assert "art. 11" in cited, (got["answer"], cited)  # the article that states the tax
    assert digits(got["answer"]) - {str(n) for n in range(1, len(hits) + 1)} <= digits(" ".join(passages))


# -- chat completions ---------------------------------------------------------------------------------------------

CHAT = {"model": MODEL, "temperature": 0, "max_tokens": 40,
        "messages": [{"role": "system", "content": "Tu es l'assistant de la commune du Locle. Réponds en français."},
                     {"role": "user", "content": "En une phrase : à quoi sert une attestation de domicile ?"}]}


def test_chat_streamed_equals_plain_and_stops_at_end_of_turn(real):
    with real.client("user", timeout=600) as client:
        plain = client.post("/v1/chat/completions", json=CHAT)
        assert plain.status_code == 200, plain.text
        with connect_sse(client, "POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as source:
            assert source.response.status_code == 200
            events = [event.data for event in source.iter_sse()]
    choice = plain.json()["choices"][0]
    clean(choice["message"]["content"])
    assert events[-1] == "[DONE]"
    streamed = "".join(msgspec.json.decode(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1]
                       if msgspec.json.decode(e).get("choices"))
    assert streamed == choice["message"]["content"]
    assert plain.json()["usage"]["completion_tokens"] <= CHAT["max_tokens"]


def test_chat_stops_by_itself_when_the_answer_is_done(real):
    body = {**CHAT, "max_tokens": 200,
            "messages": [{"role": "user", "content": "Réponds seulement « oui » ou « non » : Le Locle est-il en Suisse ?"}]}
    with real.client("user", timeout=600) as client:
        answer = client.post("/v1/chat/completions", json=body).json()
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "stop"  # the end-of-turn token, long before max_tokens
    assert answer["usage"]["completion_tokens"] < 50
    clean(choice["message"]["content"])


def test_client_disconnect_stops_the_real_generation(real):
    def generated() -> float:
        with real.client("admin") as admin:
            found = re.search(rf'^plume_tokens_generated_total\{{model="{re.escape(MODEL)}"\}} (\S+)$',
                              admin.get("/metrics").text, re.M)
        return float(found.group(1)) if found else 0.0

    body = {**CHAT, "max_tokens": 400, "stream": True,
            "messages": [{"role": "user", "content": "Écris un long rapport sur l'histoire de l'horlogerie au Locle."}]}
    before = generated()
    with real.client("user", timeout=600) as client, client.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        for i, _line in enumerate(response.iter_lines()):
            if i > 6:
                break  # leaving the block closes the connection mid-answer
    time.sleep(3)
    stopped_at = generated()
    time.sleep(3)
    assert generated() == stopped_at
    assert stopped_at - before < 100
    assert real.health()["models"]["admitted"] == 0
