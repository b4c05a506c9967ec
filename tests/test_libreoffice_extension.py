"""The LibreOffice extension (.oxt), tested the way a secretary meets it.

One headless LibreOffice for the module, with a throw-away profile where the .oxt built by
`plume addin build-oxt` is installed with unopkg; one real Plume server with no model installed
(plain language by rules, translation fr->es by Apertium, fr->de missing a model). A driver under
/usr/bin/python3 (tests/libreoffice/driver.py) builds or opens documents, selects text, calls the
extension's dispatch URLs exactly as its menus do, and reads the document back.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import REPO, free_port, plume_cli, require_tool, start_server
from tests.libreoffice.office import OFFICE_PACKAGES, Office, available, install_extension
from tests.test_plain_rules_unseen import NOTHING_SAFE

sys.path.insert(0, str(REPO / "extension-libreoffice" / "python" / "pythonpath"))
from plume_lo import forms, richtext  # noqa: E402  (pure Python: no UNO needed)

pytestmark = pytest.mark.libreoffice

MAX_TEXT_CHARS = 3000
LINK = "https://www.lelocle.ch/guichet"
JARGON = ("Nous accusons réception de votre requête et vous informons que, nonobstant les délais impartis, "
          "le dossier sera traité ultérieurement par le service compétent.")


# -- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oxt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("oxt") / "plume.oxt"
    done = plume_cli("addin", "build-oxt", "--output", str(out))
    assert out.exists(), done.stderr
    return out


@pytest.fixture(scope="module")
def plume(tmp_path_factory):
    """A real Plume server without any model: the deterministic engines only."""
    tmp = tmp_path_factory.mktemp("plume-lo")
    srv = start_server(tmp, "--models", str(tmp / "no-models.toml"), env={"PLUME_MAX_TEXT_CHARS": str(MAX_TEXT_CHARS)})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def office(oxt, tmp_path_factory):
    reason = available()
    require_tool(reason is None, f"{OFFICE_PACKAGES} ({reason})")  # fails in CI, skips elsewhere
    tmp = Path(tempfile.mkdtemp(prefix="plume-lo-"))  # not under pytest's root-only folder: see office.py
    install_extension(oxt, tmp / "profile")
    instance = Office.start(tmp / "profile", free_port(), tmp / "soffice.log")
    yield instance
    instance.stop()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def run(office, plume):
    """Run a scenario with the extension pointed at the test server as a plain user."""

    def go(scenario: dict, **settings) -> dict:
        # The tests of what a result does to the text replace it; those of the review mode ask for it.
        values = {"ServerURL": plume.url, "Token": plume.tokens["user"], "Language": "fr", "ReviewMode": "replace",
                  **settings}
        return office.run({"settings": values, **scenario})

    return go


def bold_link_paragraph() -> list[dict]:
    return [{"text": "Le "}, {"text": "conseil communal", "bold": True}, {"text": " publie les horaires sur "},
            {"text": "le site de la commune", "link": LINK}, {"text": "."}]


# -- the package ------------------------------------------------------------------------------------------


def test_build_is_reproducible_and_carries_the_project_version(oxt, tmp_path):
    again = tmp_path / "again.oxt"
    plume_cli("addin", "build-oxt", "--output", str(again))
    assert again.read_bytes() == oxt.read_bytes()
    with zipfile.ZipFile(oxt) as archive:
        names = set(archive.namelist())
        description = archive.read("description.xml").decode()
    from plume.cli.addin import oxt_version
    assert f'<version value="{oxt_version()}"/>' in description
    assert "@VERSION@" not in description
    assert {"META-INF/manifest.xml", "registry/Sidebar.xcu", "registry/PlumeSettings.xcs",
            "dialogs/Options.xdl", "python/plume_uno.py"} <= names
    assert not any("__pycache__" in n for n in names)


def test_extension_code_parses_as_python_3_8():
    """LibreOffice 7.4 for Windows bundles Python 3.8: no newer syntax in the extension."""
    import ast

    for path in (REPO / "extension-libreoffice" / "python").rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 8))


def test_deck_panels_menu_options_page_and_settings_are_registered(office):
    registry = office.run({"registry": True})
    deck = registry["decks"]["PlumeDeck"]
    assert deck["ContextList"][0].replace(" ", "").startswith("Writer,any,visible")
    panels = registry["panels"]
    assert {"PlumeTextPanel", "PlumeTemplatesPanel"} <= panels.keys()
    assert all(p["DeckId"] == "PlumeDeck" for p in panels.values())
    assert panels["PlumeTextPanel"]["ImplementationURL"].startswith("private:resource/toolpanel/PlumePanelFactory/")
    assert registry["protocol"] == {"ch.lelocle.plume.Dispatcher": ["vnd.plume:*"]}
    assert registry["options_pages"] == ["ch.lelocle.plume.Options"]
    # Tools > Options in Writer lists only the nodes assigned to Writer's module (or AllModules):
    assert registry["options_modules"]["com.sun.star.text.TextDocument"] == ["ch.lelocle.plume.Options"]
    assert registry["menus"] == ["ch.lelocle.plume.menu"]
    assert registry["toolbars"] == []  # no floating toolbar over Writer's own (the deck has its tab)
    # The menu offers no fixed target language (German fails without a model): the sidebar offers those that work.
    assert not [u for u in registry["menu_urls"] if "translate" in u and "sidebar" not in u]
    assert "vnd.plume:options" in registry["menu_urls"]
    assert registry["settings"]["Language"] == "fr"
    assert registry["settings"]["ReviewMode"] == "tracked"  # results go in as tracked changes unless IT says otherwise
    assert registry["extension_location"]


def test_options_are_read_from_the_configuration_schema(run, plume):
    answer = run({"dispatch": "vnd.plume:settings"}, Language="de")
    assert answer["state"] == "SUCCESS", answer
    result = answer["result"]
    assert result["server_url"] == plume.url
    assert result["language"] == "de"
    assert result["token_set"] is True
    assert result["locked"] == []
    # The language setting changes the extension's own messages.
    refused = run({"paragraphs": [[{"text": "Bonjour."}]], "select": 0, "dispatch": "vnd.plume:plain-language"},
                  Language="de", Token="falsch")
    assert refused["state"] == "FAILURE"
    assert "Zugriffstoken" in refused["result"]["message"]


def test_options_page_shows_and_saves_the_configuration(run, plume):
    answer = run({"options_page": {"ServerURL": "https://plume.example.ch"}})
    shown = answer["shown"]
    assert shown["ServerURL"] == {"text": plume.url, "enabled": True}
    assert shown["Token"]["text"] == plume.tokens["user"]
    assert shown["Language"] == [0] and shown["LabelServerURL"] == "Adresse du serveur :"
    assert answer["stored"]["ServerURL"] == "https://plume.example.ch"
    assert shown["ReviewMode"] == {"selected": [1], "enabled": True}  # « à la place du texte », as set
    assert answer["stored"]["ReviewMode"] == "replace"  # OK keeps the choice


def test_sidebar_panels_build_in_german_and_list_the_templates(run, plume):
    answer = run({"panels": True}, Language="de")
    text_panel, templates_panel = answer["TextPanel"], answer["TemplatesPanel"]
    assert text_panel["labels"]["Translate"] == "Übersetzen"
    assert text_panel["labels"]["Plain"] == "Einfache Sprache"
    assert text_panel["items"]["Target"] == ["Spanisch", "Französisch"]
    assert text_panel["height"] > 100
    review_panel = answer["ReviewPanel"]
    assert review_panel["labels"]["Proofread"] == "Korrigieren" and review_panel["labels"]["FixAll"] == "Alles korrigieren"
    assert review_panel["items"]["Actions"] == ["Um die Hälfte kürzen", "Wärmerer Ton", "Grussformel"]
    with plume.client("user") as http:
        titles = [t["title"] for t in http.get("/v1/templates").json()]
    assert templates_panel["templates"] == titles, templates_panel


def test_sidebar_translate_button_translates_the_selection_in_place(run):
    answer = run({"paragraphs": [bold_link_paragraph()], "select": 0,
                  "click": {"panel": "TextPanel", "choose": {"Target": "espagnol"}, "clicks": ["Translate"]}})
    status = answer["statuses"][0]
    assert status.startswith("Terminé. Édition > Annuler rétablit le texte d'origine."), answer
    assert "« communal »" in status  # Apertium's unknown word, kept as written and named for checking
    runs = answer["after"][0]
    assert "consejo" in "".join(r["text"] for r in runs if r["bold"])
    assert any(r["link"] == LINK for r in runs)


def test_sidebar_summary_is_shown_then_inserted_on_request(run):
    paragraphs = [[{"text": JARGON}], [{"text": "Le conseil a adopté le budget 2027 par 25 voix contre 3."}]]
    answer = run({"paragraphs": paragraphs, "select": "all",
                  "click": {"panel": "TextPanel", "clicks": ["Summarize", "Insert"]}})
    assert answer["statuses"][0] == "Terminé.", answer
    summary = answer["states"][0]["texts"]["Result"]
    assert summary and summary.split("\n")[0] in answer["text"]
    assert answer["panel_result"] == ""  # inserted: the panel no longer offers it twice
    assert len(answer["after"]) > len(answer["before"])
    assert len(answer["undo_titles"]) == 1


def test_sidebar_template_form_builds_for_every_template(run, plume, office):
    """The form is modal; headless LibreOffice closes it at once, after it is built from the fields."""
    with plume.client("user") as http:
        titles = [t["title"] for t in http.get("/v1/templates").json()]
    for title in titles:
        answer = run({"paragraphs": [[{"text": "x"}]],
                      "click": {"panel": "TemplatesPanel", "choose": {"Template": title}, "clicks": ["Fill"]}})
        assert answer["statuses"] == ["Terminé."], (title, answer)
    log = office.log.read_text(errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback"):][:3000]


def with_locked_extension(plume, tmp_path: Path, options: list[str], scenario: dict) -> tuple[dict, dict]:
    """An .oxt built with --lock (and `options`) for this server, installed alone in a fresh profile: the
    answer to `scenario`, then the options page as the user sees it."""
    reason = available()
    require_tool(reason is None, f"{OFFICE_PACKAGES} ({reason})")  # fails in CI, skips elsewhere
    locked = tmp_path / "locked.oxt"
    plume_cli("addin", "build-oxt", "--output", str(locked), "--server-url", plume.url, *options, "--lock")
    base = Path(tempfile.mkdtemp(prefix="plume-lo-"))
    try:
        install_extension(locked, base / "profile")
        office = Office.start(base / "profile", free_port(), base / "soffice.log")
        try:
            return office.run(scenario), office.run({"options_page": {}})
        finally:
            office.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_settings_locked_by_it_win_over_the_user(oxt, plume, tmp_path):
    """An .oxt built with --lock: the user cannot change the server address (see docs/deploy-libreoffice.md)."""
    answer, page = with_locked_extension(plume, tmp_path, [], {
        "settings": {"ServerURL": "http://127.0.0.1:9", "Token": plume.tokens["user"]},
        "dispatch": "vnd.plume:templates"})
    assert answer["refused_settings"] == ["ServerURL"]
    assert answer["state"] == "SUCCESS", answer  # the locked address, not the user's, was used
    assert page["shown"]["ServerURL"] == {"text": plume.url, "enabled": False}
    assert page["shown"]["Token"]["enabled"] is True
    assert "service informatique" in page["shown"]["Status"]


# -- actions on the document ------------------------------------------------------------------------------


def test_template_is_inserted_at_the_cursor_with_the_field_values(run, plume):
    with plume.client("user") as http:
        template = http.get("/v1/templates/attestation-domicile").json()
    values = {f["name"]: f["example"] for f in template["fields"] if f.get("example") not in (None, "", [])}
    shown = [v for f, v in ((f, values.get(f["name"])) for f in template["fields"])
             if f["type"] == "text" and isinstance(v, str) and len(v) > 3]
    _, letters = usage_counts(plume, "render")
    answer = run({"paragraphs": [[{"text": "Début du dossier."}]], "select": "end",
                  "dispatch": "vnd.plume:template?id=attestation-domicile&mode=insert",
                  "args": {"Values": json.dumps(values)}, "undo": True})
    assert answer["state"] == "SUCCESS", answer
    assert wait_for_count(plume, "render", letters + 1)[1] == letters + 1  # the letter is used: counted
    assert answer["text"].startswith("Début du dossier.")
    assert shown and all(value in answer["text"] for value in shown)
    assert "{{" not in answer["text"]
    assert len(answer["undo_titles"]) == 1
    assert [r["text"] for p in answer["after_undo"] for r in p] == ["Début du dossier."]
    assert not list(Path(tempfile.gettempdir()).glob("plume-oxt-*"))  # the rendered file was deleted


def test_letter_filled_from_case_notes_then_inserted(run, plume, samples):
    with plume.client("user") as http:
        examples = {f["name"]: f["example"] for f in http.get("/v1/templates/attestation-domicile").json()["fields"]}
    notes = (samples / "cases" / "01-attestation.txt").read_text(encoding="utf-8")
    extracted = run({"dispatch": "vnd.plume:extract?id=attestation-domicile", "args": {"Text": notes}})
    assert extracted["state"] == "SUCCESS", extracted
    values = extracted["result"]["values"]
    assert values["nom"] == "Ferreira" and values["prenom"] == "Maria"
    assert extracted["after"] == extracted["before"]  # extracting changes nothing in the document
    missing = extracted["result"]["missing"]
    values |= {name: examples[name] for name in missing if name in examples}  # what the clerk completes
    letter = run({"paragraphs": [[{"text": ""}]], "dispatch": "vnd.plume:template?id=attestation-domicile",
                  "args": {"Values": json.dumps(values)}})
    assert letter["state"] == "SUCCESS", letter
    assert "Maria Ferreira" in letter["text"] and "Rue des Jardins 12" in letter["text"]


def test_template_in_another_language_is_inserted_and_a_missing_one_said(run, plume):
    """The letter in the language asked for (its version of the template); a language the template
    lacks gives the French letter, and the clerk is told."""
    with plume.client("user") as http:
        template = http.get("/v1/templates/accuse-reception").json()
    values = {f["name"]: f["example"] for f in template["fields"] if f.get("example") not in (None, "", [])}
    values |= {"delai_traitement": "30 Arbeitstagen"}
    german = run({"paragraphs": [[{"text": ""}]], "args": {"Values": json.dumps(values)},
                  "dispatch": "vnd.plume:template?id=accuse-reception&mode=insert&language=de"})
    assert german["state"] == "SUCCESS", german
    assert "Sehr geehrter Herr Perrenoud," in german["text"] and "Freundliche Grüsse" in german["text"]
    assert "innert 30 Arbeitstagen" in german["text"] and "Veuillez agréer" not in german["text"]
    assert "warning" not in german["result"]
    spanish = run({"paragraphs": [[{"text": ""}]], "args": {"Values": json.dumps(values)},
                   "dispatch": "vnd.plume:template?id=accuse-reception&mode=insert&language=es"})
    assert spanish["state"] == "SUCCESS", spanish
    assert "Veuillez agréer, Monsieur, nos salutations distinguées." in spanish["text"]
    assert "pas de version en espagnol (es)" in spanish["result"]["message"]


def test_template_opens_as_a_new_document(run, plume):
    with plume.client("user") as http:
        template = http.get("/v1/templates/attestation-domicile").json()
    values = {f["name"]: f["example"] for f in template["fields"] if f.get("example") not in (None, "", [])}
    answer = run({"paragraphs": [[{"text": "Lettre en cours."}]],
                  "dispatch": "vnd.plume:template?id=attestation-domicile&mode=new",
                  "args": {"Values": json.dumps(values)}, "other_documents": True})
    assert answer["state"] == "SUCCESS", answer
    assert answer["text"] == "Lettre en cours."  # the open document is untouched
    assert any(values["nom"] in text for text in answer["other_documents"])
    assert not list(Path(tempfile.gettempdir()).glob("plume-oxt-*"))


def test_jargon_is_replaced_by_plain_language_in_one_undo_step(run):
    answer = run({"paragraphs": [[{"text": "Objet : votre demande."}], [{"text": JARGON}]], "select": 1,
                  "dispatch": "vnd.plume:plain-language?level=B1", "undo": True})
    assert answer["state"] == "SUCCESS", answer
    before, after = answer["before"][1], answer["after"][1]
    new_text = "".join(r["text"] for r in after)
    assert new_text != JARGON
    assert "nonobstant" not in new_text.lower()
    assert "".join(r["text"] for r in answer["after"][0]) == "Objet : votre demande."
    assert answer["after_undo"] == answer["before"]
    assert len(answer["undo_titles"]) == 1 and "Plume" in answer["undo_titles"][0]
    assert before != after


def test_plain_language_in_a_docx_keeps_word_formatting_and_the_file_stays_word(run, tmp_path):
    import docx

    source, saved = tmp_path / "lettre.docx", tmp_path / "lettre-claire.docx"
    document = docx.Document()
    paragraph = document.add_paragraph()
    head, rest = JARGON.split("requête")
    before_bold, after_bold = rest.split("dossier")
    paragraph.add_run(head)
    paragraph.add_run("requête").italic = True
    paragraph.add_run(before_bold)
    paragraph.add_run("dossier").bold = True
    paragraph.add_run(after_bold)
    document.save(source)
    answer = run({"file": str(source), "select": 0, "dispatch": "vnd.plume:plain-language", "save_as": str(saved)})
    assert answer["state"] == "SUCCESS", answer
    runs = answer["after"][0]
    assert [r["text"] for r in runs if r["bold"]] == ["dossier"]
    italic = "".join(r["text"] for r in runs if r["italic"])
    assert italic and "requête" not in italic  # the replacement word takes the replaced word's italics
    reopened = docx.Document(saved).paragraphs[0]
    assert "nonobstant" not in reopened.text
    assert [r.text for r in reopened.runs if r.bold] == ["dossier"]
    assert reopened.hyperlinks == []  # no empty links left behind


def test_translation_fr_es_by_apertium_keeps_bold_and_hyperlink(run):
    answer = run({"paragraphs": [bold_link_paragraph()], "select": 0,
                  "dispatch": "vnd.plume:translate?target=es&source=fr", "undo": True})
    assert answer["state"] == "SUCCESS", answer
    assert [r["text"] for r in answer["before"][0] if r["bold"]] == ["conseil communal"]
    assert answer["result"]["engine"] == "apertium" and answer["result"]["target"] == "es"
    runs = answer["after"][0]
    text = "".join(r["text"] for r in runs)
    assert "conseil" not in text and text != "".join(r["text"] for r in answer["before"][0])
    bold = [r for r in runs if r["bold"]]
    linked = [r for r in runs if r["link"]]
    assert bold and all(not r["link"] for r in bold)
    assert linked and all(r["link"] == LINK for r in linked) and all(not r["bold"] for r in linked)
    assert "consejo" in bold[0]["text"]  # the bold words are the translated bold words
    assert text.endswith(".") and not linked[-1]["text"].endswith(".")
    assert answer["after_undo"] == answer["before"]


def test_translation_of_several_paragraphs_keeps_each_paragraph(run):
    paragraphs = [[{"text": "Le conseil communal se réunit le mardi."}], bold_link_paragraph(),
                  [{"text": "Merci de votre "}, {"text": "attention", "italic": True}, {"text": "."}]]
    answer = run({"paragraphs": paragraphs, "select": "all", "dispatch": "vnd.plume:translate?target=es&source=fr",
                  "undo": True})
    assert answer["state"] == "SUCCESS", answer
    assert len(answer["after"]) == 3
    assert any(r["link"] == LINK for r in answer["after"][1])
    assert [r["text"] for r in answer["after"][2] if r["italic"]] and not any(r["bold"] for r in answer["after"][2])
    assert "conseil" not in answer["text"]
    assert answer["after_undo"] == answer["before"] and len(answer["undo_titles"]) == 1


def test_summary_result_is_returned_and_inserted_on_request(run):
    paragraphs = [[{"text": JARGON}], [{"text": "Le conseil a adopté le budget 2027 par 25 voix contre 3."}]]
    shown = run({"paragraphs": paragraphs, "select": "all", "dispatch": "vnd.plume:summarize"})
    assert shown["state"] == "SUCCESS", shown
    assert shown["result"]["text"] and shown["after"] == shown["before"]
    inserted = run({"paragraphs": paragraphs, "select": "all", "dispatch": "vnd.plume:summarize?insert=true"})
    assert inserted["state"] == "SUCCESS", inserted
    assert len(inserted["after"]) > len(inserted["before"])
    assert inserted["result"]["text"].split("\n")[0] in inserted["text"]


@pytest.mark.parametrize("kind, sample", [("minutes", "notes/01-conseil-general-notes.txt"),
                                          ("factsheet", "regulations/01-reglement-chiens.txt"),
                                          ("acknowledge", "emails/01-attestation-domicile.eml")])
def test_drafting_tasks_take_the_selection_and_insert_the_result(run, plume, samples, kind, sample):
    content = (samples / sample).read_text(encoding="utf-8")
    lines = content.replace("\r\n", "\n").rstrip("\n").split("\n")
    answer = run({"paragraphs": [[{"text": line}] for line in lines], "select": "all",
                  "dispatch": f"vnd.plume:{kind}?insert=true"})
    assert answer["state"] == "SUCCESS", answer
    result = answer["result"]["text"]
    assert result and result.split("\n")[-1] in answer["text"]
    assert answer["text"].startswith("\n".join(lines[:2]))  # inserted after the selection, which stays
    if kind == "acknowledge":
        assert "Demande d'attestation de domicile" in result  # the subject: headers were read
    else:  # the same answer as the server gives for the file itself: the selection went whole
        with plume.client("user") as http:
            assert http.post(f"/v1/text/{kind}", json={"text": "\n".join(lines)}).json()["text"] == result


# -- errors: the document stays as it was, the message is clear ---------------------------------------


@pytest.mark.parametrize("case", ["wrong-token", "stopped-server", "missing-model", "too-long"])
def test_errors_leave_the_document_unchanged_and_say_why(run, case):
    paragraphs = [bold_link_paragraph()]
    if case == "too-long":
        answer = run({"paragraphs": [[{"text": JARGON + " "}] * (MAX_TEXT_CHARS // len(JARGON) + 1)], "select": 0,
                      "dispatch": "vnd.plume:plain-language"})
        expected = "trop long"
    elif case == "wrong-token":
        answer = run({"paragraphs": paragraphs, "select": 0, "dispatch": "vnd.plume:translate?target=es"},
                     Token="pas-le-bon-jeton")
        expected = "Jeton d'accès refusé"
    elif case == "stopped-server":
        answer = run({"paragraphs": paragraphs, "select": 0, "dispatch": "vnd.plume:plain-language"},
                     ServerURL=f"http://127.0.0.1:{free_port()}")
        expected = "ne répond pas"
    else:
        answer = run({"paragraphs": paragraphs, "select": 0, "dispatch": "vnd.plume:translate?target=de&source=fr"})
        expected = "Plume ne peut pas traduire du français vers l'allemand"  # the server's sentence for a clerk
    assert answer["state"] == "FAILURE", answer
    assert expected in answer["result"]["message"]
    assert "plume models" not in answer["result"]["message"]  # never a shell command for a clerk
    assert answer["after"] == answer["before"]
    assert answer["undo_titles"] == []


def test_https_server_with_a_certificate_the_system_does_not_trust_is_refused(run, tmp_path):
    require_tool(shutil.which("openssl") is not None, "openssl")  # fails in CI, skips elsewhere
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "plume", "serve", "--port", str(port), "--data", str(tmp_path)],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PLUME_TLS_CERT": str(cert), "PLUME_TLS_KEY": str(key)})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"https://127.0.0.1:{port}/health", verify=False, timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        answer = run({"paragraphs": [bold_link_paragraph()], "select": 0, "dispatch": "vnd.plume:plain-language"},
                     ServerURL=f"https://127.0.0.1:{port}")
    finally:
        server.terminate()
        server.wait(10)
    assert answer["state"] == "FAILURE", answer
    assert "connexion sécurisée" in answer["result"]["message"]
    assert answer["after"] == answer["before"]


def test_cancel_leaves_the_document_unchanged(run):
    with socket.socket() as silent:  # a server that accepts the connection and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        answer = run({"paragraphs": [bold_link_paragraph()], "select": 0, "dispatch": "vnd.plume:plain-language",
                      "cancel_after": 0.5}, ServerURL=f"http://127.0.0.1:{silent.getsockname()[1]}")
    assert answer["state"] == "FAILURE", answer
    assert answer["result"]["cancelled"] is True
    assert "annulée" in answer["result"]["message"]
    assert answer["after"] == answer["before"] and answer["undo_titles"] == []


def test_stopped_server_message_in_german(run):
    answer = run({"paragraphs": [[{"text": "Bonjour."}]], "select": 0, "dispatch": "vnd.plume:plain-language"},
                 ServerURL=f"http://127.0.0.1:{free_port()}", Language="de")
    assert answer["state"] == "FAILURE"
    assert "Der Plume-Server antwortet nicht" in answer["result"]["message"]


def test_dispatch_returns_at_once_while_the_server_works(run):
    """LibreOffice is never blocked: the request runs on a worker thread."""
    answer = run({"paragraphs": [[{"text": JARGON}]], "select": 0, "dispatch": "vnd.plume:plain-language"})
    assert answer["state"] == "SUCCESS"
    assert answer["returned_after_s"] < 1.0


def test_extension_logged_no_python_error(office):
    """Runs after the tests above (file order): every menu, job and panel they used ran without a traceback."""
    assert "Traceback" not in office.log.read_text(errors="replace")


# -- formatted runs <-> HTML (pure Python, the same module the extension uses) -------------------------


def test_runs_to_html_and_back():
    runs = [richtext.Run("Le "), richtext.Run("conseil", bold=True), richtext.Run(" & "),
            richtext.Run("site", link='https://x.ch/?a=1&b="2"', italic=True)]
    markup = richtext.to_html(runs)
    assert markup == 'Le <b>conseil</b> &amp; <a href="https://x.ch/?a=1&amp;b=&quot;2&quot;"><i>site</i></a>'
    assert richtext.from_html(markup) == runs


run_strategy = st.builds(richtext.Run, text=st.text(min_size=1, max_size=12), bold=st.booleans(),
                         italic=st.booleans(), underline=st.booleans(),
                         link=st.sampled_from(["", LINK, "https://x.ch/?a=1&b=<2>"]))


@given(st.lists(run_strategy, max_size=8))
def test_any_runs_survive_the_trip_through_html(runs):
    # The HTML parser normalises line ends and drops NUL, as any HTML reader does.
    runs = [richtext.Run(r.text.replace("\r", "").replace("\x00", "") or "x", r.bold, r.italic, r.underline, r.link)
            for r in runs]
    assert richtext.from_html(richtext.to_html(runs)) == richtext.merge(runs)


@given(st.lists(run_strategy, max_size=6), st.text(max_size=60))
def test_reformat_always_writes_exactly_the_new_text(runs, new_text):
    assert richtext.plain(richtext.reformat(runs, new_text)) == new_text


def test_form_text_round_trip_for_lists_and_tables():
    fees = {"name": "emoluments", "type": "list", "columns": [{"name": "libelle", "label": "Prestation"},
                                                               {"name": "montant", "label": "Montant"}]}
    value = [{"libelle": "Émolument de décision", "montant": 40.0}, {"libelle": "Signalisation", "montant": 60.5}]
    text = forms.to_text(fees, value)
    assert text == "Émolument de décision ; 40.00\nSignalisation ; 60.5"
    assert forms.from_text(fees, text) == [{"libelle": "Émolument de décision", "montant": "40.00"},
                                          {"libelle": "Signalisation", "montant": "60.5"}]
    enclosures = {"name": "annexes", "type": "list", "columns": []}
    assert forms.from_text(enclosures, "copie du bail\n\n  facture  ") == ["copie du bail", "facture"]
    assert forms.values([{"name": "nom", "type": "text"}, enclosures], {"nom": " Perrenoud ", "annexes": ""}) == {
        "nom": "Perrenoud"}
    assert "« prestation ; montant »" in forms.hint(fees)


def test_reformat_keeps_formatting_of_kept_words():
    old = [richtext.Run("Nous accusons "), richtext.Run("réception", bold=True), richtext.Run(" de votre requête.")]
    new = richtext.reformat(old, "Nous avons reçu votre demande. Merci de votre requête.")
    assert richtext.plain(new) == "Nous avons reçu votre demande. Merci de votre requête."
    assert any(r.bold for r in new)  # the replaced bold word's formatting goes to its replacement
    assert [r for r in new if "requête" in r.text][0].bold is False


# -- issue 11: only what works, a preview before any change, honest usage, the letter form -----------------


def usage_counts(plume, task: str) -> tuple[int, int]:
    """(requests, inserted) for a task in the commune's usage report, all engines together."""
    with plume.client("admin") as http:
        rows = http.get("/v1/admin/usage", params={"format": "json"}).json()["rows"]
    mine = [r for r in rows if r["task"] == task]
    return sum(r["requests"] for r in mine), sum(r["inserted"] for r in mine)


def wait_for_count(plume, task: str, inserted: int) -> tuple[int, int]:
    """The usage report is sent after the insertion, off LibreOffice's main thread: wait a little for it."""
    deadline = time.monotonic() + 10
    while True:
        counts = usage_counts(plume, task)
        if counts[1] >= inserted or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)


def test_sidebar_offers_the_working_target_languages_by_name(run):
    panel = run({"panels": True})["TextPanel"]
    assert panel["items"]["Target"] == ["espagnol", "français"]  # Apertium: no German without a model
    assert panel["texts"]["Target"] == "espagnol"  # the first that works
    assert panel["items"]["Level"] == ["B1 (simple)", "A2 (très simple)"]  # the level and what it means
    assert all(panel["enabled"][b] for b in ("Plain", "Translate", "Summarize", "Minutes", "Factsheet", "Acknowledge"))
    assert panel["texts"]["Notice"] == ""
    assert not any(panel["enabled"][b] for b in ("Replace", "Insert", "Discard"))  # nothing to insert yet


def test_an_action_without_engine_is_greyed_out_with_one_plain_sentence(office, tmp_path):
    """No Apertium and no model: translation is off, and the panel says so in words, not a command."""
    from tests.conftest import start_modelless

    srv = start_modelless(tmp_path, PATH=str(tmp_path / "no-programs"))
    try:
        settings = {"ServerURL": srv.url, "Token": srv.tokens["user"], "Language": "fr"}
        panel = office.run({"settings": settings, "panels": True})["TextPanel"]
        german = office.run({"settings": {**settings, "Language": "de"}, "panels": True})["TextPanel"]
    finally:
        srv.stop()
    assert panel["enabled"]["Translate"] is False and panel["enabled"]["Target"] is False
    assert panel["items"]["Target"] == []
    assert panel["enabled"]["Plain"] is True and panel["enabled"]["Summarize"] is True
    notice = panel["texts"]["Notice"]
    assert panel["scrolls"]["Notice"]  # several reasons wrap and scroll
    assert notice.startswith("Traduire : ") and "traduction n'est pas disponible" in notice
    assert "plume" not in notice.lower().replace("serveur plume", "") and "models" not in notice
    assert german["texts"]["Notice"].startswith("Übersetzen: ") and "Übersetzung" in german["texts"]["Notice"]


def test_plain_language_is_previewed_with_scores_in_words_and_nothing_changes(run, plume):
    requests, inserted = usage_counts(plume, "plain-language")
    paragraphs = [[{"text": "Objet : votre demande."}], [{"text": JARGON}]]
    answer = run({"paragraphs": paragraphs, "select": 1, "click": {"panel": "TextPanel", "clicks": ["Plain", "Details"]}})
    assert answer["after"] == answer["before"] and answer["undo_titles"] == []  # her text is untouched
    shown, detailed = answer["states"]
    assert "Remplacer" in answer["statuses"][0] and "n'a pas changé" in answer["statuses"][0]
    assert shown["labels"]["Scores"] == "Lisibilité : difficile → assez difficile"
    assert "Kandel-Moles" not in shown["texts"]["Remarks"]  # indices only behind « détails »
    assert "« nonobstant » est du jargon administratif. → malgré" in shown["texts"]["Remarks"]
    assert "nonobstant" not in shown["texts"]["Result"] and "malgré" in shown["texts"]["Result"]
    assert all(shown["enabled"][b] for b in ("Replace", "Insert", "Discard", "Details"))
    assert "Kandel-Moles 39,7 → " in detailed["texts"]["Remarks"] and "LIX" in detailed["texts"]["Remarks"]
    assert detailed["labels"]["Details"] == "masquer"
    assert usage_counts(plume, "plain-language") == (requests + 1, inserted)  # a preview saves no time


def test_plain_language_preview_replaces_on_request_and_reports_the_insertion(run, plume):
    _, inserted = usage_counts(plume, "plain-language")
    paragraphs = [[{"text": "Objet : votre demande."}], [{"text": JARGON}]]
    answer = run({"paragraphs": paragraphs, "select": 1, "click": {"panel": "TextPanel", "clicks": ["Plain", "Replace"]},
                  "undo": True})
    proposed = answer["states"][0]["texts"]["Result"]
    assert "".join(r["text"] for r in answer["after"][1]) == proposed
    assert answer["after"][0] == answer["before"][0]
    assert len(answer["undo_titles"]) == 1 and answer["after_undo"] == answer["before"]
    assert not answer["states"][1]["enabled"]["Replace"]  # used once: not offered again
    assert wait_for_count(plume, "plain-language", inserted + 1)[1] == inserted + 1


def test_plain_language_preview_can_go_after_the_text_or_be_dropped(run):
    paragraphs = [[{"text": JARGON}]]
    after = run({"paragraphs": paragraphs, "select": 0, "click": {"panel": "TextPanel", "clicks": ["Plain", "Insert"]}})
    assert [p for p in after["after"][:1]] == after["before"]  # the original stays, the proposal follows
    assert "".join(r["text"] for r in after["after"][-1]) == after["states"][0]["texts"]["Result"]
    dropped = run({"paragraphs": paragraphs, "select": 0, "click": {"panel": "TextPanel", "clicks": ["Plain", "Discard"]}})
    assert dropped["after"] == dropped["before"]
    assert dropped["statuses"][1] == "Résultat écarté. Le document n'a pas été modifié."
    assert dropped["panel_result"] == "" and not dropped["states"][1]["enabled"]["Insert"]



@pytest.mark.parametrize("ui, said", [
    ("fr", "Sans modèle, Plume n'a trouvé aucune modification sûre pour ce texte : il est rendu tel quel."),
    ("de", "Ohne Modell hat Plume für diesen Text keine sichere Änderung gefunden: Er bleibt unverändert.")])
def test_plain_language_says_when_nothing_safe_can_be_done_and_offers_nothing_to_insert(run, ui, said):
    paragraphs = [[{"text": "Port communal"}], [{"text": NOTHING_SAFE}]]
    answer = run({"paragraphs": paragraphs, "select": 1, "click": {"panel": "TextPanel", "clicks": ["Plain"]}},
                 Language=ui)
    assert answer["after"] == answer["before"] and answer["undo_titles"] == []
    assert answer["statuses"][0].startswith(said), answer["statuses"]
    shown = answer["states"][0]
    assert "Phrase de 33 mots" in shown["texts"]["Remarks"]  # what to rewrite herself
    assert "aucune coupure sûre" in shown["texts"]["Remarks"]  # the server's other warning, shown too
    assert "aucune modification sûre" not in shown["texts"]["Remarks"]  # said once, in the status line
    assert shown["texts"]["Result"] == "" and shown["enabled"]["Discard"]
    assert not shown["enabled"]["Replace"] and not shown["enabled"]["Insert"]  # her own text again: not offered


def test_plain_language_by_dispatch_leaves_a_text_it_cannot_improve_alone_and_says_why(run):
    answer = run({"paragraphs": [[{"text": NOTHING_SAFE}]], "select": 0,
                  "dispatch": "vnd.plume:plain-language?level=B1"}, ReviewMode="tracked")
    assert answer["state"] == "SUCCESS", answer
    assert answer["after"] == answer["before"] and answer["undo_titles"] == [] and not answer["redlines"]
    assert answer["result"]["message"] == ("Terminé. Sans modèle, Plume n'a trouvé aucune modification sûre pour "
                                           "ce texte : il est rendu tel quel. Les remarques indiquent quoi reformuler.")


def test_plain_language_is_not_applied_to_a_selection_that_changed(run):
    paragraphs = [[{"text": "Objet : votre demande."}], [{"text": JARGON}]]
    answer = run({"paragraphs": paragraphs, "select": 1,
                  "click": {"panel": "TextPanel", "clicks": ["Plain", {"select": 0}, "Replace"]}})
    assert answer["after"] == answer["before"]
    assert "La sélection a changé" in answer["statuses"][1]


def test_an_error_clears_the_result_and_is_shown_whole(run):
    too_long = JARGON + " " + "x" * MAX_TEXT_CHARS
    paragraphs = [[{"text": JARGON}], [{"text": too_long}]]
    answer = run({"paragraphs": paragraphs, "select": 0,
                  "click": {"panel": "TextPanel", "clicks": ["Summarize", {"select": 1}, "Plain"]}})
    summarised, failed = answer["states"]
    assert summarised["texts"]["Result"] and summarised["enabled"]["Insert"]
    assert answer["statuses"][1] == ("Le texte est trop long pour cette tâche. Sélectionnez un passage plus court.")
    assert failed["texts"]["Result"] == "" and not failed["enabled"]["Insert"]  # no stale result to insert
    assert failed["scrolls"]["Status"]  # a message longer than the box wraps and scrolls, never cut off
    unreachable = run({"paragraphs": [[{"text": JARGON}]], "select": 0, "click": {"panel": "TextPanel", "clicks": ["Plain"]}},
                      ServerURL=f"http://127.0.0.1:{free_port()}")
    message = unreachable["statuses"][0]
    assert message.startswith("Le serveur Plume ne répond pas") and message.endswith("service informatique.")


def test_summary_inserted_from_the_panel_is_reported_once(run, plume):
    _, inserted = usage_counts(plume, "summarize")
    paragraphs = [[{"text": JARGON}], [{"text": "Le conseil a adopté le budget 2027 par 25 voix contre 3."}]]
    run({"paragraphs": paragraphs, "select": "all", "click": {"panel": "TextPanel", "clicks": ["Summarize"]}})
    assert wait_for_count(plume, "summarize", inserted + 1)[1] == inserted  # shown only: not counted
    run({"paragraphs": paragraphs, "select": "all", "click": {"panel": "TextPanel", "clicks": ["Summarize", "Insert"]}})
    assert wait_for_count(plume, "summarize", inserted + 1)[1] == inserted + 1


def test_settings_menu_names_the_plume_page_to_tools_options(run):
    """« Plume ▸ Réglages… » dispatches .uno:OptionsTreeDialog with OptionsPageURL: the page's URL as
    registered, expanded the way the options dialog expands it. (Opening the dialog itself needs a
    display: headless LibreOffice aborts on it; tools/sidebar_screenshots.py opens it under Xvfb.)"""
    answer = run({"dispatch": "vnd.plume:settings"})
    assert answer["state"] == "SUCCESS", answer
    page = answer["result"]["options_page"]
    assert page.startswith("file:///") and page.endswith("/dialogs/Options.xdl")
    assert Path(page[len("file://"):].replace("%20", " ")).is_file()


def test_a_wrong_value_in_the_letter_form_is_named_by_its_label_as_the_clerks_typing(run, plume):
    with plume.client("user") as http:
        template = http.get("/v1/templates/attestation-domicile").json()
    values = {f["name"]: f["example"] for f in template["fields"] if f.get("example") not in (None, "", [])}
    values["date_naissance"] = "31.02.1987"
    answer = run({"paragraphs": [[{"text": ""}]], "dispatch": "vnd.plume:template?id=attestation-domicile",
                  "args": {"Values": json.dumps(values)}})
    message = answer["result"]["message"]
    assert answer["state"] == "FAILURE"
    assert message.startswith("Vérifiez votre saisie.") and "« Date de naissance »" in message
    assert "date_naissance" not in message and "modèle" not in message


def test_letter_form_shows_dates_the_swiss_way_and_says_how_to_type_lists():
    birth = {"name": "date_naissance", "label": "Date de naissance", "type": "date", "help": ""}
    assert forms.to_text(birth, "1987-06-14") == "14.06.1987"
    assert forms.from_text(birth, "14.06.1987") == "1987-06-14"  # sent as an ISO date
    assert forms.from_text(birth, "1987-06-14") == "1987-06-14"
    assert "JJ.MM.AAAA" in forms.hint(birth)
    with pytest.raises(forms.FieldError) as typed:
        forms.from_text(birth, "14.13.1987")
    assert typed.value.message.startswith("Vérifiez le champ « Date de naissance » : « 14.13.1987 » n'est pas une date")
    fees = {"name": "emoluments", "label": "Émoluments", "type": "list", "help": "Un émolument par ligne.",
            "columns": [{"name": "libelle", "label": "Libellé"}, {"name": "montant", "label": "Montant"}]}
    assert forms.hint(fees) == "Un émolument par ligne.\nUne ligne par entrée, sous la forme « libellé ; montant »."
    assert forms.labels([fees, birth], ["emoluments", "date_naissance"]) == ["Émoluments", "Date de naissance"]
    assert "TT.MM.JJJJ" in forms.hint(birth, "de")


def test_letter_form_shows_help_swiss_dates_list_format_and_names_the_clerks_typing(run, plume):
    with plume.client("user") as http:
        template = http.get("/v1/templates/attestation-domicile").json()
    pythonpath = str(REPO / "extension-libreoffice" / "python" / "pythonpath")
    fields = {f["name"]: f for f in template["fields"]}
    filled = run({"template_form": {"pythonpath": pythonpath, "template": template,
                                    "extracted": {"values": {"nom": "Ferreira", "date_naissance": "1987-06-14"},
                                                  "missing": ["date_naissance", "domicile_depuis"]}}})
    assert filled["fields"]["date_naissance"] == "14.06.1987"  # shown the Swiss way
    assert filled["status"] == "Champs à compléter : Date de naissance, Domicilié·e depuis le"  # labels, not ids
    assert filled["labels"]["date_naissance"] == "Date de naissance *"
    assert filled["help"]["prenom"] == fields["prenom"]["help"]  # the template's help, visible under the field
    assert "JJ.MM.AAAA" in filled["help"]["domicile_depuis"]  # a date without help says how to type it
    typed = run({"template_form": {"pythonpath": pythonpath, "template": template,
                                   "typed": {"nom": "Ferreira", "date_naissance": "31.02.1987"}}})
    assert typed["status"].startswith("Vérifiez le champ « Date de naissance » : « 31.02.1987 » n'est pas une date")
    assert "modèle" not in typed["status"]
    with plume.client("user") as http:
        parking = http.get("/v1/templates/autorisation-stationnement").json()
    table = next(f for f in parking["fields"] if f.get("columns"))  # e.g. fees: label ; amount
    columns = " ; ".join(c["label"].lower() for c in table["columns"])
    shown = run({"template_form": {"pythonpath": pythonpath, "template": parking}})
    assert shown["help"][table["name"]].endswith(f"Une ligne par entrée, sous la forme « {columns} ».")
    assert filled["languages"] == [] and shown["languages"] == []  # French only: no choice of language
    with plume.client("user") as http:
        acknowledgement = http.get("/v1/templates/accuse-reception").json()
    languages = run({"template_form": {"pythonpath": pythonpath, "template": acknowledgement}})
    assert languages["label_language"] == "Langue de la lettre :"
    assert languages["languages"] == ["français", "allemand", "italien", "anglais"]


def test_no_acknowledgement_for_a_phishing_message_and_the_clerk_is_told_why(run, samples):
    lines = (samples / "emails" / "06-phishing.eml").read_text(encoding="utf-8").replace("\r\n", "\n").rstrip("\n")
    paragraphs = [[{"text": line}] for line in lines.split("\n")]
    answer = run({"paragraphs": paragraphs, "select": "all", "dispatch": "vnd.plume:acknowledge?insert=true"})
    assert answer["state"] == "FAILURE", answer
    assert answer["result"]["message"].startswith("Ce message ressemble à une tentative d'hameçonnage")
    assert "signalé une erreur" not in answer["result"]["message"]
    assert answer["after"] == answer["before"] and answer["undo_titles"] == []


# -- review mode: the document's own tracked changes, by « Plume » ------------------------------------------


def test_plain_language_goes_in_as_tracked_changes_by_plume_that_accept_to_the_new_text(run):
    paragraphs = [[{"text": "Objet : votre demande."}],
                  [{"text": "Nous accusons réception de votre "}, {"text": "requête", "bold": True},
                   {"text": " et vous informons que, nonobstant les délais impartis, le dossier sera traité "
                            "ultérieurement par le "}, {"text": "service compétent", "italic": True}, {"text": "."}]]
    replaced = run({"paragraphs": paragraphs, "select": 1, "dispatch": "vnd.plume:plain-language?level=B1"})
    expected = "".join(r["text"] for r in replaced["after"][1])
    answer = run({"paragraphs": paragraphs, "select": 1, "dispatch": "vnd.plume:plain-language?level=B1",
                  "review": "accept", "undo": True, "user_name": "Sandra Vuille"}, ReviewMode="tracked")
    assert answer["state"] == "SUCCESS", answer
    assert "acceptez-les ou refusez-les un à un" in answer["result"]["message"]
    kinds = {r["type"] for r in answer["redlines"]}
    assert kinds == {"Insert", "Delete"}, answer["redlines"]
    assert {r["author"] for r in answer["redlines"]} == {"Plume"}
    assert answer["user_name"] == "Sandra Vuille"  # her own name is back for her own changes
    assert answer["recording"] is False  # she was not recording: neither is the document now
    assert answer["redlines_left"] == 0
    accepted = answer["reviewed"]
    assert "".join(r["text"] for r in accepted[1]) == expected != JARGON
    assert accepted[0] == answer["before"][0]
    # Words Plume kept were not touched: their formatting is as it was.
    kept = [r for r in accepted[1] if r["italic"]]
    assert kept and "".join(r["text"] for r in kept) in "service compétent"
    assert len(answer["undo_titles"]) == 1 and answer["after_undo"] == answer["before"]


def test_tracked_translation_rejected_gives_back_the_original_and_keeps_the_clerks_recording(run):
    answer = run({"paragraphs": [bold_link_paragraph()], "select": 0, "recording": True,
                  "dispatch": "vnd.plume:translate?target=es", "review": "reject"}, ReviewMode="tracked")
    assert answer["state"] == "SUCCESS", answer
    assert answer["redlines"] and {r["author"] for r in answer["redlines"]} == {"Plume"}
    assert answer["recording"] is True  # she was recording her own changes: still so
    assert merged(answer["reviewed"]) == merged(answer["before"])
    accepted = run({"paragraphs": [bold_link_paragraph()], "select": 0,
                    "dispatch": "vnd.plume:translate?target=es", "review": "accept"}, ReviewMode="tracked")
    runs = accepted["reviewed"][0]
    assert "consejo" in "".join(r["text"] for r in runs if r["bold"]), runs
    linked = "".join(r["text"] for r in runs if r["link"] == LINK)
    assert linked and "publica" not in linked  # the words inserted next to the link do not join it


def merged(paragraphs: list[list[dict]]) -> list[list[dict]]:
    """Runs as the clerk sees them: neighbours with the same format are one (a reviewed change may
    leave Writer's portions split where nothing shows)."""
    out = []
    for runs in paragraphs:
        joined: list[dict] = []
        for run in runs:
            if joined and {k: v for k, v in joined[-1].items() if k != "text"} == \
                    {k: v for k, v in run.items() if k != "text"}:
                joined[-1] = {**joined[-1], "text": joined[-1]["text"] + run["text"]}
            else:
                joined.append(dict(run))
        out.append(joined)
    return out


def test_review_mode_after_keeps_the_text_and_adds_the_result_below(run):
    answer = run({"paragraphs": [[{"text": JARGON}]], "select": 0, "dispatch": "vnd.plume:plain-language"},
                 ReviewMode="after")
    assert answer["state"] == "SUCCESS", answer
    assert answer["after"][0] == answer["before"][0] and len(answer["after"]) == 2
    assert answer["redlines"] == []
    assert "nonobstant" not in "".join(r["text"] for r in answer["after"][1])


def test_review_mode_locked_by_it_wins_over_the_dispatch_url(oxt, plume, tmp_path):
    """IT locks ReviewMode with a finalized value in a configuration layer (docs/deploy-libreoffice.md)."""
    answer, page = with_locked_extension(plume, tmp_path, ["--review-mode", "tracked"], {
        "settings": {"Token": plume.tokens["user"], "ReviewMode": "replace"},
        "paragraphs": [[{"text": JARGON}]], "select": 0, "dispatch": "vnd.plume:plain-language?review=replace"})
    assert "ReviewMode" in answer["refused_settings"]
    assert answer["state"] == "SUCCESS", answer
    assert answer["redlines"] and answer["result"]["review"] == "tracked"
    assert page["shown"]["ReviewMode"] == {"selected": [0], "enabled": False}


# -- « Corriger »: proofreading in the sidebar -------------------------------------------------------------

ERRORS_PARAGRAPH = [{"text": "Les demandes sont traitées par les "}, {"text": "service communaux", "bold": True},
                    {"text": ". Il a reçu votre lettre et il "}, {"text": "à répondu", "italic": True},
                    {"text": ". Objet: votre demande."}]
CORRECTED = "Les demandes sont traitées par les services communaux. Il a reçu votre lettre et il a répondu. " \
            "Objet\u00a0: votre demande."


def test_proofreading_lists_errors_selects_them_and_applies_suggestions_keeping_bold_and_italic(run):
    answer = run({"paragraphs": [ERRORS_PARAGRAPH], "select": 0,
                  "click": {"panel": "ReviewPanel",
                            "clicks": ["Proofread", {"pick": {"Errors": 0}}, "Fix", "FixAll"]}, "undo": True})
    checked, fixed_one, fixed_all = answer["states"]
    errors = checked["items"]["Errors"]
    assert len(errors) == 3, checked
    assert errors[0].startswith("« service » : ") and any(e.startswith("« à » : ") for e in errors)
    assert "Remarques : 3" in answer["statuses"][0]
    assert checked["enabled"]["FixAll"]
    picked = answer["picked"][0]
    assert picked["selected"] == "service"  # the error chosen in the list is selected in the document
    assert picked["items"]["Suggestions"] == ["services"] and picked["enabled"]["Fix"]
    assert len(fixed_one["items"]["Errors"]) == 2 and answer["statuses"][1] == "Corrections appliquées : 1."
    assert fixed_all["items"]["Errors"] == [] and answer["statuses"][2] == "Corrections appliquées : 2.", answer["statuses"]
    runs = merged(answer["after"])[0]
    assert "".join(r["text"] for r in runs) == CORRECTED
    assert "".join(r["text"] for r in runs if r["bold"]) == "services communaux"
    assert "".join(r["text"] for r in runs if r["italic"]) == "a répondu"
    assert len(answer["undo_titles"]) == 2  # « Appliquer », then « Tout corriger » as one step
    assert answer["undo_titles"][0] == "Plume : correction"


def test_tout_corriger_goes_in_as_tracked_changes_by_plume(run):
    answer = run({"paragraphs": [ERRORS_PARAGRAPH], "select": 0, "review": "accept", "undo": True,
                  "click": {"panel": "ReviewPanel", "clicks": ["Proofread", "FixAll"]}}, ReviewMode="tracked")
    assert answer["statuses"][1] == "Corrections appliquées : 3.", answer["statuses"]
    assert answer["redlines"] and {r["author"] for r in answer["redlines"]} == {"Plume"}
    assert {r["type"] for r in answer["redlines"]} == {"Insert", "Delete"}
    runs = merged(answer["reviewed"])[0]
    assert "".join(r["text"] for r in runs) == CORRECTED
    assert "".join(r["text"] for r in runs if r["bold"]) == "services communaux"
    assert "".join(r["text"] for r in runs if r["italic"]) == "a répondu"
    assert len(answer["undo_titles"]) == 1 and merged(answer["after_undo"]) == merged(answer["before"])


def test_tout_corriger_leaves_an_error_with_several_suggestions_for_the_clerk(run):
    """« quelque soit » has four suggestions (quel, quelle, quels, quelles que soit/soient): only the
    clerk can choose, so « Tout corriger » fixes the three others and leaves it listed, unfixed."""
    ambiguous = " La taxe est due quelque soit le résultat."
    answer = run({"paragraphs": [ERRORS_PARAGRAPH + [{"text": ambiguous}]], "select": 0,
                  "click": {"panel": "ReviewPanel", "clicks": ["Proofread", "FixAll", {"pick": {"Errors": 0}}]}})
    checked, fixed_all = answer["states"]
    assert len(checked["items"]["Errors"]) == 4 and checked["enabled"]["FixAll"], checked
    assert answer["statuses"][1] == "Corrections appliquées : 3.", answer["statuses"]
    assert "".join(r["text"] for r in merged(answer["after"])[0]) == CORRECTED + ambiguous
    assert [e.split(" : ")[0] for e in fixed_all["items"]["Errors"]] == ["« quelque soit »"], fixed_all
    assert not fixed_all["enabled"]["FixAll"]  # nothing left that Plume may fix alone
    picked = answer["picked"][0]
    assert picked["selected"] == "quelque soit"  # still found in the text, after the fixes before it
    assert len(picked["items"]["Suggestions"]) == 4 and picked["enabled"]["Fix"], picked


def test_tout_corriger_skips_errors_inside_one_already_fixed_as_word_does(run):
    """« Au jour d'aujourd'hui » (→ « Aujourd’hui ») holds two apostrophe errors: the whole expression is
    fixed, the two inside it leave the list. The Word pane makes the same choice."""
    answer = run({"paragraphs": [[{"text": "Au jour d'aujourd'hui les enfant attendent."}]], "select": 0,
                  "click": {"panel": "ReviewPanel", "clicks": ["Proofread", "FixAll"]}})
    checked, fixed_all = answer["states"]
    assert [e.split(" : ")[0] for e in checked["items"]["Errors"]][:3] == \
        ["« Au jour d'aujourd'hui »", "« d' »", "« aujourd' »"], checked
    assert answer["statuses"][1] == "Corrections appliquées : 2.", answer["statuses"]
    assert "".join(r["text"] for r in merged(answer["after"])[0]) == "Aujourd’hui les enfants attendent."
    assert fixed_all["items"]["Errors"] == []


@pytest.mark.parametrize("ui, said", [
    ("de", "Nur Französisch wird geprüft: Dieser Text scheint Deutsch zu sein; er wurde nicht korrigiert."),
    ("fr", "Seul le français est vérifié : ce texte semble être en allemand, il n'a pas été corrigé.")])
def test_proofreading_a_german_text_says_only_french_is_checked_in_the_clerks_language(run, ui, said):
    answer = run({"paragraphs": [[{"text": "Die Gemeinde hat den Antrag geprüft und wird bald antworten."}]],
                  "select": 0, "click": {"panel": "ReviewPanel", "clicks": ["Proofread"]}}, Language=ui)
    assert answer["statuses"][0] == said, answer["statuses"]
    assert answer["states"][0]["items"]["Errors"] == [] and not answer["states"][0]["enabled"]["FixAll"]
    assert answer["after"] == answer["before"]


def test_proofreading_fixes_apply_where_the_errors_are_after_the_clerk_moved_the_selection(run):
    """The errors are found from where the checked text starts, not from the current selection."""
    answer = run({"paragraphs": [ERRORS_PARAGRAPH, [{"text": "Autre paragraphe."}]], "select": 0,
                  "click": {"panel": "ReviewPanel", "clicks": ["Proofread", {"select": 1}, "FixAll"]}})
    assert answer["statuses"][-1].startswith("Corrections appliquées : 3.")  # the anchor follows the text
    assert "".join(r["text"] for r in merged(answer["after"])[0]) == CORRECTED


# -- the commune's own actions -------------------------------------------------------------------------------


def test_commune_actions_are_greyed_with_the_reason_and_a_new_one_appears_on_refresh(run, plume):
    new = {"title": "Résumé pour le Conseil", "title_de": "Zusammenfassung für den Rat",
           "instruction": "Résume ce texte pour le Conseil général, en {{ langue }}."}
    admin_put = {"request": {"method": "PUT", "url": f"{plume.url}/v1/actions/resume-conseil", "json": new,
                             "token": plume.tokens["admin"]}}
    try:
        answer = run({"paragraphs": [[{"text": JARGON}]], "select": 0,
                      "click": {"panel": "ReviewPanel",
                                "clicks": [{"pick": {"Actions": 0}}, admin_put, "RefreshActions",
                                           {"pick": {"Actions": 0}}]}})
    finally:
        with plume.client("admin") as http:
            http.delete("/v1/actions/resume-conseil")
    first = answer["picked"][0]
    assert first["items"]["Actions"] == ["Raccourcir de moitié", "Ton plus chaleureux", "Formule de politesse"]
    assert not first["enabled"]["RunAction"]  # no model on this server: greyed out, with the server's sentence
    assert "modèle de langue" in first["texts"]["Notice"]
    assert answer["statuses"] == ["Actions de la commune : 4."]
    assert "Résumé pour le Conseil" in answer["picked"][1]["items"]["Actions"]  # no restart needed
    assert answer["after"] == answer["before"]


def test_commune_action_runs_through_the_review_path_as_tracked_changes(run, tmp_path):
    from tests.fake_upstream import scripted_server

    shorter = "Nous avons reçu votre requête. Le service compétent la traitera plus tard."
    with scripted_server(tmp_path, lambda messages: shorter, ["chat"]) as (server, _fake):
        answer = run({"paragraphs": [[{"text": "Objet : votre demande."}], [{"text": JARGON}]], "select": 1,
                      "click": {"panel": "ReviewPanel", "clicks": [{"pick": {"Actions": 0}}, "RunAction"]},
                      "review": "accept", "undo": True},
                     ServerURL=server.url, Token=server.tokens["user"], ReviewMode="tracked")
    assert answer["picked"][0]["enabled"]["RunAction"], answer["picked"][0]
    assert answer["picked"][0]["items"]["Actions"][-1] == "Améliorer le style"  # offered once a model is there
    assert "acceptez-les ou refusez-les un à un" in answer["statuses"][0], answer["statuses"]
    assert {r["author"] for r in answer["redlines"]} == {"Plume"}
    assert "".join(r["text"] for r in answer["reviewed"][1]) == shorter
    assert answer["reviewed"][0] == answer["before"][0]
    assert len(answer["undo_titles"]) == 1 and answer["undo_titles"][0] == "Plume : action de la commune"
    assert merged(answer["after_undo"]) == merged(answer["before"])


@given(st.text(alphabet="ab cdé.,\n", max_size=40), st.text(alphabet="ab cdé.,\n", max_size=40))
def test_word_changes_applied_from_the_end_give_exactly_the_new_text(old, new):
    """What tracked mode does to a paragraph: each change replaces old[i1:i2] by new[j1:j2]."""
    out = old
    for old_start, old_end, new_start, new_end in reversed(richtext.changes(old, new)):
        out = out[:old_start] + new[new_start:new_end] + out[old_end:]
    assert out == new


def test_word_changes_leave_kept_words_alone():
    old, new = "Nous accusons réception de votre requête.", "Nous avons bien reçu votre requête."
    assert richtext.changes(old, new) == [(5, 26, 5, 20)]  # « accusons réception de » -> « avons bien reçu »


def test_sidebar_replace_of_a_plain_language_preview_is_tracked_by_default_setting(run):
    answer = run({"paragraphs": [[{"text": JARGON}]], "select": 0, "review": "accept",
                  "click": {"panel": "TextPanel", "clicks": ["Plain", "Replace"]}}, ReviewMode="tracked")
    assert "acceptez-les ou refusez-les un à un" in answer["statuses"][1], answer["statuses"]
    assert answer["redlines"] and {r["author"] for r in answer["redlines"]} == {"Plume"}
    assert "".join(r["text"] for r in answer["reviewed"][0]) == answer["states"][0]["texts"]["Result"]


# -- Stop keeps what was already written -----------------------------------------------------------------------

# A long answer, written 40 characters a second by the scripted model: Stop comes while it writes.
SLOW_ANSWER = ("Nous avons bien reçu votre demande du 3 mars. Le service de l'urbanisme l'examinera dans les "
               "trente jours. Il vous écrira ensuite pour vous dire ce qu'il a décidé et quelles pièces manquent "
               "encore. Pour toute question, appelez le guichet au 032 933 84 00, du lundi au vendredi, de 8 h à "
               "11 h 45. Nous vous remercions de votre patience et vous adressons nos salutations les meilleures.")


def test_client_stream_gives_the_text_as_it_grows_and_stops_when_asked(tmp_path):
    """The extension's HTTP client (pure Python) against the real server and a slow scripted model."""
    from plume_lo.client import Client
    from tests.fake_upstream import scripted_server

    with scripted_server(tmp_path, lambda messages: SLOW_ANSWER, ["chat"], delay=0.3) as (server, fake):
        client = Client(server.url, server.tokens["user"])
        seen: list[str] = []
        whole = client.stream("/v1/actions/raccourcir/run", {"text": JARGON}, seen.append, lambda: False)
        assert whole["text"] == SLOW_ANSWER and seen[-1] == SLOW_ANSWER
        assert len(seen) > 3 and all(SLOW_ANSWER.startswith(s) for s in seen)  # it grew piece by piece
        assert len(client.last_request_id) == 16
        before = fake.sent
        seen.clear()
        assert client.stream("/v1/actions/raccourcir/run", {"text": JARGON}, seen.append,
                             lambda: len(seen) >= 2) is None  # stopped: the text so far is the caller's
        assert len(seen) == 2 and SLOW_ANSWER.startswith(seen[-1]) and len(seen[-1]) < len(SLOW_ANSWER)
        time.sleep(1.5)
        assert fake.sent - before < len(SLOW_ANSWER) // 40  # the model stopped writing too


def test_stop_keeps_the_text_already_written_as_tracked_changes_marked_partial(run, tmp_path):
    """The commune's action in the sidebar: the clerk watches the text come, presses « Arrêter »;
    what was written goes in as tracked changes by Plume, and the status says it is partial."""
    from tests.fake_upstream import scripted_server

    with scripted_server(tmp_path, lambda messages: SLOW_ANSWER, ["chat"], delay=1.0) as (server, fake):
        answer = run({"paragraphs": [[{"text": "Objet : votre demande."}], [{"text": JARGON}]], "select": 1,
                      "click": {"panel": "ReviewPanel", "clicks": [
                          {"pick": {"Actions": 0}}, {"start": "RunAction"},
                          {"stop": {"url": fake.url, "at_least": 2}}]},
                      "review": "accept", "undo": True},
                     ServerURL=server.url, Token=server.tokens["user"], ReviewMode="tracked")
    writing = answer["picked"][1]["texts"]["Status"]  # shown as the model writes, before Stop
    assert writing.startswith("Plume travaille…\n") and SLOW_ANSWER.startswith(writing.split("\n", 1)[1])
    status = answer["statuses"][0]
    assert status.startswith("Résultat partiel (arrêté) : seul le texte déjà rédigé a été repris."), status
    assert "acceptez-les ou refusez-les un à un" in status and "Terminé" not in status
    kept = "".join(r["text"] for r in answer["reviewed"][1])
    assert SLOW_ANSWER.startswith(kept) and 40 <= len(kept) < len(SLOW_ANSWER)
    assert answer["redlines"] and {r["author"] for r in answer["redlines"]} == {"Plume"}
    assert answer["reviewed"][0] == answer["before"][0]
    assert answer["undo_titles"] == ["Plume : action de la commune"]  # one undo step, like a whole result
    assert merged(answer["after_undo"]) == merged(answer["before"])


def test_stop_in_german_says_the_result_is_partial_and_after_the_text_keeps_the_original(run, tmp_path):
    from tests.fake_upstream import scripted_server

    with scripted_server(tmp_path, lambda messages: SLOW_ANSWER, ["summarize"], delay=1.0) as (server, fake):
        answer = run({"paragraphs": [[{"text": JARGON}]], "select": 0,
                      "dispatch": "vnd.plume:summarize?insert=true",
                      "cancel_when": {"url": fake.url, "at_least": 2}, "cancel_after": 0.5},
                     ServerURL=server.url, Token=server.tokens["user"], Language="de")
    assert answer["state"] == "SUCCESS", answer
    result = answer["result"]
    assert result["partial"] is True and result["inserted"] is True
    assert result["message"].startswith("Teilergebnis (angehalten): Nur der bereits geschriebene Text")
    assert answer["after"][0] == answer["before"][0]  # the selection stays; the part goes after it
    kept = "\n".join("".join(r["text"] for r in p) for p in answer["after"][1:])
    assert kept == result["text"] and 40 <= len(kept) < len(SLOW_ANSWER)
    assert len(answer["undo_titles"]) == 1


def test_stop_in_the_panel_keeps_the_summary_written_so_far_to_insert_on_request(run, tmp_path):
    from tests.fake_upstream import scripted_server

    with scripted_server(tmp_path, lambda messages: SLOW_ANSWER, ["summarize"], delay=1.0) as (server, fake):
        answer = run({"paragraphs": [[{"text": JARGON}]], "select": 0,
                      "click": {"panel": "TextPanel", "clicks": [{"start": "Summarize"},
                                                                 {"stop": {"url": fake.url, "at_least": 2}},
                                                                 "Insert"]}},
                     ServerURL=server.url, Token=server.tokens["user"])
    stopped, inserted = answer["states"]
    writing = answer["picked"][0]["texts"]["Result"]  # shown as the model writes, before Stop
    assert writing and SLOW_ANSWER.startswith(writing)
    assert answer["statuses"][0] == ("Résultat partiel (arrêté) : le texte déjà rédigé est gardé ci-dessous ; "
                                     "vous pouvez l'insérer ou relancer.")
    kept = stopped["texts"]["Result"]
    assert SLOW_ANSWER.startswith(kept) and 40 <= len(kept) < len(SLOW_ANSWER)
    assert stopped["enabled"]["Insert"] and not stopped["enabled"]["Cancel"]
    assert answer["after"][0] == answer["before"][0]
    assert "".join(r["text"] for r in answer["after"][1]) == kept  # inserted after the selection, as it was
    assert answer["undo_titles"] == ["Plume : insertion d'un résultat"]
