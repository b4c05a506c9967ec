"""The Word add-in's task pane in headless Chromium, against a real Plume server.

Office.js is replaced (in these tests only) by tests/word/office-standin.js, a stand-in for the Word
API backed by an in-memory document; every other request not to the local server is refused.
Screenshots of each state go to artifacts/word/.
"""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.conftest import SAMPLES, start_server
from tests.test_plain_rules_unseen import NOTHING_SAFE
from tests.word.fixtures import browser, open_pane, word_server  # noqa: F401 - fixtures
from tests.word.pane import ARTIFACTS, Pane

pytestmark = [pytest.mark.browser]  # the `browser` fixture needs Debian's chromium (require_chromium)

# The paragraph of samples/texts/05-formatted.html, as Word runs.
FORMATTED = [
    {"text": "La demande doit être déposée ", "font": "Arial"},
    {"text": "au plus tard le 15 janvier 2027", "bold": True, "font": "Arial"},
    {"text": " auprès du ", "font": "Arial"},
    {"text": "guichet unique", "italic": True, "font": "Arial"},
    {"text": ", accompagnée d'une ", "font": "Arial"},
    {"text": "copie du bail", "href": "https://example-commune.ch/formulaires", "underline": True, "font": "Arial"},
    {"text": " et d'une pièce d'identité valable.", "font": "Arial"},
]


# --- fixtures ---------------------------------------------------------------------------------------------

def jargon_paragraph() -> str:
    return (SAMPLES / "texts" / "01-taxe-dechets.txt").read_text(encoding="utf-8").strip()


# --- serving -------------------------------------------------------------------------------------------------

def test_pane_is_served_without_token_under_a_strict_csp(word_server):
    response = httpx.get(f"{word_server.url}/addin/word/taskpane.html")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self' https://appsforoffice.microsoft.com;" in csp
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    # Every asset the pane names is local, except Office.js from Microsoft's CDN.
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    outside = [a for a in assets if re.match(r"\w+:", a)]
    assert outside == ["https://appsforoffice.microsoft.com/lib/1/hosted/office.js"]
    for asset in assets:
        if asset not in outside:
            assert httpx.get(f"{word_server.url}/addin/word/{asset}").status_code == 200, asset
    for icon in (16, 32, 64, 80):
        png = httpx.get(f"{word_server.url}/addin/word/assets/icon-{icon}.png")
        assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert httpx.get(f"{word_server.url}/addin/word/../../pyproject.toml").status_code == 404
    assert httpx.get(f"{word_server.url}/addin/word/%2e%2e/%2e%2e/pyproject.toml").status_code == 404


def test_standin_behaves_like_word_proxies(word_server, open_pane):
    """Reading a property before load + sync throws, as in Word; so does a proxy used after its batch."""
    pane = open_pane(word_server)
    pane.set_document(["Un paragraphe."])
    pane.select(0)
    outcome = pane.page.evaluate("""async () => {
        const seen = {};
        let leaked = null;
        await Word.run(async (context) => {
            const range = context.document.getSelection();
            try { range.text; } catch (e) { seen.beforeLoad = e.code; }
            range.load("text");
            try { range.text; } catch (e) { seen.beforeSync = e.code; }
            const ooxml = range.getOoxml();
            try { ooxml.value; } catch (e) { seen.resultBeforeSync = e.code; }
            await context.sync();
            seen.text = range.text;
            seen.hasOoxml = ooxml.value.includes("w:document");
            leaked = range;
        });
        try { leaked.insertText("x", "Replace"); } catch (e) { seen.afterRun = e.code; }
        return seen;
    }""")
    assert outcome == {"beforeLoad": "PropertyNotLoaded", "beforeSync": "PropertyNotLoaded",
                       "resultBeforeSync": "PropertyNotLoaded", "text": "Un paragraphe.", "hasOoxml": True,
                       "afterRun": "InvalidObjectPath"}
    assert pane.text() == "Un paragraphe."


# --- Modèles ---------------------------------------------------------------------------------------------------

def fill(pane: Pane, values: dict) -> None:
    for name, value in values.items():
        selector = f"#field-{name}"
        tag = pane.page.eval_on_selector(selector, "el => el.tagName")
        if tag == "SELECT":
            pane.page.select_option(selector, str(value))
        elif tag == "DIV":  # a table list: keep the template's example rows
            continue
        else:
            pane.page.fill(selector, str(value))


def choose_template(pane: Pane, template_id: str) -> None:
    pane.tab("modeles")
    pane.wait_idle()
    pane.page.select_option("#template-list", template_id)
    pane.wait_idle()
    pane.page.wait_for_selector("#template-detail", state="visible")


def test_letter_from_the_form_is_inserted_at_the_selection(word_server, open_pane):
    pane = open_pane(word_server)
    pane.set_document(["Texte avant.", "", "Texte après."])
    pane.caret(1)
    choose_template(pane, "attestation-domicile")
    fill(pane, {"civilite": "Monsieur", "prenom": "Jean", "nom": "Dubois", "date_naissance": "1975-02-03",
                "adresse": "Grande-Rue 5", "npa_localite": "2400 Le Locle", "domicile_depuis": "2001-09-15",
                "motif": "banque"})
    pane.screenshot("modeles-formulaire")
    _, letters = usage_counts(word_server, "render")
    pane.page.click("#template-insert")
    kind, text = pane.message()
    pane.screenshot("modeles-insere")
    assert wait_for_inserted(word_server, "render", letters + 1) == letters + 1  # the letter is used: counted
    assert kind == "ok" and "Attestation de domicile" in text
    document = pane.text()
    assert document.startswith("Texte avant.\n") and document.endswith("\nTexte après.")
    for expected in ("Monsieur Jean Dubois", "Grande-Rue 5", "2400 Le Locle", "3 février 1975", "15 septembre 2001",
                     "banque"):
        assert expected in document
    assert "{{" not in document and pane.operations() == ["insertFileFromBase64"]


def test_letter_in_another_language_of_the_template(word_server, open_pane):
    """A template with language versions offers the choice; the letter comes in that language."""
    pane = open_pane(word_server)
    pane.set_document([""])
    choose_template(pane, "attestation-domicile")
    assert pane.page.is_hidden("#template-language-box")  # French only: nothing to choose
    choose_template(pane, "accuse-reception")
    pane.page.wait_for_selector("#template-language-box", state="visible")
    options = pane.page.eval_on_selector_all("#template-language option", "os => os.map(o => [o.value, o.text])")
    assert options == [["fr", "français"], ["de", "allemand"], ["it", "italien"], ["en", "anglais"]]
    pane.page.select_option("#template-language", "de")
    fill(pane, {"civilite": "Madame", "prenom": "Anna", "nom": "Müller", "date_reception": "2026-12-01",
                "objet": "Baugesuch Garage", "reference": "AR-2026-0042", "service": "Service de l'urbanisme",
                "delai_traitement": "10 Arbeitstagen"})
    pane.page.click("#template-insert")
    kind, text = pane.message()
    pane.screenshot("modeles-allemand")
    assert kind == "ok" and "Accusé de réception" in text, text
    document = pane.text()
    for expected in ("Sehr geehrte Frau Müller,", "am 1. Dezember 2026 erhalten", "innert 10 Arbeitstagen",
                     "Freundliche Grüsse", "Eingangsbestätigung – Baugesuch Garage"):
        assert expected in document, expected
    assert "Veuillez agréer" not in document and "Madame" not in document


def test_required_fields_are_checked_before_anything_is_sent(word_server, open_pane):
    pane = open_pane(word_server)
    pane.set_document([""])
    choose_template(pane, "attestation-domicile")
    pane.page.click("#template-insert")
    kind, text = pane.message()
    assert kind == "error" and "Prénom" in text and "Nom" in text
    assert pane.page.get_attribute("#field-prenom", "aria-invalid") == "true"
    assert pane.operations() == []


def test_a_value_the_server_refuses_in_a_table_row_is_marked_in_that_row(word_server, open_pane):
    """The server names the row by its place among the rows sent (`path`); a blank row is not sent, so
    the pane counts only the rows with something in them."""
    pane = open_pane(word_server)
    pane.set_document([""])
    choose_template(pane, "attestation-domicile")
    fill(pane, {"civilite": "Madame", "prenom": "Ana", "nom": "Lopes", "date_naissance": "1990-01-01",
                "adresse": "Rue du Temple 1", "npa_localite": "2400 Le Locle", "domicile_depuis": "2020-05-01",
                "motif": "banque"})
    rows = pane.page.locator("#field-emoluments .list-row")
    for cell in ("libelle", "montant"):
        rows.nth(0).locator(f"[data-column={cell}]").fill("")  # the first row left blank
    rows.nth(1).locator("[data-column=montant]").fill("10000000000000000")  # a slip of the finger
    pane.page.click("#template-insert")
    kind, text = pane.message()
    assert kind == "error" and "Émoluments" in text and "trop grand" in text
    invalid = pane.page.eval_on_selector_all("#field-emoluments .list-row input",
                                             "cells => cells.map(c => c.getAttribute('aria-invalid') === 'true')")
    assert invalid == [False, False, False, True]  # the second row's amount, nothing else in the table
    assert pane.page.get_attribute("#field-emoluments", "aria-invalid") == "true"
    assert pane.operations() == []


@pytest.mark.parametrize("case", sorted(p.stem.split(".")[0] for p in SAMPLES.glob("cases/*.expected.toml")))
def test_letter_from_case_notes(word_server, open_pane, case):
    expected = tomllib.loads((SAMPLES / "cases" / f"{case}.expected.toml").read_text(encoding="utf-8"))
    notes = (SAMPLES / "cases" / f"{case}.txt").read_text(encoding="utf-8")
    template = httpx.get(f"{word_server.url}/v1/templates/{expected['template']}",
                         headers={"Authorization": f"Bearer {word_server.tokens['user']}"}).json()
    pane = open_pane(word_server)
    pane.set_document([""])
    choose_template(pane, expected["template"])
    pane.page.click("#notes-box summary")
    pane.page.fill("#template-notes", notes)
    pane.page.click("#template-extract")
    kind, _ = pane.message()
    assert kind == "ok"
    pane.screenshot(f"modeles-notes-{case}")
    # The form holds what the server extracted; what it could not find or doubts is flagged for the clerk.
    with word_server.client() as client:
        extraction = client.post(f"/v1/templates/{expected['template']}/extract", json={"text": notes}).json()
    assert extraction["values"], "nothing extracted from the case notes"
    for name, value in extraction["values"].items():
        if isinstance(value, list):
            continue
        field_value = pane.page.input_value(f"#field-{name}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert float(field_value) == value, name
        else:
            assert field_value == str(value), name
    for name in extraction["uncertain"] + extraction["missing"]:
        assert "uncertain" in pane.page.get_attribute(f"[data-field={name}]", "class"), name
    # The clerk completes what is missing, then inserts the letter.
    empty_required = [f for f in template["fields"] if f["required"] and f["type"] != "list"
                      and not pane.page.input_value(f"#field-{f['name']}")]
    fill(pane, {f["name"]: f["example"] for f in empty_required})
    pane.page.click("#template-insert")
    kind, text = pane.message()
    assert kind == "ok", text
    document = pane.text()
    for name, value in extraction["values"].items():
        if isinstance(value, str) and not re.match(r"\d{4}-\d\d-\d\d$", value) and value in expected["values"].values():
            assert value in document, name
    assert "{{" not in document and len(document) > 300


def test_letter_in_a_new_document_leaves_this_one_alone(word_server, open_pane):
    pane = open_pane(word_server)
    pane.set_document(["Mon brouillon."])
    choose_template(pane, "attestation-domicile")
    fill(pane, {"civilite": "Madame", "prenom": "Ana", "nom": "Lopes", "date_naissance": "1990-01-01",
                "adresse": "Rue du Temple 1", "npa_localite": "2400 Le Locle", "domicile_depuis": "2020-05-01",
                "motif": "caisse-maladie"})
    pane.page.click("#template-new")
    kind, _ = pane.message()
    assert kind == "ok"
    assert pane.text() == "Mon brouillon."
    created = pane.new_documents()
    assert len(created) == 1 and created[0]["opened"] and "Madame Ana Lopes" in created[0]["text"]


# --- Langage clair -----------------------------------------------------------------------------------------------

def test_plain_language_replaces_the_jargon_paragraph(word_server, open_pane):
    original = jargon_paragraph()
    with word_server.client() as client:
        expected = client.post("/v1/text/plain-language", json={"text": original, "level": "B1"}).json()
    assert expected["text"] != original  # the rules do simplify this paragraph
    pane = open_pane(word_server)
    pane.set_document(["Avis aux ménages", original, "Le Conseil communal"])
    pane.select(1)
    pane.tab("clair")
    pane.page.click("#plain-run")
    pane.wait_idle()
    pane.page.wait_for_selector("#plain-result", state="visible")
    assert pane.page.inner_text("#plain-preview") == expected["text"]
    bands = {"very-hard": "très difficile", "hard": "difficile", "fairly-hard": "assez difficile", "medium": "moyenne",
             "fairly-easy": "assez facile", "easy": "facile"}
    assert pane.page.inner_text("#plain-readability") == (
        f"Lisibilité : {bands[expected['before']['band']]} → {bands[expected['after']['band']]}")
    assert not pane.page.is_visible("#plain-scores")  # the indices only behind « détails »
    pane.page.click("#plain-details summary")
    scores = pane.page.inner_text("#plain-scores")
    assert "Kandel-Moles" in scores and "LIX" in scores
    diagnostics = pane.page.locator("#plain-diagnostics li").all_inner_texts()
    # the remarks, then what the rules could not do safely (the server's warnings)
    assert len(diagnostics) == len(expected["diagnostics"]) + len(expected.get("warnings") or []) > 0
    assert pane.operations() == []  # analysing changes nothing
    pane.screenshot("langage-clair-apercu")
    pane.page.click("#plain-replace")
    kind, _ = pane.message()
    pane.screenshot("langage-clair-remplace")
    assert kind == "ok"
    assert pane.text() == f"Avis aux ménages\n{expected['text']}\nLe Conseil communal"


# --- Traduire -------------------------------------------------------------------------------------------------------

class _Bold(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth, self.bold, self.link = 0, "", ""
        self.in_link = False

    def handle_starttag(self, tag, attrs):
        self.depth += tag == "b"
        self.in_link = self.in_link or tag == "a"

    def handle_endtag(self, tag):
        self.depth -= tag == "b"
        if tag == "a":
            self.in_link = False

    def handle_data(self, data):
        if self.depth:
            self.bold += data
        if self.in_link:
            self.link += data


def test_translation_keeps_bold_link_and_fonts(word_server, open_pane):
    pane = open_pane(word_server)
    second = "Le guichet unique est ouvert le lundi matin."
    pane.set_document(["Titre", FORMATTED, second, "Fin"])
    pane.select(1, 2)
    pane.tab("traduire")
    pane.page.select_option("#translate-source", "fr")
    pane.page.select_option("#translate-target", "es")
    pane.page.click("#translate-run")
    kind, text = pane.message()
    pane.screenshot("traduire-fait")
    assert kind == "ok", text
    paragraphs = pane.paragraphs()
    assert len(paragraphs) == 4  # paragraphs kept, one for one
    assert [p["runs"][0]["text"] for p in (paragraphs[0], paragraphs[3])] == ["Titre", "Fin"]
    with word_server.client() as client:
        second_answer = client.post("/v1/text/translate", json={"text": second, "source": "fr", "target": "es",
                                                                "format": "html"}).json()
    second_es = second_answer["text"]
    assert "".join(r["text"] for r in paragraphs[2]["runs"]) == second_es != second
    runs = paragraphs[1]["runs"]
    translated = "".join(r["text"] for r in runs)
    assert "demande" not in translated and "2027" in translated
    # The same paragraph through the server's own Apertium, as HTML: the document must agree with it.
    html = ('La demande doit être déposée <b>au plus tard le 15 janvier 2027</b> auprès du <i>guichet unique</i>, '
            "accompagnée d'une <a href=\"https://example-commune.ch/formulaires\"><u>copie du bail</u></a> "
            "et d'une pièce d'identité valable.")
    with word_server.client() as client:
        reference = client.post("/v1/text/translate", json={"text": html, "source": "fr", "target": "es",
                                                            "format": "html"}).json()
    parsed = _Bold()
    parsed.feed(reference["text"])
    bold = [r for r in runs if r["bold"]]
    assert len(bold) == 1 and bold[0]["text"] == parsed.bold and bold[0]["text"] != "au plus tard le 15 janvier 2027"
    link = [r for r in runs if r["href"]]
    assert len(link) == 1 and link[0]["href"] == "https://example-commune.ch/formulaires"
    assert link[0]["text"] == parsed.link and link[0]["underline"] and link[0]["text"] != "copie du bail"
    assert any(r["italic"] for r in runs)
    assert all(r["font"] == "Arial" for r in runs)
    assert pane.operations() == ["insertOoxml"]


# --- streamed tasks ---------------------------------------------------------------------------------------------------

def test_summary_is_shown_then_inserted_after_the_selection(word_server, open_pane):
    report = [line for line in (SAMPLES / "texts" / "03-decision-subvention.txt").read_text().splitlines() if line.strip()]
    pane = open_pane(word_server)
    pane.set_document(report)
    pane.select(0, len(report) - 1)
    pane.tab("resumer")
    pane.page.click("#summarize-run")
    pane.wait_idle()
    output = pane.page.inner_text("#summarize-output")
    assert output.strip()
    assert pane.operations() == []
    pane.screenshot("resumer-resultat")
    pane.page.click("#summarize-insert")
    kind, _ = pane.message()
    assert kind == "ok"
    assert pane.text() == "\n".join(report + output.split("\n"))


def test_acknowledgement_from_a_pasted_email(word_server, open_pane):
    mail = (SAMPLES / "emails" / "01-attestation-domicile.eml").read_text(encoding="utf-8")
    pane = open_pane(word_server)
    pane.set_document(["Réponse :"])
    pane.select(0)
    pane.tab("accuse")
    pane.page.fill("#acknowledge-mail", mail)
    pane.page.click("#acknowledge-run")
    pane.wait_idle()
    output = pane.page.inner_text("#acknowledge-output")
    pane.screenshot("accuse-resultat")
    assert "accus" in output.lower() or "reçu" in output.lower(), output
    pane.page.click("#acknowledge-insert")
    pane.message()
    assert pane.text().startswith("Réponse :\n") and output.split("\n")[0] in pane.text()


# --- progress, cancel and errors: the document never changes ------------------------------------------------------

def test_cancel_really_stops_the_request(word_server, open_pane):
    pane = open_pane(word_server)
    pane.set_document(["Titre", FORMATTED])
    before = pane.paragraphs()
    held, failed = [], []
    pane.page.route("**/v1/text/translate", lambda route: held.append(route))  # the server "takes its time"
    pane.page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
    pane.select(1)
    pane.tab("traduire")
    pane.page.select_option("#translate-target", "es")
    pane.page.click("#translate-run")
    pane.page.wait_for_selector("#busy", state="visible")
    while not held:
        pane.page.wait_for_timeout(50)
    assert pane.page.evaluate("document.activeElement.id") == "cancel"
    pane.screenshot("progression")
    pane.page.keyboard.press("Enter")  # Cancel has the focus
    kind, text = pane.message()
    pane.screenshot("annule")
    assert kind == "info" and "annulée" in text
    assert pane.page.evaluate("document.activeElement.id") == "translate-run"  # focus back where it was
    assert [url for url, _ in failed if url.endswith("/v1/text/translate")], "the fetch was not aborted"
    assert pane.paragraphs() == before and pane.operations() == []


def test_wrong_token_says_so_and_changes_nothing(word_server, open_pane):
    pane = open_pane(word_server, token="plm_pas-le-bon-jeton")
    pane.set_document(["Titre", jargon_paragraph()])
    before = pane.paragraphs()
    pane.select(1)
    pane.tab("clair")
    pane.page.click("#plain-run")
    kind, text = pane.message()
    pane.screenshot("erreur-jeton")
    assert kind == "error" and "jeton" in text and "Réglages" in text
    assert pane.paragraphs() == before and pane.operations() == []


def test_only_working_target_languages_are_offered_by_name(word_server, open_pane):
    """No German without a model: the pane offers the targets the server can translate to, the first by default."""
    pane = open_pane(word_server)
    pane.tab("traduire")
    assert pane.page.locator("#translate-target option").all_inner_texts() == ["espagnol", "français"]
    assert pane.page.input_value("#translate-target") == "es"
    assert not pane.page.is_visible("#panel-traduire .unavailable")
    pane.tab("clair")
    assert pane.page.locator("#plain-level option").all_inner_texts() == ["B1 (simple)", "A2 (très simple)"]
    pane.screenshot("traduire-langues")


def test_words_the_translator_does_not_know_are_named(word_server, open_pane):
    pane = open_pane(word_server)
    pane.set_document(["Le conseil communal se réunit le mardi."])
    pane.select(0)
    pane.tab("traduire")
    pane.page.click("#translate-run")
    kind, text = pane.message()
    assert kind == "ok" and text.startswith("Traduction insérée (1 paragraphe(s)).")
    assert "« communal »" in text  # kept as written by Apertium: the clerk checks it
    assert "moteur" not in text


def test_a_missing_model_is_explained_without_a_command(word_server, open_pane):
    """Should a request still reach a task without engine, the clerk reads a sentence, not a shell command."""
    with word_server.client() as client:
        problem = client.post("/v1/text/translate", json={"text": "Bonjour", "source": "fr", "target": "de"})
    assert problem.status_code == 503
    pane = open_pane(word_server)
    pane.set_document([FORMATTED])
    before = pane.paragraphs()
    pane.select(0)
    pane.tab("traduire")
    pane.page.evaluate("() => document.getElementById('translate-target').add(new Option('allemand', 'de'))")
    pane.page.select_option("#translate-target", "de")
    pane.page.click("#translate-run")
    kind, text = pane.message()
    pane.screenshot("erreur-modele")
    assert kind == "error" and text.startswith("Plume ne peut pas traduire du français vers l'allemand")
    assert pane.page.locator("#message code.install").count() == 0 and "plume models" not in text
    assert pane.paragraphs() == before and pane.operations() == []


def test_an_action_without_engine_is_greyed_out_with_a_sentence(open_pane, tmp_path):
    from tests.conftest import start_modelless

    srv = start_modelless(tmp_path, PATH=str(tmp_path / "no-programs"))  # no Apertium: no translation at all
    try:
        with srv.client() as client:
            translate = client.get("/v1/capabilities").json()["tasks"]["translate"]
        pane = open_pane(srv)
        assert pane.page.inner_text("#task option[value=traduire]") == "Traduire (indisponible)"
        pane.tab("traduire")
        note = pane.page.inner_text("#panel-traduire .unavailable")
        assert note == translate["reason"]
        assert "traduction n'est pas disponible" in note and "plume" not in note.lower().replace("serveur plume", "")
        assert pane.page.is_disabled("#translate-run")
        assert pane.page.is_enabled("#summarize-run")
        pane.tab("clair")
        assert pane.page.is_enabled("#plain-run")
        pane.screenshot("traduire-indisponible")
        # Word in German: the German pane gives the server's German sentence, not the French one.
        german = open_pane(srv, language="de-CH")
        assert german.page.inner_text("#task option[value=traduire]") == "Übersetzen (nicht verfügbar)"
        german.tab("traduire")
        note = german.page.inner_text("#panel-traduire .unavailable")
        assert note == translate["reason_de"] and note.startswith("Die Übersetzung ist auf diesem Server nicht")
        assert "plume" not in note.lower() and "models" not in note
        assert german.page.is_disabled("#translate-run")
        assert german.page.locator("#translate-target option").count() == 0
        german.screenshot("traduire-indisponible-allemand")
        german.tab("clair")
        assert german.page.is_enabled("#plain-run")
    finally:
        srv.stop()


def usage_counts(server, task: str) -> tuple[int, int]:
    with server.client("admin") as http:
        rows = http.get("/v1/admin/usage", params={"format": "json"}).json()["rows"]
    mine = [r for r in rows if r["task"] == task]
    return sum(r["requests"] for r in mine), sum(r["inserted"] for r in mine)


def wait_for_inserted(server, task: str, expected: int) -> int:
    import time

    deadline = time.monotonic() + 10
    while usage_counts(server, task)[1] < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return usage_counts(server, task)[1]


def test_paragraphs_go_to_the_server_with_newlines_and_insertions_are_reported(word_server, open_pane):
    """Word separates paragraphs with \\r; the pane sends \\n. Only the result the clerk inserts is counted."""
    pane = open_pane(word_server)
    bodies = []
    pane.page.on("request", lambda r: bodies.append(r.post_data) if "/v1/text/" in r.url else None)
    paragraphs = ["Art. 3 Annonce", jargon_paragraph(), "Le Conseil communal"]
    pane.set_document(paragraphs)
    pane.select(0, 2)
    _, inserted = usage_counts(word_server, "plain-language")
    pane.tab("clair")
    pane.page.click("#plain-run")
    pane.wait_idle()
    assert bodies and "\\r" not in bodies[-1] and "Annonce\\n" in bodies[-1]
    assert usage_counts(word_server, "plain-language")[1] == inserted  # a preview is not a saving
    pane.page.click("#plain-insert")
    kind, _ = pane.message()
    assert kind == "ok" and pane.text().startswith("\n".join(paragraphs) + "\n")
    assert wait_for_inserted(word_server, "plain-language", inserted + 1) == inserted + 1
    _, summaries = usage_counts(word_server, "summarize")
    pane.tab("resumer")
    pane.page.check("input[name=summarize-scope][value=document]")
    pane.page.click("#summarize-run")
    pane.wait_idle()
    assert "\\r" not in bodies[-1]
    pane.page.click("#summarize-insert")
    pane.message()
    assert wait_for_inserted(word_server, "summarize", summaries + 1) == summaries + 1


def test_no_acknowledgement_for_a_phishing_message(word_server, open_pane):
    pane = open_pane(word_server)
    pane.tab("accuse")
    pane.page.fill("#acknowledge-mail", (SAMPLES / "emails" / "06-phishing.eml").read_text(encoding="utf-8"))
    pane.page.click("#acknowledge-run")
    kind, text = pane.message()
    assert kind == "error" and text.startswith("Ce message ressemble à une tentative d'hameçonnage")
    assert not pane.page.is_visible("#acknowledge-insert")


def test_plain_language_proposal_can_be_dropped(word_server, open_pane):
    pane = open_pane(word_server)
    pane.set_document([jargon_paragraph()])
    pane.select(0)
    pane.tab("clair")
    pane.page.click("#plain-run")
    pane.wait_idle()
    pane.page.click("#plain-discard")
    kind, text = pane.message()
    assert kind == "info" and "écarté" in text
    assert not pane.page.is_visible("#plain-result") and pane.operations() == []



@pytest.mark.parametrize("display, said", [
    ("fr-CH", "Sans modèle, Plume n'a trouvé aucune modification sûre pour ce texte : il est rendu tel quel."),
    ("de-CH", "Ohne Modell hat Plume für diesen Text keine sichere Änderung gefunden: Er bleibt unverändert.")])
def test_plain_language_says_when_nothing_safe_can_be_done_and_offers_nothing_to_insert(
        word_server, open_pane, display, said):
    pane = open_pane(word_server, language=display)
    pane.set_document(["Port communal", NOTHING_SAFE])
    pane.select(1)
    pane.tab("clair")
    pane.page.click("#plain-run")
    pane.wait_idle()
    pane.page.wait_for_selector("#plain-result", state="visible")
    assert pane.page.inner_text("#plain-unchanged").startswith(said)
    remarks = pane.page.locator("#plain-diagnostics li").all_inner_texts()
    assert any(r.startswith("Phrase de 33 mots") for r in remarks), remarks  # what to rewrite herself
    assert not any("aucune modification sûre" in r for r in remarks)  # said once, at the top
    for hidden in ("#plain-preview", "#plain-replace", "#plain-insert"):  # her own text, again: not offered
        assert not pane.page.is_visible(hidden), hidden
    pane.screenshot(f"langage-clair-rien-de-sur-{display[:2]}")
    assert pane.operations() == [] and pane.text() == f"Port communal\n{NOTHING_SAFE}"
    pane.page.click("#plain-discard")
    assert pane.text() == f"Port communal\n{NOTHING_SAFE}"


def test_text_too_long_and_stopped_server(open_pane, tmp_path):
    srv = start_server(tmp_path, env={"PLUME_MAX_TEXT_CHARS": "200"})
    try:
        pane = open_pane(srv)
        pane.set_document(["Titre", jargon_paragraph()])
        before = pane.paragraphs()
        pane.select(1)
        pane.tab("clair")
        pane.page.click("#plain-run")
        kind, text = pane.message()
        pane.screenshot("erreur-trop-long")
        assert kind == "error" and "trop long" in text
        assert pane.paragraphs() == before
    finally:
        srv.stop()
    pane.page.click("#plain-run")
    kind, text = pane.message()
    pane.screenshot("erreur-serveur-arrete")
    assert kind == "error" and "ne répond pas" in text and srv.url in text
    assert pane.paragraphs() == before and pane.operations() == []


# --- settings, language, keyboard, width ---------------------------------------------------------------------------------

def test_settings_are_kept_and_german_is_available(word_server, open_pane):
    pane = open_pane(word_server, token="")
    assert pane.page.input_value("#task") == "reglages" and pane.page.is_visible("#panel-reglages")  # no token yet
    assert pane.page.input_value("#settings-server") == word_server.url
    pane.page.fill("#settings-token", word_server.tokens["user"])
    pane.page.select_option("#settings-language", "de")
    pane.page.click("#settings-save")
    kind, text = pane.message()
    assert kind == "ok" and text == "Einstellungen gespeichert."
    pane.page.reload()
    pane.page.wait_for_selector("body[data-ready=true]")
    assert pane.page.inner_text("#task option[value=traduire]") == "Übersetzen"
    assert pane.page.get_attribute("html", "lang") == "de-CH"
    assert pane.page.input_value("#settings-token") == word_server.tokens["user"]
    pane.wait_idle()
    pane.tab("reglages")
    pane.page.click("#settings-test")
    kind, text = pane.message()
    assert kind == "ok" and "Verbindung erfolgreich" in text
    pane.screenshot("reglages-allemand")


def test_a_panel_whose_script_is_missing_is_said_unavailable_and_the_others_work(word_server, open_pane):
    """One script per panel: should one not load (an add-in folder half updated), its menu entry says so
    and its panel says why; the pane is not left blank and the other panels work."""
    pane = open_pane(word_server, missing=("js/panels/proofread.js",))
    errors = []
    pane.page.on("pageerror", lambda error: errors.append(str(error)))
    assert pane.page.inner_text("#task option[value=corriger]") == "Corriger (indisponible)"
    pane.tab("corriger")
    note = pane.page.locator("#panel-corriger .unavailable")
    assert note.is_visible() and note.inner_text().startswith("Cette fonction n'a pas pu être chargée")
    assert pane.page.is_disabled("#proofread-run")
    pane.set_document([jargon_paragraph()])
    pane.select(0)
    pane.tab("clair")
    pane.page.click("#plain-run")
    pane.wait_idle()
    assert pane.page.is_visible("#plain-result") and not pane.page.is_visible("#message")
    assert errors == []


def test_german_word_gets_german_pane(word_server, open_pane):
    pane = open_pane(word_server, language="de-CH")
    assert pane.page.inner_text("#task option[value=modeles]") == "Brief aus einer Vorlage"
    pane.tab("traduire")
    assert pane.page.locator("#translate-target option").all_inner_texts() == ["Spanisch", "Französisch"]


@pytest.mark.parametrize("width", [320, 335, 350])
def test_keyboard_and_narrow_widths_without_jumps(word_server, open_pane, width):
    """The task menu keeps one height whatever the task: the content never jumps, nothing overflows."""
    pane = open_pane(word_server, width=width)
    pane.page.focus("#task")
    pane.page.keyboard.press("ArrowDown")  # a native select: the keyboard changes the task
    assert pane.page.input_value("#task") == "clair"
    assert pane.page.is_visible("#panel-clair") and not pane.page.is_visible("#panel-modeles")
    tops = set()
    for tab in ("modeles", "clair", "traduire", "resumer", "pv", "fiche", "accuse", "reglages"):
        pane.tab(tab)
        pane.wait_idle()
        tops.add(pane.page.evaluate("document.querySelector('main').getBoundingClientRect().top"))
        assert pane.page.evaluate("document.documentElement.scrollWidth") <= width, tab
    assert len(tops) == 1 and tops.pop() < 110  # one short header row for every task
    pane.tab("modeles")
    pane.wait_idle()
    pane.page.select_option("#template-list", "attestation-domicile")
    pane.wait_idle()
    assert pane.page.evaluate("document.documentElement.scrollWidth") <= width
    pane.screenshot(f"largeur-{width}")
    assert ARTIFACTS.exists()


def test_minutes_from_the_whole_document(word_server, open_pane):
    notes = (SAMPLES / "notes" / "01-conseil-general-notes.txt").read_text(encoding="utf-8").splitlines()
    pane = open_pane(word_server)
    pane.set_document(notes)
    pane.caret(len(notes) - 1)
    pane.tab("pv")
    pane.page.check("input[name=minutes-scope][value=document]")
    pane.page.click("#minutes-run")
    pane.wait_idle()
    assert not pane.page.is_visible("#message"), pane.page.inner_text("#message")
    with word_server.client() as client:
        expected = client.post("/v1/text/minutes", json={"text": "\r".join(notes)}).json()["text"]
    assert pane.page.inner_text("#minutes-output") == expected
    pane.screenshot("proces-verbal-resultat")


def test_fact_sheet_from_a_regulation(word_server, open_pane):
    regulation = (SAMPLES / "regulations" / "01-reglement-chiens.txt").read_text(encoding="utf-8").splitlines()
    pane = open_pane(word_server)
    pane.set_document(regulation)
    pane.select(0, len(regulation) - 1)
    pane.tab("fiche")
    pane.page.click("#factsheet-run")
    pane.wait_idle()
    assert not pane.page.is_visible("#message"), pane.page.inner_text("#message")
    output = pane.page.inner_text("#factsheet-output")
    assert "FICHE EXPLICATIVE" in output and "(art. " in output
    pane.page.click("#factsheet-insert")
    kind, _ = pane.message()
    last_line = output.strip().split("\n")[-1]
    assert kind == "ok" and pane.text().startswith("\n".join(regulation) + "\nFICHE EXPLICATIVE")
    assert pane.text().rstrip().endswith(last_line)


def test_summary_streams_from_a_model(server, open_pane):
    """With a (tiny, random) model the server streams Server-Sent Events; the pane shows the result."""
    report = (SAMPLES / "texts" / "03-decision-subvention.txt").read_text(encoding="utf-8")
    pane = open_pane(server)
    responses = []
    pane.page.on("response", lambda r: responses.append((r.url, r.headers.get("content-type", ""))))
    pane.set_document([report])
    pane.select(0)
    pane.tab("resumer")
    pane.page.click("#summarize-run")
    pane.wait_idle(120_000)
    assert not pane.page.is_visible("#message"), pane.page.inner_text("#message")
    streamed = [ct for url, ct in responses if url.endswith("/v1/text/summarize")]
    assert streamed and streamed[0].startswith("text/event-stream")
    assert pane.page.inner_text("#summarize-output").strip()
    assert pane.page.get_attribute("#panel-resumer", "data-ready") == "true"


def test_new_document_needs_a_word_that_can_create_one(word_server, open_pane):
    pane = open_pane(word_server, word_api="1.2")
    pane.set_document(["Brouillon."])
    choose_template(pane, "attestation-domicile")
    pane.page.click("#template-new")
    kind, text = pane.message()
    assert kind == "error" and "nouveau document" in text
    assert pane.text() == "Brouillon." and pane.new_documents() == []


def test_every_string_the_pane_uses_exists_in_french_and_german():
    src = Path(__file__).resolve().parents[1] / "addin-word" / "src"
    tables = {lang: set(re.findall(r'^\s*"([^"]+)":', (src / "i18n" / f"{lang}.js").read_text(encoding="utf-8"), re.M))
              for lang in ("fr", "de")}
    assert tables["fr"] == tables["de"]
    # taskpane.js and every module beside it (js/, js/panels/), the string tables apart
    script = "\n".join(p.read_text(encoding="utf-8") for p in sorted(src.rglob("*.js")) if "i18n" not in p.parts)
    used = set(re.findall(r'data-i18n="([^"]+)"', (src / "taskpane.html").read_text(encoding="utf-8")))
    used |= set(re.findall(r'\bt\("([\w.]+)"\s*[,)]', script))
    used |= {f"task.run.{task}" for task in re.findall(r'data-task="(\w+)"', (src / "taskpane.html").read_text())}
    used |= {f"plain.metric.{m}" for m in ("kandel_moles", "lix", "rix", "words_per_sentence")}
    used |= {f"review.done.{m}" for m in ("tracked", "replace", "after", "marked")}
    assert len(used) > 50 and used - tables["fr"] == set()
