"""Word task pane, issue 21 item 2: « Rechercher dans les documents » — through the real server on the
repo's corpus indexed by the real CLI (tests/data/search), with a scripted model behind the answer
route (tests/fake_upstream.py, as tests/test_search_answer.py), headless Chromium and the Word
stand-in (tests/word/office-standin.js). What the clerk sees and what lands in her document: the
passages with title, article and page; the citation's exact words (the server's `quotation`) and the
answer with its sources (the server's `insert`) as tracked changes in one undo step; the server's
sentence when nothing is found or when only passages can be given; German strings; a panel greyed
with the server's reason where the server cannot. Screenshots: artifacts/word/rechercher-*.png.
"""

from __future__ import annotations

import json

import pytest

from tests.fake_upstream import scripted_server
from tests.test_search_answer import DOG_TAX, UNRELATED, good, indexed_corpus
from tests.word.fixtures import browser, open_pane  # noqa: F401 - fixtures
from tests.word.pane import Pane

pytestmark = [pytest.mark.browser]

DOG_LAW = "Règlement communal sur la détention et la taxe des chiens"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The corpus indexed with one embedder, a server on it whose only model is scripted."""
    tmp = tmp_path_factory.mktemp("word-search")
    collections, config = indexed_corpus(tmp)
    with scripted_server(tmp, good, ["answer"], extra=("--collections", str(collections), "--config",
                                                        str(config))) as (server, fake):
        yield server, fake


def search_panel(pane: Pane) -> None:
    pane.tab("rechercher")
    pane.page.wait_for_selector("#search-collections[data-loaded]", state="attached")


def hit(pane: Pane, document: str, locator: str):
    return pane.page.locator(f'#search-hits li[data-document="{document}"][data-locator="{locator}"]')


def test_enter_searches_and_the_citation_goes_in_as_a_tracked_change_in_one_undo_step(site, open_pane):
    server, _ = site
    letter = ["Madame,", "", "Avec nos salutations distinguées."]
    pane = open_pane(server, word_api="1.6", review=None)   # the default: tracked changes
    pane.set_document(letter)
    pane.caret(1)
    search_panel(pane)
    boxes = pane.page.locator("#search-collections label")
    assert boxes.all_inner_texts() == ["Règlements communaux", "FAQ du guichet"]   # hers only, all ticked
    assert all(box.is_checked() for box in pane.page.locator("#search-collections input").all())
    pane.page.fill("#search-query", DOG_TAX)
    with pane.page.expect_request(lambda r: r.url.endswith("/v1/search")) as sent:
        pane.page.press("#search-query", "Enter")
    assert sent.value.post_data_json == {"query": DOG_TAX, "collections": None, "k": 5}
    pane.wait_idle()
    found = hit(pane, "chiens.docx", "art. 11")
    found.wait_for()
    assert found.locator(".hit-title").inner_text().endswith(f"] {DOG_LAW}")
    assert found.locator(".hit-where").inner_text() == "art. 11"
    assert "CHF 120" in found.locator(".hit-text").inner_text()
    pane.screenshot("rechercher-passages")
    with server.client() as client:
        hits = client.post("/v1/search", json={"query": DOG_TAX, "k": 5}).json()["hits"]
    quotation = next(h["quotation"] for h in hits if h["document"] == "chiens.docx" and h["locator"] == "art. 11")
    found.locator("button.insert-citation").focus()
    pane.page.keyboard.press("Enter")                        # keyboard-reachable
    kind, message = pane.message()
    assert kind == "ok" and "Révision" in message, message
    assert "\n".join(c["text"] for c in pane.tracked_changes() if c["type"] == "Added") == quotation  # an alinéa a line
    assert pane.undo_steps() == 1
    pane.undo()
    assert pane.text() == "\n".join(letter)


def test_the_selection_is_the_question_and_the_answer_goes_in_with_its_sources(site, open_pane):
    server, _ = site
    pane = open_pane(server, word_api="1.6", review=None)
    pane.set_document(["Question de Mme Perrin :", DOG_TAX, "", "Meilleures salutations."])
    pane.select(1)
    search_panel(pane)
    pane.page.wait_for_function(f"() => document.getElementById('search-query').value === {json.dumps(DOG_TAX)}")
    pane.caret(2)                                            # where the answer goes
    pane.page.click("#search-answer")
    pane.wait_idle()
    with server.client() as client:
        expected = client.post("/v1/search/answer", json={"query": DOG_TAX}).json()
    assert expected["kind"] == "answer"
    assert pane.page.inner_text("#search-reply-text") == expected["answer"]
    assert pane.page.locator("#search-sources li").all_inner_texts() == expected["sources"]
    assert pane.page.is_hidden("#search-reply-message")
    cited = pane.page.locator("#search-hits .hit-title").all_inner_texts()
    assert cited == [f"[{n}] {h['title']}" for n, h in enumerate(expected["citations"], 1)]  # numbered as cited
    pane.screenshot("rechercher-reponse")
    pane.page.click("#search-reply-insert")
    kind, message = pane.message()
    assert kind == "ok" and "sources" in message
    assert pane.undo_steps() == 1
    pane.accept_all()
    assert pane.text().split("\n") == ["Question de Mme Perrin :", DOG_TAX, *expected["insert"].split("\n"),
                                       "Meilleures salutations."]
    assert expected["insert"].split("\n")[-1] == f"{expected['sources'][0]}" and DOG_LAW in expected["insert"]

    # Nothing relevant: the server's sentence, naming the collections searched, and nothing to insert.
    pane.page.fill("#search-query", UNRELATED)
    pane.page.click("#search-answer")
    pane.wait_idle()
    assert pane.page.inner_text("#search-reply-message") == \
        "Je n'ai rien trouvé à ce sujet dans : Règlements communaux, FAQ du guichet"
    assert pane.page.is_hidden("#search-reply-insert") and pane.page.is_hidden("#search-results")
    pane.screenshot("rechercher-rien-trouve")


def test_in_german_passages_only_are_labelled_as_such_and_a_collection_can_be_left_out(site, open_pane):
    server, fake = site
    uncited = json.dumps({"answered": True, "sentences": [{"text": "La taxe coûte CHF 120.–.", "citations": []}]})
    fake.replies[:] = [uncited, uncited]                     # the model fails twice: passages, never an invention
    pane = open_pane(server, language="de-CH")
    search_panel(pane)
    assert pane.page.inner_text("#task option[value=rechercher]") == "In den Dokumenten suchen"
    assert pane.page.inner_text("#search-run") == "Suchen" and pane.page.inner_text("#search-answer") == "Antworten"
    pane.page.uncheck("#search-collections input[value=faq]")
    pane.page.fill("#search-query", DOG_TAX)
    with pane.page.expect_request(lambda r: r.url.endswith("/v1/search/answer")) as sent:
        pane.page.click("#search-answer")
    assert sent.value.post_data_json["collections"] == ["reglements"]
    pane.wait_idle()
    assert pane.page.inner_text("#search-reply-message").startswith("Gefundene Stellen in den Dokumenten, ohne "
                                                                     "formulierte Antwort")
    assert pane.page.is_hidden("#search-reply-insert") and pane.page.is_hidden("#search-reply-text")
    assert pane.page.inner_text("#search-results-title") == "Gefundene Stellen"
    assert hit(pane, "chiens.docx", "art. 11").locator("button").inner_text() == "Zitat einfügen"
    pane.screenshot("rechercher-passages-allemand")


def test_without_a_speech_model_transcription_is_greyed_with_the_servers_reason(site, open_pane):
    server, _ = site
    with server.client() as client:
        reason = client.get("/v1/capabilities").json()["tasks"]["transcribe"]["reason"]
    pane = open_pane(server)
    assert pane.page.inner_text("#task option[value=transcrire]") == "Transcrire un enregistrement (indisponible)"
    pane.tab("transcrire")
    assert pane.page.inner_text("#panel-transcrire [data-availability]") == reason
    assert pane.page.is_disabled("#transcribe-run")
