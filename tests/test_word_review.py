"""Word task pane, issue 13: « Corriger », the review mode (tracked changes, replace, insert after,
lockable by IT) and the commune's actions — through the real server (with Grammalecte), headless
Chromium and the Word stand-in (tests/word/office-standin.js), whose document model keeps runs and
records the tracked changes the pane asked Word to make."""

from __future__ import annotations


import pytest

from plume.language.grammar import CHECKER
from tests.conftest import require_tool, start_server
from tests.word.fixtures import browser, open_pane, word_server  # noqa: F401 - fixtures
from tests.word.pane import Pane
from tests.word.slow_proxy import slow_proxy

pytestmark = [pytest.mark.browser]  # the `browser` fixture needs Debian's chromium (require_chromium)


@pytest.fixture
def _grammalecte():
    require_tool(CHECKER.available(), "python3-grammalecte")  # fails in CI, skips elsewhere


needs_grammalecte = pytest.mark.usefixtures("_grammalecte")

# « Les enfant du quartier attendent le bus. » with the faulty word in bold and the verb in italics.
RUNS = [
    {"text": "Les ", "font": "Arial"},
    {"text": "enfant", "bold": True, "font": "Arial"},
    {"text": " du quartier ", "font": "Arial"},
    {"text": "attendent", "italic": True, "font": "Arial"},
    {"text": " le bus.", "font": "Arial"},
]


def check(pane: Pane) -> list[str]:
    """Run « Vérifier la sélection »; the covered texts of the errors listed."""
    pane.tab("corriger")
    pane.page.click("#proofread-run")
    pane.wait_idle()
    pane.page.wait_for_selector("#proofread-result", state="visible")
    return pane.page.locator("#proofread-errors li .locate").all_inner_texts()


def error_item(pane: Pane, covered: str):
    return pane.page.locator("#proofread-errors li", has=pane.page.locator(".locate", has_text=f"« {covered} »")).first


def runs(pane: Pane, paragraph: int = 0) -> list[tuple[str, bool, bool, str | None]]:
    return [(r["text"], r["bold"], r["italic"], r["revision"]) for r in pane.paragraphs()[paragraph]["runs"]]


# --- Corriger ------------------------------------------------------------------------------------------------

@needs_grammalecte
def test_errors_are_listed_selected_and_fixed_keeping_bold_and_italic(word_server, open_pane):
    pane = open_pane(word_server)
    pane.set_document(["Objet : rappel", RUNS])
    pane.select(1)
    assert "« enfant »" in check(pane)
    item = error_item(pane, "enfant")
    assert item.locator(".error-message").inner_text().strip()
    item.locator(".locate").click()
    pane.wait_idle()
    pane.screenshot("corriger")
    assert pane.selected_text() == "enfant"          # the error is selected in the document
    item.locator("button.suggestion", has_text="enfants").click()
    kind, _ = pane.message()
    assert kind == "ok"
    assert pane.text() == "Objet : rappel\nLes enfants du quartier attendent le bus."
    assert runs(pane, 1) == [("Les ", False, False, None), ("enfants", True, False, None),
                             (" du quartier ", False, False, None), ("attendent", False, True, None),
                             (" le bus.", False, False, None)]
    assert all(r["font"] == "Arial" for r in pane.paragraphs()[1]["runs"])
    assert "fixed" in (item.get_attribute("class") or "")
    assert pane.tracked_changes() == []                # review mode "replace": no revision


@needs_grammalecte
def test_fix_all_applies_the_unambiguous_ones_from_the_end(word_server, open_pane):
    """Several errors in three paragraphs, some repeated words: each fix lands on its own occurrence.
    « quelque soit » has four suggestions (quel, quelle, quels, quelles): the clerk must choose, so
    « Tout corriger » leaves it in the text and in the list."""
    ambiguous = "La taxe est due quelque soit le résultat."
    text = ["Les enfant du quartier attendent le bus.", ambiguous, "Les enfant de l'école ont reçu la lettre.",
            "Merci de répondre avant le 15 mars: le délai est court!"]
    pane = open_pane(word_server)
    pane.set_document(text)
    pane.select(0, 3)
    covered = check(pane)
    assert covered.count("« enfant »") == 2 and "« quelque soit »" in covered, covered
    choices = error_item(pane, "quelque soit").locator("button.suggestion").all_inner_texts()
    assert len(choices) > 1, choices
    pane.page.click("#proofread-all")
    kind, message = pane.message()
    assert kind == "ok", message
    pane.screenshot("corriger-tout")
    assert pane.text().split("\n") == ["Les enfants du quartier attendent le bus.", ambiguous,
                                       "Les enfants de l’école ont reçu la lettre.",
                                       "Merci de répondre avant le 15 mars\u00a0: le délai est court\u00a0!"]
    assert pane.page.locator("#proofread-errors li.fixed").count() == len(covered) - 1
    left = error_item(pane, "quelque soit")
    assert "fixed" not in (left.get_attribute("class") or "")
    assert left.locator("button.suggestion:enabled").count() == len(choices)  # still hers to choose


@needs_grammalecte
def test_fix_all_skips_errors_inside_one_already_fixed_as_libreoffice_does(word_server, open_pane):
    """Grammalecte flags « Au jour d'aujourd'hui » (→ « Aujourd’hui ») and, inside it, both apostrophes:
    the whole expression is fixed, the two errors inside it are gone with it."""
    pane = open_pane(word_server)
    pane.set_document(["Au jour d'aujourd'hui les enfant attendent."])
    pane.select(0)
    covered = check(pane)
    assert covered[:3] == ["« Au jour d'aujourd'hui »", "« d' »", "« aujourd' »"], covered
    pane.page.click("#proofread-all")
    kind, message = pane.message()
    assert kind == "ok", message
    assert pane.text() == "Aujourd’hui les enfants attendent."
    fixed = pane.page.locator("#proofread-errors li.fixed .locate").all_inner_texts()
    assert fixed == ["« Au jour d'aujourd'hui »", "« enfant »"]  # listed as found, shown done
    stale = pane.page.locator("#proofread-errors li.stale")
    assert stale.locator(".locate").all_inner_texts() == ["« d' »", "« aujourd' »"]
    assert stale.locator("button:enabled").count() == 0  # nothing left to apply where the text changed


@needs_grammalecte
def test_a_stale_error_is_not_applied_elsewhere(word_server, open_pane):
    pane = open_pane(word_server)
    pane.set_document(["Les enfant du quartier attendent le bus."])
    pane.select(0)
    check(pane)
    pane.set_document(["Le quartier attend le bus."])   # the clerk rewrote the sentence meanwhile
    pane.select(0)
    error_item(pane, "enfant").locator("button.suggestion", has_text="enfants").click()
    kind, message = pane.message()
    assert kind == "error" and "changé" in message
    assert pane.text() == "Le quartier attend le bus."


def test_german_text_says_only_french_is_checked(word_server, open_pane):
    pane = open_pane(word_server, language="de-CH")
    pane.set_document(["Die Gemeinde hat beschlossen, die Abfallgebühr im nächsten Jahr zu senken."])
    pane.select(0)
    assert check(pane) == []
    assert pane.page.inner_text("#proofread-summary") == \
        "Nur Französisch wird geprüft: Dieser Text scheint Deutsch zu sein; er wurde nicht korrigiert."
    assert pane.page.is_hidden("#proofread-all")


def test_german_text_in_a_french_pane_gets_the_servers_french_sentence(word_server, open_pane):
    pane = open_pane(word_server)
    pane.set_document(["Die Gemeinde hat beschlossen, die Abfallgebühr im nächsten Jahr zu senken."])
    pane.select(0)
    assert check(pane) == []
    assert pane.page.inner_text("#proofread-summary") == \
        "Seul le français est vérifié : ce texte semble être en allemand, il n'a pas été corrigé."


# --- review mode ---------------------------------------------------------------------------------------------------

JARGON = ("En vertu de l'article 12 du règlement communal, les ménages sont tenus de s'acquitter de la taxe "
          "dans un délai de trente jours.")


def replace_with_plain_language(pane: Pane) -> tuple[str, str]:
    pane.tab("clair")
    pane.page.click("#plain-run")
    pane.wait_idle()
    proposal = pane.page.inner_text("#plain-preview")
    pane.page.click("#plain-replace")
    return proposal, pane.message()


def test_tracked_changes_by_default_where_word_can(word_server, open_pane):
    pane = open_pane(word_server, word_api="1.6", review=None)
    pane.set_document(["Avis", JARGON])
    pane.set_tracking("TrackMineOnly")              # the clerk's own mode, to be put back
    pane.select(1)
    assert pane.page.input_value("#settings-review") == "tracked"
    proposal, (kind, message) = replace_with_plain_language(pane)
    assert kind == "ok" and "Révision" in message
    assert pane.tracking_modes() == ["TrackAll", "TrackMineOnly"] and pane.tracking() == "TrackMineOnly"
    changes = pane.tracked_changes()
    assert {"type": "Deleted", "text": JARGON} in [{k: c[k] for k in ("type", "text")} for c in changes]
    assert "".join(c["text"] for c in changes if c["type"] == "Added") == proposal.replace("\n", "")
    pane.reject_all()
    assert pane.text() == f"Avis\n{JARGON}"
    assert pane.tracked_changes() == []


@needs_grammalecte
def test_proofreading_fix_is_a_tracked_change_keeping_bold(word_server, open_pane):
    pane = open_pane(word_server, word_api="1.4", review="tracked")
    pane.set_document([RUNS])
    pane.select(0)
    check(pane)
    error_item(pane, "enfant").locator("button.suggestion", has_text="enfants").click()
    kind, message = pane.message()
    assert kind == "ok" and "suivies" in message
    assert pane.tracking_modes() == ["TrackAll", "Off"]
    assert [(c["type"], c["text"]) for c in pane.tracked_changes()] == [("Deleted", "enfant"), ("Added", "enfants")]
    assert ("enfants", True, False, "Added") in runs(pane)
    pane.accept_all()
    assert pane.text() == "Les enfants du quartier attendent le bus."
    assert ("enfants", True, False, None) in runs(pane) and ("attendent", False, True, None) in runs(pane)


def test_translation_goes_in_as_tracked_changes_with_its_formatting(word_server, open_pane):
    pane = open_pane(word_server, word_api="1.6", review=None)
    pane.set_document(["Titre", RUNS, "Fin"])
    pane.select(1)
    pane.tab("traduire")
    pane.page.select_option("#translate-source", "fr")
    pane.page.select_option("#translate-target", "es")
    pane.page.click("#translate-run")
    kind, message = pane.message()
    assert kind == "ok" and "Révision" in message, message
    changes = pane.tracked_changes()
    assert [c["type"] for c in changes] == ["Deleted", "Added"]
    assert changes[0]["text"] == "Les enfant du quartier attendent le bus." != changes[1]["text"]
    added = [r for p in pane.paragraphs() for r in p["runs"] if r["revision"] == "Added"]
    assert any(r["bold"] for r in added) and any(r["italic"] for r in added)   # formatting kept in the revision
    assert pane.tracking_modes() == ["TrackAll", "Off"]
    pane.accept_all()
    assert pane.text().split("\n") == ["Titre", changes[1]["text"], "Fin"]


def test_word_without_change_tracking_gets_a_marked_insertion_after(word_server, open_pane):
    pane = open_pane(word_server, word_api="1.3", review=None)
    pane.set_document(["Avis", JARGON, "Le Conseil communal"])
    pane.select(1)
    proposal, (kind, message) = replace_with_plain_language(pane)
    assert kind == "info" and "relisiez" in message
    lines = pane.text().split("\n")
    assert lines[:3] == ["Avis", JARGON, lines[2]] and lines[2].startswith("▶ Proposition de Plume")
    assert "\n".join(lines[3:-1]) == proposal and lines[-1] == "Le Conseil communal"
    assert pane.operations() and "insertText" not in pane.operations()   # nothing replaced


def test_review_mode_is_kept_in_the_settings(word_server, open_pane):
    with word_server.client() as client:
        capabilities = client.get("/v1/capabilities").json()
    assert capabilities["review"] == {"mode": "tracked", "locked": False}
    assert capabilities["tasks"]["proofread"]["available"] is CHECKER.available()
    pane = open_pane(word_server, word_api="1.6", review=None)
    pane.tab("reglages")
    pane.page.select_option("#settings-review", "after")
    pane.page.click("#settings-save")
    assert pane.message()[0] == "ok"
    pane.page.reload()
    pane.page.wait_for_selector("body[data-capabilities]", state="attached")
    assert pane.page.input_value("#settings-review") == "after"
    pane.set_document([JARGON])
    pane.select(0)
    proposal, (kind, _) = replace_with_plain_language(pane)
    assert kind == "ok" and pane.tracked_changes() == [] and pane.tracking_modes() == []
    assert pane.text().split("\n")[0] == JARGON


def test_it_can_lock_the_review_mode(open_pane, tmp_path):
    server = start_server(tmp_path, env={"PLUME_REVIEW_MODE": "replace"})
    try:
        with server.client() as client:
            assert client.get("/v1/capabilities").json()["review"] == {"mode": "replace", "locked": True}
        pane = open_pane(server, word_api="1.6", review="after")
        pane.tab("reglages")
        assert pane.page.input_value("#settings-review") == "replace"
        assert pane.page.is_disabled("#settings-review") and pane.page.is_visible("#settings-review-locked")
        pane.set_document([JARGON])
        pane.select(0)
        proposal, (kind, _) = replace_with_plain_language(pane)
        assert kind == "ok" and pane.tracked_changes() == []
        assert pane.text() == proposal
    finally:
        server.stop()


# --- the commune's actions ------------------------------------------------------------------------------------------

def test_actions_are_listed_greyed_without_a_model_and_new_ones_appear(word_server, open_pane):
    pane = open_pane(word_server)
    pane.tab("actions")
    pane.page.wait_for_selector("#actions-list[data-loaded] button")
    buttons = pane.page.locator("#actions-list button")
    assert buttons.count() >= 3 and all(b.is_disabled() for b in buttons.all())
    assert "modèle" in pane.page.inner_text("#actions-list .unavailable >> nth=0")
    with word_server.client("admin") as admin:
        response = admin.put("/v1/actions/formule-neutre", json={
            "title": "Formule neutre", "title_de": "Neutrale Formel", "instruction": "Rends le texte neutre."})
        assert response.status_code in (200, 201), response.text
    try:
        pane.tab("clair")
        pane.tab("actions")                             # chosen again: listed afresh, no restart
        pane.page.wait_for_selector('#actions-list button[data-action="formule-neutre"]')
        assert pane.page.inner_text('#actions-list button[data-action="formule-neutre"]') == "Formule neutre"
    finally:
        with word_server.client("admin") as admin:
            admin.delete("/v1/actions/formule-neutre")


def test_an_action_runs_on_the_model_and_goes_in_as_tracked_changes(server, open_pane):
    pane = open_pane(server, word_api="1.6", review=None)
    pane.set_document(["Madame,", "Nous avons bien reçu votre demande."])
    pane.select(1)
    pane.tab("actions")
    pane.page.wait_for_selector("#actions-list[data-loaded] button:not([disabled])")
    # « Améliorer le style » is offered where a model is installed (never shown greyed out without one)
    assert pane.page.inner_text('#actions-list button[data-action="ameliorer-style"]:not([disabled])') == \
        "Améliorer le style"
    pane.page.locator("#actions-list button:not([disabled])").first.click()
    pane.wait_idle(120_000)
    assert not pane.page.is_visible("#message"), pane.page.inner_text("#message")
    result = pane.page.inner_text("#action-preview")
    assert result.strip()
    with pane.page.expect_request(lambda r: r.url.endswith("/v1/usage/inserted")) as reported:
        pane.page.click("#action-apply")
    kind, _ = pane.message(120_000)
    assert kind == "ok"
    assert len(reported.value.post_data_json["request_id"]) == 16   # counted in the usage report as inserted
    types = [c["type"] for c in pane.tracked_changes()]
    assert "Deleted" in types and "Added" in types
    pane.reject_all()
    assert pane.text() == "Madame,\nNous avons bien reçu votre demande."


def test_stop_keeps_what_was_already_written(server, open_pane):
    """A slow network: the action's text arrives event by event; Stop keeps the part already written,
    which the clerk can still apply (and it goes in as tracked changes like any result)."""
    original = "Nous avons bien reçu votre demande."
    with server.client() as client:
        action = next(a for a in client.get("/v1/actions").json()["actions"] if a["applies_to"] == "selection")
    with slow_proxy(server.url, delay=0.4) as proxy:
        pane = open_pane(server, base_url=proxy.url, word_api="1.6", review=None)
        pane.set_document(["Madame,", original])
        pane.select(1)
        pane.tab("actions")
        pane.page.click(f'#actions-list button[data-action="{action["id"]}"]:not([disabled])')
        pane.page.wait_for_function("() => document.getElementById('action-preview').textContent.length > 0")
        pane.page.click("#cancel")
        kind, message = pane.message()
        assert kind == "info" and "gardé" in message
        partial = pane.page.inner_text("#action-preview")
        assert partial.strip() and proxy.streams_finished == 0   # stopped before the end of the text
        pane.page.click("#action-apply")
        assert pane.message()[0] == "ok"
        added = "".join(c["text"] for c in pane.tracked_changes() if c["type"] == "Added")
        assert added == partial.replace("\n", "")
