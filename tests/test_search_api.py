"""Search through the real server over HTTP, on both stores: SQLite (the default) and a real
PostgreSQL + pgvector (tests/pgvector.py). The index is built by the real CLI (`plume search index`)
from the repo's corpus (tests/data/search, tools/make_search_corpus.py): .docx, .odt, .pdf, .txt,
.html and .md. What a clerk notices: the article that answers a question in citizens' words, with
its exact citation; a German question finding the French article; collections she may not read
being invisible; changes to the folder showing after `plume search index`, without a restart.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import REPO, plume_cli, start_server

CORPUS = REPO / "tests" / "data" / "search"


def _hit_of(hits: list[dict], document: str, locator_start: str) -> int | None:
    """0-based rank of the first hit from `document` whose locator starts with `locator_start`."""
    return next((i for i, h in enumerate(hits) if h["document"] == document
                 and (h["locator"] or "").startswith(locator_start)), None)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def site(request, tmp_path_factory):
    """A copy of the corpus, indexed by the CLI, and a server on it (one per store)."""
    tmp = tmp_path_factory.mktemp(f"search-{request.param}")
    shutil.copytree(CORPUS, tmp / "docs")
    config = tmp / "plume.toml"
    database = request.getfixturevalue("pgvector").new_database("api") if request.param == "postgres" else ""
    config.write_text(f'search_database = "{database}"\nsearch_embedders = ["use-multilingual-v3"]\n', encoding="utf-8")
    collections = tmp / "docs" / "collections.toml"
    index = plume_cli("search", "index", "--collections", str(collections), "--config", str(config), "--quiet",
                      data=tmp / "data")
    assert "reglements : 7 ajouté(s)" in index.stdout, index.stdout + index.stderr
    server = start_server(tmp, "--collections", str(collections), "--config", str(config))
    server.tokens["rh"] = server.add_user("Claire Rochat", "user")
    yield server, tmp, collections, config
    server.stop()


def search(server, query: str, role: str = "user", **body) -> list[dict]:
    with server.client(role) as client:
        response = client.post("/v1/search", json={"query": query, **body})
    assert response.status_code == 200, response.text
    return response.json()["hits"]


def test_a_question_in_citizens_words_finds_the_article_with_its_citation(site):
    server, *_ = site
    hits = search(server, "Mon voisin tond sa pelouse le dimanche matin, il a le droit ?", k=5)
    rank = _hit_of(hits, "police.odt", "art. 13")
    assert rank is not None and rank <= 2, [(h["document"], h["locator"]) for h in hits]
    hit = hits[rank]
    assert hit["collection"] == "reglements" and hit["title"] == "Règlement général de police"
    assert hit["heading"] == "Titre II — Tranquillité publique › Article 13 Dimanches et jours fériés"
    assert "tondeuses à gazon" in hit["text"] and 0 < hit["score"] <= 1 and hit["similarity"] > 0


def test_a_pdf_hit_carries_its_page(site):
    server, *_ = site
    hits = search(server, "La déchetterie est ouverte quand ?", k=5)
    rank = _hit_of(hits, "dechets.pdf", "art. 8")
    assert rank is not None, hits
    assert hits[rank]["page"] == 2 and hits[rank]["heading"].startswith("Chapitre 2 — Collectes")


def test_a_faq_hit_outside_articles_is_cited_by_its_heading(site):
    server, *_ = site
    hits = search(server, "Jusqu'à quelle heure puis-je passer à la commune le jeudi ?", k=5, collections=["faq"])
    assert hits[0]["document"] == "faq.html" and hits[0]["title"] == "Questions fréquentes — Guichet communal"
    assert hits[0]["heading"] == "Quand le guichet est-il ouvert ?" and hits[0]["locator"] is None
    assert "18 heures" in hits[0]["text"] and "var ignored" not in " ".join(h["text"] for h in hits)


def test_a_german_question_finds_the_french_article(site):
    server, *_ = site
    hits = search(server, "Wie hoch ist die Hundesteuer pro Jahr?", k=5)
    assert _hit_of(hits, "chiens.docx", "art. 11") is not None, [(h["document"], h["locator"]) for h in hits]


def test_collections_a_person_may_not_read_do_not_exist_for_her(site):
    server, *_ = site
    question = "Combien de jours de vacances pour le personnel communal ?"
    with server.client("user") as client:
        listed = client.get("/v1/collections").json()["collections"]
        forbidden = client.post("/v1/search", json={"query": question, "collections": ["rh"]})
        unknown = client.post("/v1/search", json={"query": question, "collections": ["inconnue"]})
    assert [c["id"] for c in listed] == ["reglements", "faq"]
    assert listed[0]["documents"] == 7 and listed[0]["passages"] > 90
    assert forbidden.status_code == unknown.status_code == 404
    assert forbidden.json()["detail"] == unknown.json()["detail"] and "rh" not in forbidden.text
    assert {h["collection"] for h in search(server, question, k=20)} <= {"reglements", "faq"}
    # Claire Rochat is named in the collection; an admin is not let in by rank alone.
    assert search(server, question, role="rh", collections=["rh"])[0]["document"] == "personnel.md"
    with server.client("admin") as client:
        assert "rh" not in [c["id"] for c in client.get("/v1/collections").json()["collections"]]
        assert client.post("/v1/search", json={"query": question, "collections": ["rh"]}).status_code == 404
    with server.client("user") as client:
        capability = client.get("/v1/capabilities").json()["tasks"]["search"]
    assert capability["available"] and capability["collections"] == 2 and "bm25" in capability["engines"]
    with server.client("template-owner") as client:
        assert "modeles" in [c["id"] for c in client.get("/v1/collections").json()["collections"]]


def test_the_audit_line_records_the_search_but_never_the_question(site):
    server, *_ = site
    question = "Où jeter les piles usagées et les restes de peinture ?"
    hits = search(server, question, k=3, collections=["reglements"])
    lines = [json.loads(line) for line in (server.data / "audit.jsonl").read_text().splitlines()]
    line = [entry for entry in lines if entry["route"] == "/v1/search"][-1]
    assert line["task"] == "search" and line["collections"] == ["reglements"]
    assert line["hits"] == len(hits) == 3 and line["query_chars"] == len(question)
    assert "piles" not in (server.data / "audit.jsonl").read_text()
    with server.client("admin") as admin:
        rows = admin.get("/v1/admin/usage", params={"format": "json"}).json()["rows"]
    assert sum(r["requests"] for r in rows if r["task"] == "search") >= 1  # counted in the usage report


def test_bad_requests_are_refused_in_french(site):
    server, *_ = site
    with server.client("user") as client:
        assert client.post("/v1/search", json={"query": ""}).status_code == 422
        assert client.post("/v1/search", json={"query": "x" * 2001}).status_code in (413, 422)
        too_many = client.post("/v1/search", json={"query": "chiens", "k": 500})
    assert too_many.status_code == 422 and too_many.headers["content-type"].startswith("application/problem+json")


def test_changes_in_the_folder_show_after_indexing_without_a_restart(site):
    server, tmp, collections, config = site
    search(server, "Combien coûte l'entrée à la piscine ?", k=1)  # the server has the index in memory already
    folder = tmp / "docs" / "reglements"
    (folder / "piscine.md").write_text(
        "# Règlement de la piscine communale\n\n## Art. 4 Tarifs\n\nL'entrée coûte CHF 7.– pour les adultes et "
        "CHF 3.50 pour les enfants jusqu'à 16 ans. L'abonnement de saison coûte CHF 90.–.\n", encoding="utf-8")
    (folder / "salles.txt").write_text((folder / "salles.txt").read_text(encoding="utf-8").replace(
        "CHF 500.–", "CHF 800.–"), encoding="utf-8")
    (folder / "cimetiere.pdf").unlink()
    out = plume_cli("search", "index", "--collections", str(collections), "--config", str(config), "--quiet",
                    data=tmp / "data")
    assert "reglements : 1 ajouté(s), 1 modifié(s), 1 retiré(s), 5 inchangé(s)" in out.stdout, out.stdout
    hits = search(server, "Combien coûte l'entrée à la piscine pour un enfant ?", k=3)
    assert hits[0]["document"] == "piscine.md" and hits[0]["locator"] == "art. 4"
    deposit = search(server, "Quel est le montant de la caution pour louer une salle ?", k=5)
    assert any("CHF 800.–" in h["text"] for h in deposit) and not any("CHF 500.–" in h["text"] for h in deposit)
    assert not [h for h in search(server, "Combien coûte une concession de tombe ?", k=10)
                if h["document"] == "cimetiere.pdf"]


def test_an_admin_adds_a_document_through_the_api_and_a_clerk_may_not(site):
    server, *_ = site
    text = ("# Directive sur les ruchers\n\n## Art. 2 Annonce\n\nTout apiculteur annonce ses ruches à l'inspecteur "
            "des ruchers avant le 31 mars de chaque année.\n").encode()
    url = "/v1/collections/faq/documents/ruchers.md"
    with server.client("user") as client:
        assert client.put(url, content=text).status_code == 403
    with server.client("admin") as client:
        assert client.put(url, content=text).status_code == 201
        assert client.put(url, content=text).status_code == 200  # replaced
        assert client.put("/v1/collections/rh/documents/x.md", content=text).status_code == 404
        refused = client.put("/v1/collections/faq/documents/faux.pdf", content=b"%PDF-1.7 garbage")
        assert refused.status_code == 422 and "PDF" in refused.json()["detail"]
    hits = search(server, "À qui dois-je annoncer mes ruches d'abeilles ?", k=3)
    assert _hit_of(hits, "ruchers.md", "art. 2") is not None, hits
    with server.client("admin") as client:
        assert client.delete(url).status_code == 204
        assert client.delete(url).status_code == 404
    assert not [h for h in search(server, "ruches apiculteur", k=5) if h["document"] == "ruchers.md"]


def test_a_broken_collections_file_leaves_the_server_up_and_search_says_so(tmp_path):
    bad = tmp_path / "collections.toml"
    bad.write_text("[[collections]]\nid = \"A B\"\n", encoding="utf-8")
    server = start_server(tmp_path, "--collections", str(bad))
    try:
        with server.client("user") as client:
            answer = client.post("/v1/search", json={"query": "taxe des chiens"})
            assert client.get("/v1/capabilities").status_code == 200
        assert answer.status_code == 503 and "journal du serveur" in answer.json()["detail"]
        assert "taxe" not in answer.text
    finally:
        server.stop()
