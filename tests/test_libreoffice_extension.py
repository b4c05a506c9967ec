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

from tests.conftest import REPO, free_port, plume_cli, start_server
from tests.libreoffice.office import Office, available, install_extension

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
    if reason:
        pytest.skip(reason)
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
        values = {"ServerURL": plume.url, "Token": plume.tokens["user"], "Language": "fr", **settings}
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
    assert registry["menus"] == ["ch.lelocle.plume.menu"]
    assert registry["settings"]["Language"] == "fr"
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


def test_sidebar_panels_build_in_german_and_list_the_templates(run, plume):
    answer = run({"panels": True}, Language="de")
    text_panel, templates_panel = answer["TextPanel"], answer["TemplatesPanel"]
    assert text_panel["labels"]["Translate"] == "Übersetzen"
    assert text_panel["labels"]["Plain"] == "Einfache Sprache"
    assert text_panel["height"] > 100
    with plume.client("user") as http:
        titles = [t["title"] for t in http.get("/v1/templates").json()]
    assert templates_panel["templates"] == titles, templates_panel


def test_sidebar_translate_button_translates_the_selection_in_place(run):
    answer = run({"paragraphs": [bold_link_paragraph()], "select": 0,
                  "click": {"panel": "TextPanel", "choose": {"Target": "es"}, "clicks": ["Translate"]}})
    assert answer["statuses"] == ["Terminé. Édition > Annuler rétablit le texte d'origine."], answer
    runs = answer["after"][0]
    assert "consejo" in "".join(r["text"] for r in runs if r["bold"])
    assert any(r["link"] == LINK for r in runs)


def test_sidebar_summary_is_shown_then_inserted_on_request(run):
    paragraphs = [[{"text": JARGON}], [{"text": "Le conseil a adopté le budget 2027 par 25 voix contre 3."}]]
    answer = run({"paragraphs": paragraphs, "select": "all",
                  "click": {"panel": "TextPanel", "clicks": ["Summarize", "Insert"]}})
    assert answer["statuses"][0] == "Terminé.", answer
    assert answer["panel_result"]
    assert answer["panel_result"].split("\n")[0] in answer["text"]
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
    assert "Traceback" not in office.log.read_text(errors="replace")


def test_settings_locked_by_it_win_over_the_user(oxt, plume, tmp_path):
    """An .oxt built with --lock: the user cannot change the server address (see docs/deploy-libreoffice.md)."""
    reason = available()
    if reason:
        pytest.skip(reason)
    locked = tmp_path / "locked.oxt"
    plume_cli("addin", "build-oxt", "--output", str(locked), "--server-url", plume.url, "--lock")
    base = Path(tempfile.mkdtemp(prefix="plume-lo-"))
    try:
        install_extension(locked, base / "profile")
        office = Office.start(base / "profile", free_port(), base / "soffice.log")
        try:
            answer = office.run({"settings": {"ServerURL": "http://127.0.0.1:9", "Token": plume.tokens["user"]},
                                 "dispatch": "vnd.plume:templates"})
            page = office.run({"options_page": {}})
        finally:
            office.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
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
    answer = run({"paragraphs": [[{"text": "Début du dossier."}]], "select": "end",
                  "dispatch": "vnd.plume:template?id=attestation-domicile&mode=insert",
                  "args": {"Values": json.dumps(values)}, "undo": True})
    assert answer["state"] == "SUCCESS", answer
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
        expected = "plume models"
    assert answer["state"] == "FAILURE", answer
    assert expected in answer["result"]["message"]
    assert answer["after"] == answer["before"]
    assert answer["undo_titles"] == []


def test_https_server_with_a_certificate_the_system_does_not_trust_is_refused(run, tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
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
    assert "Prestation ; Montant" in forms.hint(fees)


def test_reformat_keeps_formatting_of_kept_words():
    old = [richtext.Run("Nous accusons "), richtext.Run("réception", bold=True), richtext.Run(" de votre requête.")]
    new = richtext.reformat(old, "Nous avons reçu votre demande. Merci de votre requête.")
    assert richtext.plain(new) == "Nous avons reçu votre demande. Merci de votre requête."
    assert any(r.bold for r in new)  # the replaced bold word's formatting goes to its replacement
    assert [r for r in new if "requête" in r.text][0].bold is False
