"""`plume templates check`: each mistake a template owner can make is reported with file, part and
paragraph, and the exit code says whether the templates can be used."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import docx
from odf.opendocument import OpenDocumentText
from odf.style import Footer, MasterPage, PageLayout
from odf.text import P

from tests.conftest import REPO, plume_cli

FIXTURES = REPO / "tests" / "fixtures" / "documents" / "templates"

MANIFEST = '''id = "{id}"
title = "Essai"
output = "essai-{{{{ nom }}}}"

[[fields]]
name = "nom"
label = "Nom"
type = "text"
required = true
example = "Dupont"
{extra}'''


def make_docx(path: Path, body: list[str], header: str = "", footer: str = "") -> None:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = header
    document.sections[0].footer.paragraphs[0].text = footer
    for text in body:
        document.add_paragraph(text)
    document.save(path)


def make_odt(path: Path, body: list[str], footer: str) -> None:
    document = OpenDocumentText()
    layout = PageLayout(name="Page")
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    foot = Footer()
    foot.addElement(P(text=footer))
    master.addElement(foot)
    document.masterstyles.addElement(master)
    for text in body:
        document.text.addElement(P(text=text))
    document.save(str(path))


def template(root: Path, template_id: str, extra: str = "") -> Path:
    folder = root / template_id
    folder.mkdir(parents=True)
    (folder / "template.toml").write_text(MANIFEST.format(id=template_id, extra=extra), encoding="utf-8")
    return folder


def check(path: Path, *flags: str):
    return plume_cli("templates", "check", str(path), *flags, check=False)


def findings(path: Path) -> list[dict]:
    result = check(path, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_the_repo_library_and_the_fixtures_are_clean():
    for path in (REPO / "templates", FIXTURES, FIXTURES / "lettre-lo", FIXTURES / "lettre-lo" / "model.odt"):
        result = check(path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Aucune erreur" in result.stdout


def test_undeclared_and_unused_fields(tmp_path):
    folder = template(tmp_path, "champs", extra='\n[[fields]]\nname = "inutile"\ntype = "text"\nexample = "x"\n')
    make_docx(folder / "model.docx", ["Madame {{ nom }},"], header="Réf. {{ inconnu }}")
    found = findings(folder)
    undeclared = next(f for f in found if "inconnu" in f["message"])
    assert undeclared["part"] == "en-tête" and undeclared["paragraph"] == "Réf. {{ inconnu }}"
    assert undeclared["file"].endswith("model.docx") and "non déclarée" in undeclared["message"]
    # fixing the undeclared one leaves the unused field
    make_docx(folder / "model.docx", ["Madame {{ nom }},"], header="Réf.")
    assert any("inutile" in f["message"] and "absent du modèle" in f["message"] for f in findings(folder))


def test_unclosed_block_names_its_paragraph(tmp_path):
    folder = template(tmp_path, "bloc")
    make_docx(folder / "model.docx", ["Bonjour {{ nom }}", "Début {% if nom %} suite", "Fin"])
    result = check(folder)
    assert result.returncode == 1
    assert "{% if %} » jamais fermé" in result.stdout and "corps" in result.stdout
    assert "Début {% if nom %} suite" in result.stdout and "model.docx" in result.stdout


def test_stray_end_tag_in_an_odt_footer(tmp_path):
    folder = template(tmp_path, "pied")
    make_odt(folder / "model.odt", ["Bonjour {{ nom }}"], footer="Page {% endfor %}")
    found = findings(folder)
    assert found[0]["part"] == "pied de page" and "sans « {% for %} » ouvrant" in found[0]["message"]
    assert found[0]["paragraph"] == "Page {% endfor %}"


def test_jinja_syntax_error(tmp_path):
    folder = template(tmp_path, "syntaxe")
    make_docx(folder / "model.docx", ["Bonjour {{ nom | }}"])
    found = findings(folder)
    assert "syntaxe" in found[0]["message"] and found[0]["part"] == "corps"
    assert "Bonjour {{ nom | }}" in found[0]["paragraph"]


def test_bad_manifest_and_bad_example(tmp_path):
    folder = template(tmp_path, "exemple", extra='\n[[fields]]\nname = "le"\ntype = "date"\nexample = "bientôt"\n')
    make_docx(folder / "model.docx", ["{{ nom }} le {{ le }}"])
    assert any("exemple invalide" in f["message"] for f in findings(folder))
    (folder / "template.toml").write_text('id = "exemple"\ntitle = "x"\n[[fields]]\nname = "nom"\ntype = "heure"\n')
    assert "template.toml invalide" in findings(folder)[0]["message"]


def test_split_placeholders_in_a_libreoffice_saved_file_lint_clean(tmp_path):
    # lettre-lo went through LibreOffice's own save; a copy under another id must still lint clean
    folder = tmp_path / "lettre-lo"
    shutil.copytree(FIXTURES / "lettre-lo", folder)
    shutil.copy(FIXTURES / "commune.toml", tmp_path / "commune.toml")
    assert check(folder).returncode == 0


def test_missing_path_is_an_error(tmp_path):
    assert check(tmp_path / "absent").returncode == 1


def test_paragraph_tag_sharing_its_paragraph_and_unknown_filter(tmp_path):
    folder = template(tmp_path, "partage")
    make_docx(folder / "model.docx", ["Bonjour {{ nom }}", "Texte perdu {%p if nom %}", "x", "{%p endif %}"])
    found = findings(folder)
    assert any("seul dans son paragraphe" in f["message"] and f["paragraph"] == "Texte perdu {%p if nom %}"
               for f in found)
    make_docx(folder / "model.docx", ["Bonjour {{ nom|chff }}"])
    assert "filtre « chff » inconnu" in findings(folder)[0]["message"]
