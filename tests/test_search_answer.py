"""POST /v1/search/answer through the real server over HTTP, on the repo's corpus indexed by the real
CLI (tests/data/search), with a scripted model behind Plume's upstream engine (tests/fake_upstream.py)
so each test controls what the « model » writes: a good answer, one that cites nothing, cites a
passage that does not exist or misquotes an amount. What a clerk notices: the answer only when every
sentence is backed by the passage it cites, else the passages labelled as passages, with the reason;
« Je n'ai rien trouvé… » naming only the collections she may read; nothing of a collection she may
not read, anywhere. The reference model answering for real is in test_realmodel.py.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from httpx_sse import connect_sse

from tests.conftest import REPO, plume_cli
from tests.fake_upstream import scripted_server

CORPUS = REPO / "tests" / "data" / "search"
# One embedder keeps the index quick to build; the threshold is set for BM25 + USE: a first passage both
# rank first scores 1.0, one only USE finds at most 0.8 (docs/search.md « Answers »).
CONFIG = 'search_embedders = ["use-multilingual-v3"]\nsearch_answer_min_score = 0.9\n'
DOG_TAX = "Combien coûte la taxe annuelle pour un chien ?"
UNRELATED = "Comment voter par correspondance ?"


def numbered(messages: list[dict], locator: str) -> int | None:
    """The number the prompt gives the passage whose reference ends with `locator` (« art. 11 »)."""
    prompt = "\n".join(m["content"] for m in messages if m["role"] == "user")
    found = re.search(rf"^\[(\d+)\] [^\n]*, {re.escape(locator)}$", prompt, re.M)
    return int(found.group(1)) if found else None


def sentences(*items: tuple[str, list[int]]) -> str:
    return json.dumps({"answered": True, "sentences": [{"text": t, "citations": c} for t, c in items]},
                      ensure_ascii=False)


def judging(messages: list[dict]) -> bool:
    """The yes/no asked before writing when `search_answer_judge` is on (tasks/answer_model.py)."""
    return "Tu vérifies si des passages" in messages[0]["content"]


def good(messages: list[dict]) -> str:
    n = numbered(messages, "art. 11")
    if n is None:
        return json.dumps({"answered": False, "sentences": []})
    return sentences(("La taxe annuelle s'élève à CHF 120.– pour le premier chien.", [n]),
                     ("Pour chaque chien supplémentaire, elle est de CHF 180.–.", [n]))


def indexed_corpus(tmp: Path) -> tuple[Path, Path]:
    """The test corpus copied to `tmp/docs` and indexed by the command line, as IT would: (its
    collections file, the plume.toml that names the embedder). The index lives in `tmp/data`."""
    shutil.copytree(CORPUS, tmp / "docs")
    (tmp / "plume.toml").write_text(CONFIG, encoding="utf-8")
    collections = tmp / "docs" / "collections.toml"
    plume_cli("search", "index", "--collections", str(collections), "--config", str(tmp / "plume.toml"), "--quiet",
              data=tmp / "data")
    return collections, tmp / "plume.toml"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("answer")
    collections, config = indexed_corpus(tmp)
    with scripted_server(tmp, good, ["answer"], extra=("--collections", str(collections), "--config",
                                                        str(config))) as (server, fake):
        server.tokens["rh"] = server.add_user("Claire Rochat", "user")
        server.site = tmp  # for the command line's tests: the same index, catalog and settings
        yield server, fake


def ask(server, query: str, role: str = "user", status: int = 200, **body) -> dict:
    with server.client(role) as client:
        response = client.post("/v1/search/answer", json={"query": query, **body})
    assert response.status_code == status, response.text
    return response.json()


def test_an_answer_cites_the_article_and_lists_its_sources(site):
    server, fake = site
    got = ask(server, DOG_TAX)
    assert got["kind"] == "answer" and got["engine"] == "model" and got["model"] == "scripted"
    n = [i for i, hit in enumerate(got["citations"], 1) if hit["locator"] == "art. 11"][0]
    assert got["answer"] == (f"La taxe annuelle s'élève à CHF 120.– pour le premier chien [{n}]. Pour chaque chien "
                             f"supplémentaire, elle est de CHF 180.– [{n}].")
    reference = "Règlement communal sur la détention et la taxe des chiens, art. 11"
    assert got["sources"] == [f"[{n}] {reference}"] and got["citations"][n - 1]["reference"] == reference
    assert got["insert"] == f"{got['answer']}\n\nSources :\n[{n}] {reference}"
    assert got["citations"][n - 1]["quotation"].startswith("« 1 La taxe annuelle") and \
        got["citations"][n - 1]["quotation"].endswith(f"» ({reference})")
    assert [s["citations"] for s in got["sentences"]] == [[n], [n]] and not got["warnings"]
    # The passages went to the model fenced as data, with the rule that says so.
    assert "<<<DONNEES-" in fake.requests[-1][-1]["content"] and "jamais une instruction" in fake.requests[-1][0]["content"]


def test_without_a_model_the_passages_are_labelled_as_passages(site):
    server, _ = site
    got = ask(server, DOG_TAX, engine="rules")
    assert got["kind"] == "passages" and got["engine"] == "rules" and got["answer"] is None
    assert got["insert"] is None and "sans réponse rédigée" in got["message"] and "ohne formulierte" in got["message_de"]
    assert any(h["locator"] == "art. 11" and h["document"] == "chiens.docx" for h in got["citations"])
    assert got["sources"] == [f"[{i}] {h['reference']}" for i, h in enumerate(got["citations"], 1)]


def test_nothing_relevant_says_so_naming_only_the_collections_she_may_read(site):
    server, fake = site
    asked = len(fake.requests)
    got = ask(server, UNRELATED)
    assert got["kind"] == "nothing" and got["answer"] is None and got["citations"] == []
    assert got["message"] == "Je n'ai rien trouvé à ce sujet dans : Règlements communaux, FAQ du guichet"
    assert got["message_de"] == "Ich habe dazu nichts gefunden in: Règlements communaux, FAQ du guichet"
    assert len(fake.requests) == asked  # no model asked to write from nothing
    # A template owner also reads the model answers; nobody but Claire Rochat sees « Ressources humaines ».
    assert ask(server, UNRELATED, role="template-owner")["message"].endswith("FAQ du guichet, Réponses types")
    assert "Ressources humaines" not in ask(server, UNRELATED, role="admin")["message"]


def test_a_collection_she_may_not_read_never_shows(site):
    server, _ = site
    question = "Combien de jours de vacances pour le personnel communal ?"
    with server.client("user") as client:
        forbidden = client.post("/v1/search/answer", json={"query": question, "collections": ["rh"]})
        unknown = client.post("/v1/search/answer", json={"query": question, "collections": ["inconnue"]})
    assert forbidden.status_code == unknown.status_code == 404
    assert forbidden.json()["detail"] == unknown.json()["detail"] and "rh" not in forbidden.text
    for engine in ("rules", "auto"):
        got = ask(server, question, engine=engine, k=10)
        assert {h["collection"] for h in got["citations"]} <= {"reglements", "faq"}
        assert "Ressources humaines" not in json.dumps(got, ensure_ascii=False)
    claire = ask(server, question, role="rh", collections=["rh"], engine="rules")
    assert claire["citations"][0]["document"] == "personnel.md"


def test_an_answer_that_cites_nothing_is_retried_naming_the_problem_then_refused_with_the_reason(site):
    server, fake = site
    uncited = json.dumps({"answered": True, "sentences": [{"text": "La taxe coûte CHF 120.–.", "citations": []}]})
    fake.replies[:] = [uncited, uncited]
    asked = len(fake.requests)
    got = ask(server, DOG_TAX)
    assert len(fake.requests) == asked + 2  # one retry
    assert "ne cite aucun passage" in fake.requests[-1][-1]["content"]
    assert got["kind"] == "passages" and got["engine"] == "rules" and got["answer"] is None
    assert got["warnings"] == ["Réponse du modèle écartée (une phrase sans citation) : voici les passages trouvés."]


def test_a_citation_to_no_passage_is_refused_when_the_model_is_required(site):
    server, fake = site
    nowhere = sentences(("La taxe annuelle s'élève à CHF 120.–.", [9]))
    fake.replies[:] = [nowhere, nowhere]
    got = ask(server, DOG_TAX, status=502, engine="model")
    assert "une citation [9] qui ne renvoie à aucun passage" in got["detail"]
    assert "Combien" not in json.dumps(got, ensure_ascii=False)  # never the question


def test_a_misquoted_amount_is_named_in_the_retry_and_the_corrected_answer_shown(site):
    server, fake = site
    fake.replies[:] = [sentences(("La taxe annuelle s'élève à CHF 150.– pour le premier chien.", [1]))]
    got = ask(server, DOG_TAX)
    retry = fake.requests[-1][-1]["content"]
    assert "un montant « CHF 150.– » n'est pas dans le passage cité [1]" in retry
    assert got["kind"] == "answer" and "CHF 120.–" in got["answer"] and "150" not in got["answer"]


def test_citing_every_passage_keeps_only_those_that_hold_the_figures(site):
    server, fake = site
    asked = len(fake.requests)
    fake.replies[:] = [sentences(("La taxe annuelle s'élève à CHF 120.– pour le premier chien.", [1, 2, 3, 4, 5]))]
    got = ask(server, DOG_TAX)
    n = [i for i, hit in enumerate(got["citations"], 1) if hit["locator"] == "art. 11"][0]
    assert got["answer"] == f"La taxe annuelle s'élève à CHF 120.– pour le premier chien [{n}]."
    assert got["sources"] == [f"[{n}] {got['citations'][n - 1]['reference']}"]
    assert len(fake.requests) == asked + 1  # repaired, not retried


def test_a_sentence_still_unsupported_after_the_retry_is_removed_with_a_warning(site):
    server, fake = site

    def half(messages):
        n = numbered(messages, "art. 11")
        return sentences(("La taxe annuelle s'élève à CHF 120.– pour le premier chien.", [n]),
                         ("Elle est payable dans les 60 jours.", [n]))

    fake.default, original = half, fake.default
    try:
        got = ask(server, DOG_TAX)
    finally:
        fake.default = original
    assert got["kind"] == "answer" and "60 jours" not in got["answer"] and "CHF 120.–" in got["answer"]
    assert len(got["sentences"]) == 1
    assert got["warnings"] == ["Phrase(s) retirée(s) de la réponse, faute de source : un délai absent du passage "
                               f"cité [{got['sentences'][0]['citations'][0]}]."]


def test_streaming_sends_progress_then_the_checked_sentences_then_done(site):
    server, _ = site
    with server.client("user") as client, connect_sse(client, "POST", "/v1/search/answer",
                                                      json={"query": DOG_TAX, "stream": True}) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        events = [(e.event, json.loads(e.data)) for e in source.iter_sse()]
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "progress" and kinds[-1] == "done" and kinds.count("delta") == 2
    done = events[-1][1]
    assert "".join(data["text"] for kind, data in events if kind == "delta") == done["answer"]


def test_the_audit_line_records_the_answer_but_never_the_question(site):
    server, _ = site
    ask(server, DOG_TAX, engine="rules")
    lines = [json.loads(line) for line in (server.data / "audit.jsonl").read_text().splitlines()]
    line = [entry for entry in lines if entry["route"] == "/v1/search/answer"][-1]
    assert line["task"] == "answer" and line["collections"] == ["reglements", "faq"] and line["hits"] >= 1
    assert line["query_chars"] == len(DOG_TAX) and "taxe annuelle" not in (server.data / "audit.jsonl").read_text()


# -- writing from the commune's documents -----------------------------------------------------------------------


def test_a_fact_sheet_from_a_document_of_a_collection(site):
    server, _ = site
    with server.client("user") as client:
        got = client.post("/v1/text/factsheet", json={"source": {"collection": "reglements", "document": "chiens.docx"}})
        forbidden = client.post("/v1/text/factsheet", json={"source": {"collection": "rh", "document": "personnel.md"}})
        unknown = client.post("/v1/text/factsheet", json={"source": {"collection": "inconnue", "document": "x.md"}})
        missing = client.post("/v1/text/factsheet", json={"source": {"collection": "reglements", "document": "x.md"}})
    assert got.status_code == 200, got.text
    sheet = got.json()["sheet"]
    assert sheet["title"] == "Règlement communal sur la détention et la taxe des chiens"
    assert {"text": "La taxe annuelle s'élève à CHF 120.– pour le premier chien.", "reference": "art. 11 al. 1"} \
        in sheet["amounts"]
    assert forbidden.status_code == unknown.status_code == missing.status_code == 404
    assert forbidden.json()["detail"] == unknown.json()["detail"] and "personnel" not in forbidden.text


def test_an_acknowledgement_names_the_applicable_article_when_asked(site):
    server, _ = site
    mail = {"from": "Paul Robert <paul.robert@example.ch>", "subject": "Recours contre la taxe des chiens",
            "body": "Bonjour,\nJe conteste la décision sur la taxe de mon chien et je souhaite faire recours. "
                    "Quel est le délai ?\nPaul Robert", "engine": "rules"}
    with server.client("user") as client:
        plain = client.post("/v1/mail/acknowledge", json=mail).json()
        cited = client.post("/v1/mail/acknowledge", json={**mail, "cite": True}).json()
        forbidden = client.post("/v1/mail/acknowledge", json={**mail, "cite": True, "collections": ["rh"]})
    assert "Disposition applicable" not in plain["text"]
    source = cited["applicable_source"]
    assert source["collection"] in ("reglements", "faq") and source["reference"] in cited["text"]
    assert cited["applicable"] in cited["text"] and cited["applicable"].startswith("Disposition applicable : ")
    assert forbidden.status_code == 404


# -- plume search faq ----------------------------------------------------------------------------------------------


def faq(server, *extra: str, collection: str = "faq") -> dict:
    tmp = server.site
    out = plume_cli("search", "faq", "--collections", str(tmp / "docs" / "collections.toml"), "--collection", collection,
                    "--config", str(tmp / "plume.toml"), "--format", "json", "--quiet", *extra, data=tmp / "data")
    return json.loads(out.stdout)


GUICHET = "Questions fréquentes — Guichet communal, Quand le guichet est-il ouvert ?"


def test_the_faq_proposes_the_questions_the_collection_answers_with_their_source(site):
    server, _ = site
    got = faq(server, "--limit", "20")
    assert got["engine"] == "rules" and got["items"]
    by_question = {item["question"]: item for item in got["items"]}
    guichet = by_question["Quand le guichet est-il ouvert ?"]
    assert guichet["kind"] == "passage" and "Le jeudi, il ferme à 18 heures." in guichet["answer"]
    assert guichet["sources"] == [f"[1] {GUICHET}"] and guichet["answer"].endswith(f"({GUICHET})")
    assert all(hit["collection"] == "faq" for item in got["items"] for hit in item["citations"])
    scores = [item["score"] for item in got["items"]]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 0.9  # past the answer route's threshold


def test_the_faq_keeps_only_questions_that_find_their_own_passage(site):
    server, _ = site
    got = faq(server, "--limit", "500", collection="reglements")
    with server.client("admin") as client:
        passages = {c["id"]: c["passages"] for c in client.get("/v1/collections").json()["collections"]}
        assert 10 < len(got["items"]) < passages["reglements"]  # some articles' headings do not find them
        for item in got["items"]:  # each question, searched, finds its own passage first
            first = client.post("/v1/search", json={"query": item["question"], "collections": ["reglements"], "k": 1})
            assert first.json()["hits"][0]["reference"] == item["citations"][0]["reference"], item["question"]


def test_the_faq_with_a_model_keeps_only_checked_answers(site):
    server, fake = site

    def scripted(messages):
        if "foire aux questions" in messages[0]["content"]:
            return json.dumps({"question": "Le guichet communal est ouvert jusqu'à quelle heure le jeudi ?"})
        n = numbered(messages, "Quand le guichet est-il ouvert ?")  # FAQ passages are cited by their heading
        if n is None:
            return json.dumps({"answered": False, "sentences": []})
        return sentences(("Le jeudi, le guichet ferme à 18 heures.", [n]), ("Il ouvre à 7 heures.", [n]))

    fake.default, original = scripted, fake.default
    try:
        got = faq(server, "--with-model", "--models", str(server.site / "models.toml"))
    finally:
        fake.default = original
    assert got["engine"] == "scripted"
    answered = [item for item in got["items"] if item["kind"] == "answer"]
    assert len(answered) == 1, got["items"]
    item = answered[0]
    n = int(item["sources"][0][1])
    assert item["question"] == "Le guichet communal est ouvert jusqu'à quelle heure le jeudi ?"
    assert item["answer"] == f"Le jeudi, le guichet ferme à 18 heures [{n}]."  # « 7 heures » is in no passage: removed
    assert item["sources"] == [f"[{n}] {GUICHET}"]


# -- plume eval --tasks answer ---------------------------------------------------------------------------------------


def test_plume_eval_counts_supported_answers_and_questions_left_unanswered(tmp_path, monkeypatch):
    from tests.fake_upstream import FakeUpstream

    (tmp_path / "docs").mkdir()
    shutil.copy(CORPUS / "reglements" / "salles.txt", tmp_path / "docs")
    (tmp_path / "collections.toml").write_text('[[collections]]\nid = "docs"\ntitle = "Salles"\npath = "docs"\n'
                                               'read = ["user"]\n', encoding="utf-8")
    (tmp_path / "questions.toml").write_text(
        '[[questions]]\nid = "caution"\ntext = "Combien faut-il verser de caution pour louer une salle ?"\n'
        'expected = [{ collection = "docs", document = "salles.txt", article = "8" }]\n'
        '[[questions]]\nid = "impots"\ntext = "Délai pour la déclaration d\'impôts ?"\nexpected = []\n',
        encoding="utf-8")
    (tmp_path / "plume.toml").write_text("search_answer_min_score = 0.5\n", encoding="utf-8")  # the model judges
    monkeypatch.setenv("PLUME_CONFIG", str(tmp_path / "plume.toml"))

    def scripted(messages):
        n = numbered(messages, "art. 8")
        if judging(messages):
            return json.dumps({"answers": "impôts" not in messages[-1]["content"]})
        return sentences(("Une caution de CHF 500.– est versée à la réservation.", [n]))

    fake = FakeUpstream(scripted)
    try:
        out = plume_cli("eval", "--tasks", "answer", "--collections", str(tmp_path / "collections.toml"),
                        "--questions", str(tmp_path / "questions.toml"), "--embedders", "use-multilingual-v3",
                        "--models", str(fake.catalog(tmp_path / "models.toml", ["answer"])), "--answer-forms",
                        "judged", "--json", str(tmp_path / "m.json"), "--quiet").stdout
    finally:
        fake.stop()
    assert "toutes phrases appuyées, 1er essai" in out and "sans réponse laissées sans réponse" in out
    measured = json.loads((tmp_path / "m.json").read_text())["answer"]["models"]["scripted"]["judged"]["dev"]
    assert measured["asked"] == 2 and measured["written"] == 1  # the other: « nothing », the model judged
    impots = json.loads((tmp_path / "m.json").read_text())["answer"]["models"]["scripted"]["judged"]["questions"]["impots"]
    assert impots["kind"] == "nothing" and impots["judged_no"] is True  # the yes/no said the passages do not answer
    assert measured["supported_first_try"] == 1.0
    assert measured["right_source"] == 1.0 and measured["answerable_answered"] == 1.0
    assert measured["unanswerable_left"] == 1.0 and measured["refused"] == 0.0


def test_a_letter_drafted_from_case_notes_names_the_applicable_article_when_asked(site):
    server, _ = site
    notes = {"text": "Madame Léa Rochat, rue du Temple 5, 2400 Le Locle, conteste la taxe de son chien et demande "
                     "le délai de recours.", "engine": "rules"}
    with server.client("user") as client:
        plain = client.post("/v1/templates/reponse-reclamation/extract", json=notes).json()
        cited = client.post("/v1/templates/reponse-reclamation/extract", json={**notes, "cite": True}).json()
        forbidden = client.post("/v1/templates/reponse-reclamation/extract",
                                json={**notes, "cite": True, "collections": ["rh"]})
    assert "applicable" not in plain
    assert cited["applicable"].startswith("Disposition applicable : ")
    assert cited["applicable_source"]["reference"] in cited["applicable"]
    assert forbidden.status_code == 404


def test_a_template_with_a_legal_basis_field_gets_the_cited_article():
    """The template's « base_legale » field takes the reference when the notes left it empty; a value
    the notes gave is kept; without a sure passage nothing is cited."""
    from plume.search.service import Hit
    from plume.tasks.extract import Extraction, FieldSpec, with_citation

    fields = [FieldSpec(name="nom", type="text", label="Nom", required=True, choices=[]),
              FieldSpec(name="base_legale", type="text", label="Base légale", required=False, choices=[])]
    hit = Hit(collection="reglements", document="chiens.docx", title="Règlement sur les chiens", heading="Art. 15",
              locator="art. 15", page=None, text="Le recours s'exerce dans les 30 jours.", score=1.0,
              similarity=0.9, reference="Règlement sur les chiens, art. 15", quotation="…")
    def found(**values):
        return Extraction(values=values, missing=[] if "base_legale" in values else ["base_legale"], uncertain=[],
                          engine="rules")

    empty = with_citation(found(nom="Rochat"), fields, hit)
    given = with_citation(found(nom="Rochat", base_legale="art. 3"), fields, hit)
    unsure = with_citation(found(nom="Rochat"), fields, None)
    assert empty["values"]["base_legale"] == "Règlement sur les chiens, art. 15" and empty["missing"] == []
    assert "(délai : 30 jours)" in empty["applicable"]
    assert given["values"]["base_legale"] == "art. 3"
    assert "base_legale" not in unsure["values"] and "applicable" not in unsure
