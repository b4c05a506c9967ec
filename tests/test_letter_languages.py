"""Letters in the sender's language: the acknowledgement's language versions (model.de.docx…), over
real HTTP and read back with python-docx / odfpy.

What a clerk or a template owner would notice: a German e-mail answered by a letter that is German
throughout (no « Madame, Monsieur » left from the French model, German dates), the same in Italian
and English; a language the template lacks gives the French letter and a warning saying so; the lint
and the upload check a language version like the French model.
"""

from __future__ import annotations

import io
import re
import shutil
import tomllib
import zipfile
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import jinja2.meta
import pytest
from babel.dates import format_date

from tests.conftest import REPO, plume_cli, start_server
from tests.soffice import assert_converted_to_pdf, require_soffice
from tests.test_template_library_content import jinja_source, normalized, plume_syntax, read_parts

TEMPLATES = REPO / "templates"
ACK = TEMPLATES / "accuse-reception"
LANGUAGES = ["de", "it", "en"]
FORMATS = ["docx", "odt"]

# The French model's fixed text: none of it may be left in another language's letter.
FRENCH = ["Madame, Monsieur", "Madame", "Monsieur", "Nous avons bien reçu", "Nous accusons réception", "Veuillez agréer",
          "salutations distinguées", "Objet :", "N/réf.", "Par courriel", "Votre dossier", "Votre envoi",
          "Pour toute question", "jours ouvrables", "Le Locle, le", "Tél.", "décembre", "service compétent"]

# A message in each language (the detector must read it as that language), and what its letter says.
MAILS = {
    "de": ({"from": "Hans Keller <h.keller@example.ch>", "subject": "Anfrage Wohnsitzbestätigung",
            "body": "Guten Tag, ich brauche eine Wohnsitzbestätigung für meinen neuen Arbeitgeber. Ich lege die "
                    "Kopie meines Mietvertrags bei. Vielen Dank und freundliche Grüsse\nHans Keller"},
           ["Sehr geehrte Damen und Herren,", "Eingangsbestätigung – Anfrage Wohnsitzbestätigung",
            "am 1. Dezember 2026 erhalten", "Arbeitstagen bearbeitet", "Freundliche Grüsse", "Unsere Referenz:",
            "Per E-Mail: h.keller@example.ch"],
           "Seite", "d. MMMM y"),
    "it": ({"from": "Giulia Rossi <g.rossi@example.ch>", "subject": "Richiesta di informazioni",
            "body": "Buongiorno, vorrei sapere quali documenti servono per iscrivere mio figlio alla scuola del "
                    "comune. La ringrazio per la sua risposta. Cordiali saluti\nGiulia Rossi"},
           ["Gentili Signore e Signori,", "Oggetto: conferma di ricezione – richiesta di informazioni",
            "in data 1º dicembre 2026 abbiamo ricevuto", "giorni lavorativi", "Distinti saluti",
            "Nostro riferimento:"],
           "Pagina", "d MMMM y"),
    "en": ({"from": "John Smith <j.smith@example.com>", "subject": "Parking permit",
            "body": "Hello, I am moving to Le Locle next month and would like to know how to get a parking permit "
                    "for my car. Thank you in advance. Kind regards\nJohn Smith"},
           ["Dear Sir or Madam,", "Acknowledgement of receipt – parking permit", "which we received on 1 December 2026",
            "working days", "Yours faithfully,", "Our reference:"],
           "Page", "d MMMM y"),
}


def manifest(folder: Path = ACK) -> dict:
    return tomllib.loads((folder / "template.toml").read_text(encoding="utf-8"))


def text_of(data: bytes, fmt: str) -> tuple[dict[str, list[str]], str]:
    parts = read_parts(data, fmt)
    return parts, normalized("\n".join(sum(parts.values(), [])))


def french_left(text: str) -> list[str]:
    words = text.replace("Service de l'urbanisme", "").replace("Chancellerie communale", "")
    return [phrase for phrase in FRENCH if normalized(phrase) in words]


def today_in(language: str, pattern: str) -> str:
    text = format_date(date.today(), pattern, locale=f"{language}_CH")
    return "1º" + text[1:] if language == "it" and date.today().day == 1 else text


# -- the models ----------------------------------------------------------------------------------

def test_translations_are_declared_and_present():
    assert manifest()["translations"] == LANGUAGES
    for language in LANGUAGES:
        for fmt in FORMATS:
            assert zipfile.is_zipfile(ACK / f"model.{language}.{fmt}"), f"model.{language}.{fmt}"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_language_version_asks_for_the_same_fields_and_has_the_letterhead(language, fmt):
    parts = read_parts((ACK / f"model.{language}.{fmt}").read_bytes(), fmt)
    used = jinja2.meta.find_undeclared_variables(plume_syntax().parse(jinja_source(parts))) - {"today", "commune"}
    assert used == {f["name"] for f in manifest()["fields"]}
    header = " ".join(parts["header"])
    for key in ("nom", "adresse", "npa_localite", "telephone", "email", "site"):
        assert f"{{{{ commune.{key} }}}}" in header
    assert any(t.startswith(MAILS[language][2]) for t in parts["footer"]), parts["footer"]
    prose = re.sub(r"\{[{%#].*?[}%#]\}", " ", " ".join(sum(parts.values(), [])))  # the text, not the tags
    assert not french_left(normalized(prose)), french_left(normalized(prose))


def test_templates_api_lists_the_languages(server):
    with server.client() as client:
        detail = client.get("/v1/templates/accuse-reception").json()
        listing = {t["id"]: t for t in client.get("/v1/templates").json()}
    assert detail["languages"] == ["fr", *LANGUAGES]
    assert detail["language_formats"] == {language: FORMATS for language in ["fr", *LANGUAGES]}
    assert listing["accuse-reception"]["languages"] == ["fr", *LANGUAGES]
    assert listing["attestation-domicile"]["languages"] == ["fr"]


# -- acknowledgements over HTTP ------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_email_acknowledged_as_a_letter_in_the_senders_language(server, language, fmt):
    mail, expected, page, date_pattern = MAILS[language]
    with server.client() as client:
        text_ack = client.post("/v1/mail/acknowledge", json={"engine": "rules", "date": "2026-12-01", **mail})
        letter = client.post("/v1/mail/acknowledge",
                             json={"engine": "rules", "date": "2026-12-01", "format": fmt, **mail})
    assert text_ack.status_code == 200 and text_ack.json()["language"] == language, text_ack.text
    assert letter.status_code == 200, letter.text
    assert letter.headers["content-language"] == language and "x-plume-warning" not in letter.headers
    parts, text = text_of(letter.content, fmt)
    for phrase in expected:
        assert normalized(phrase) in text, f"{phrase!r} absent : {text}"
    assert f"Le Locle, {today_in(language, date_pattern)}" in text
    assert any(normalized(t).startswith(page) for t in parts["footer"])
    assert letter.headers["x-plume-reference"] in text
    assert not french_left(text), french_left(text)
    assert "{{" not in text and "{%" not in text


def test_named_sender_gets_the_personal_greeting(server):
    mail = {"from": "Anna Müller <anna.mueller@example.ch>", "subject": "Baugesuch Garage",
            "body": "Sehr geehrte Damen und Herren, anbei sende ich Ihnen mein Baugesuch für eine Garage. "
                    "Freundliche Grüsse\nAnna Müller"}
    with server.client() as client:
        letter = client.post("/v1/mail/acknowledge", json={"engine": "rules", "format": "docx", "date": "2026-12-01",
                                                           "values": {"civilite": "Madame"}, **mail})
    assert letter.status_code == 200, letter.text
    _, text = text_of(letter.content, "docx")
    # German nouns keep their capital in the subject line; the address says « Frau ».
    assert "Sehr geehrte Frau Müller," in text and "Eingangsbestätigung – Baugesuch Garage" in text
    assert "Frau\nAnna Müller" in "\n".join(read_parts(letter.content, "docx")["body"])


# -- a language without a version ----------------------------------------------------------------

def test_language_without_version_gives_french_and_a_warning(server):
    values = {f["name"]: f["example"] for f in manifest()["fields"]}
    with server.client() as client:
        spanish = client.post("/v1/templates/accuse-reception/render",
                              json={"values": values, "format": "docx", "language": "es"})
        german = client.post("/v1/templates/accuse-reception/render",
                             json={"values": values, "format": "odt", "language": "de"})
        other = client.post("/v1/templates/attestation-domicile/render",
                            json={"values": {f["name"]: f["example"] for f in manifest(TEMPLATES / "attestation-domicile")["fields"]},
                                  "format": "docx", "language": "de"})
        bad = client.post("/v1/templates/accuse-reception/render",
                          json={"values": values, "format": "docx", "language": "d e"})
    assert spanish.status_code == 200 and spanish.headers["content-language"] == "fr"
    warning = unquote(spanish.headers["x-plume-warning"])
    assert "n'a pas de version en espagnol (es)" in warning and "en français" in warning
    assert "Veuillez agréer" in text_of(spanish.content, "docx")[1]
    assert german.status_code == 200 and german.headers["content-language"] == "de"
    assert "x-plume-warning" not in german.headers
    assert other.status_code == 200 and "allemand" in unquote(other.headers["x-plume-warning"])
    assert bad.status_code == 422 and "Langue" in bad.json()["detail"]


@pytest.fixture(scope="module")
def without_italian(tmp_path_factory):
    """The library with an accuse-reception that has no Italian version."""
    tmp = tmp_path_factory.mktemp("sans-italien")
    templates = tmp / "templates"
    templates.mkdir()
    shutil.copy(TEMPLATES / "commune.toml", templates)
    folder = shutil.copytree(ACK, templates / "accuse-reception")
    for fmt in FORMATS:
        (folder / f"model.it.{fmt}").unlink()
    toml = (folder / "template.toml").read_text(encoding="utf-8")
    (folder / "template.toml").write_text(toml.replace('["de", "it", "en"]', '["de", "en"]'), encoding="utf-8")
    srv = start_server(tmp, "--templates", str(templates))
    yield srv
    srv.stop()


@pytest.mark.parametrize("fmt", FORMATS)
def test_acknowledgement_in_a_language_without_version_is_french_with_a_warning(without_italian, fmt):
    mail = MAILS["it"][0]
    with without_italian.client() as client:
        letter = client.post("/v1/mail/acknowledge", json={"engine": "rules", "date": "2026-12-01", "format": fmt,
                                                           **mail})
    assert letter.status_code == 200, letter.text
    assert letter.headers["content-language"] == "fr"
    warning = unquote(letter.headers["x-plume-warning"])
    assert "pas de version en italien (it)" in warning and "modèle en français" in warning
    _, text = text_of(letter.content, fmt)
    # French throughout: the delay too, not « giorni lavorativi » in a French sentence.
    assert "Veuillez agréer, Madame, Monsieur, nos salutations distinguées." in text
    assert "délai habituel de 10 jours ouvrables" in text and "giorni" not in text
    assert "1er décembre 2026" in text


# -- lint and upload -----------------------------------------------------------------------------

def _replaced(model: Path, old: str, new: str) -> bytes:
    part = "word/document.xml" if model.suffix == ".docx" else "content.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(model) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                assert old.encode() in data
                data = data.replace(old.encode(), new.encode(), 1)
            zout.writestr(info, data)
    return out.getvalue()


def test_lint_checks_language_versions(tmp_path):
    folder = shutil.copytree(ACK, tmp_path / "accuse-reception")
    shutil.copy(TEMPLATES / "commune.toml", tmp_path)
    assert plume_cli("templates", "check", str(folder), check=False).returncode == 0
    (folder / "model.de.docx").write_bytes(_replaced(ACK / "model.de.docx", "{{ reference }}", "{{ referenz }}"))
    (folder / "model.rm.odt").write_bytes((ACK / "model.odt").read_bytes())
    (folder / "model.it.odt").unlink()
    (folder / "model.it.docx").unlink()
    shutil.copy(ACK / "model.docx", folder / "model.fr.docx")  # French is the base model: a naming slip
    result = plume_cli("templates", "check", str(folder), check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "model.de.docx" in out and "referenz" in out
    assert "langue « rm » non déclarée" in out
    assert "ni model.it.docx ni model.it.odt" in out
    assert "le modèle en français s'appelle model.docx" in out and "« fr » non déclarée" not in out


def test_templates_list_names_each_letters_languages():
    listing = plume_cli("templates", "list", str(TEMPLATES)).stdout.splitlines()
    rows = {line.split("\t")[0]: line.split("\t") for line in listing}
    assert rows["accuse-reception"][2] == "fr,de,it,en" and rows["attestation-domicile"][2] == "fr"


def _upload(client, name: str, data: bytes, language: str | None = None, manifest_text: str | None = None):
    files: dict = {"file": (name, data, "application/octet-stream")}
    if manifest_text is not None:
        files["manifest"] = ("template.toml", manifest_text.encode(), "application/toml")
    return client.put("/v1/templates/accuse-reception", files=files,
                      data={"language": language} if language else None)


def test_upload_checks_and_keeps_language_versions(tmp_path):
    srv = start_server(tmp_path, "--templates", str(TEMPLATES))
    try:
        owner = srv.client("template-owner")
        values = {f["name"]: f["example"] for f in manifest()["fields"]}
        broken = _replaced(ACK / "model.de.docx", "{{ reference }}", "{{ referenz }}")
        refused_by_part = _upload(owner, "lettre.docx", broken, language="de")
        refused_by_name = _upload(owner, "model.de.docx", broken)
        undeclared = _upload(owner, "model.es.docx", (ACK / "model.en.docx").read_bytes())
        bad_language = _upload(owner, "lettre.docx", (ACK / "model.de.docx").read_bytes(), language="allemand")
        for response in (refused_by_part, refused_by_name):
            assert response.status_code == 422, response.text
            findings = response.json()["findings"]
            assert any(f["file"] == "model.de.docx" and "referenz" in f["message"] for f in findings), findings
        assert undeclared.status_code == 422
        assert any("« es » non déclarée" in f["message"] for f in undeclared.json()["findings"])
        assert bad_language.status_code == 422
        assert owner.get("/v1/templates/accuse-reception/versions").json()[-1]["revision"] == 0  # nothing stored

        better = _replaced(ACK / "model.de.docx", "Unsere Referenz:", "Unser Zeichen:")
        accepted = _upload(owner, "Eingangsbestaetigung.docx", better, language="de")
        assert accepted.status_code == 201, accepted.text
        assert "model.de.docx" in accepted.json()["files"] and "model.it.odt" in accepted.json()["files"]
        german = owner.post("/v1/templates/accuse-reception/render",
                            json={"values": values, "format": "docx", "language": "de"})
        french = owner.post("/v1/templates/accuse-reception/render", json={"values": values, "format": "docx"})
        assert "Unser Zeichen:" in text_of(german.content, "docx")[1]
        assert "N/réf. :" in text_of(french.content, "docx")[1]

        # A new language: its model and the manifest declaring it, in one upload.
        toml = (ACK / "template.toml").read_text(encoding="utf-8").replace('["de", "it", "en"]', '["de", "it", "en", "rm"]')
        romansh = _replaced(ACK / "model.en.odt", "Our reference:", "Nossa referenza:")
        added = _upload(owner, "model.rm.odt", romansh, manifest_text=toml)
        assert added.status_code == 201, added.text
        info = owner.get("/v1/templates/accuse-reception").json()
        assert info["languages"] == ["fr", "de", "it", "en", "rm"] and info["language_formats"]["rm"] == ["odt"]
        rm_odt = owner.post("/v1/templates/accuse-reception/render",
                            json={"values": values, "format": "odt", "language": "rm"})
        rm_docx = owner.post("/v1/templates/accuse-reception/render",
                             json={"values": values, "format": "docx", "language": "rm"})
        assert "Nossa referenza:" in text_of(rm_odt.content, "odt")[1] and "x-plume-warning" not in rm_odt.headers
        assert rm_docx.headers["content-language"] == "fr" and "au format .docx" in unquote(
            rm_docx.headers["x-plume-warning"])
    finally:
        srv.stop()


# -- LibreOffice ---------------------------------------------------------------------------------

@pytest.mark.libreoffice
def test_language_letters_convert_to_pdf_with_libreoffice(server, tmp_path):
    require_soffice()  # fails in CI, skips elsewhere
    files = []
    with server.client() as client:
        for language in LANGUAGES:
            for fmt in FORMATS:
                letter = client.post("/v1/mail/acknowledge", json={"engine": "rules", "date": "2026-12-01",
                                                                   "format": fmt, **MAILS[language][0]})
                assert letter.status_code == 200, letter.text
                path = tmp_path / f"accuse-{language}-{fmt}.{fmt}"
                path.write_bytes(letter.content)
                files.append(path)
    assert_converted_to_pdf(files, tmp_path)
