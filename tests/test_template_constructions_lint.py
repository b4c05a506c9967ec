"""`plume templates check` on the table, picture and QR-bill constructions: each mistake named with
the file, the part and the paragraph, in French; the constructions' fixtures lint clean."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
from docx.shared import Cm
from odf.opendocument import OpenDocumentText
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import P
from PIL import Image

from tests.conftest import REPO, plume_cli

MANIFEST = '''id = "{id}"
title = "Essai"

[[fields]]
name = "nom"
type = "text"
example = "Dupont"

[[fields]]
name = "mois"
type = "list"
example = ["Janvier", "Février"]
{extra}'''


def template(root: Path, template_id: str, extra: str = "") -> Path:
    folder = root / template_id
    folder.mkdir(parents=True)
    (folder / "template.toml").write_text(MANIFEST.format(id=template_id, extra=extra), encoding="utf-8")
    return folder


def findings(path: Path) -> list[dict]:
    result = plume_cli("templates", "check", str(path), "--json", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    return json.loads(result.stdout)


def docx_with_table(path: Path, before: list[str], rows: list[list[str]], picture_alt: str | None = None) -> None:
    document = docx.Document()
    for text in before:
        document.add_paragraph(text)
    table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            table.cell(r, c).text = text
    if picture_alt is not None:
        out = io.BytesIO()
        Image.new("RGB", (20, 10), "gray").save(out, "PNG")
        document.add_paragraph().add_run().add_picture(io.BytesIO(out.getvalue()), width=Cm(4), height=Cm(2))
        document.part.element.xpath(".//wp:docPr")[0].set("descr", picture_alt)
    document.save(path)


def test_the_constructions_fixtures_lint_clean():
    result = plume_cli("templates", "check", str(REPO / "tests" / "fixtures" / "documents" / "tables"), check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cell_tag_outside_a_table(tmp_path):
    folder = template(tmp_path, "hors-tableau")
    docx_with_table(folder / "model.docx", ["{{ nom }} : {%tc for m in mois %}{{ m }}{%tc endfor %}"],
                    [["Mois"], ["x"]])
    found = next(f for f in findings(folder) if "hors d'un tableau" in f["message"])
    assert found["part"] == "corps" and found["paragraph"].startswith("{{ nom }} : {%tc for")
    assert "{% tc … %}" in found["message"] and found["file"].endswith("model.docx")


def test_horizontal_merge_without_a_cell_loop_and_vertical_merge_without_a_row_loop(tmp_path):
    folder = template(tmp_path, "fusions")
    docx_with_table(folder / "model.docx", ["{{ nom }}"],
                    [["{% hm %}Titre {{ mois|length }}", "B"], ["{% vm %}Groupe", "C"]])
    found = findings(folder)
    hm = next(f for f in found if "{% hm %}" in f["message"])
    vm = next(f for f in found if "{% vm %}" in f["message"])
    assert hm["paragraph"] == "{% hm %}Titre {{ mois|length }}" and "{%tc for" in hm["message"]
    assert vm["paragraph"] == "{% vm %}Groupe" and "{%tr for" in vm["message"] and vm["part"] == "corps"


def test_odt_cell_tag_outside_a_table(tmp_path):
    folder = template(tmp_path, "odt-hors-tableau")
    document = OpenDocumentText()
    document.text.addElement(P(text="{{ nom }} {% colspan 2 %}"))
    table = Table(name="T")
    table.addElement(TableColumn(numbercolumnsrepeated=1))
    row = TableRow()
    cell = TableCell()
    cell.addElement(P(text="{% for m in mois %}{{ m }}{% endfor %}"))
    row.addElement(cell)
    table.addElement(row)
    document.text.addElement(table)
    document.save(str(folder / "model.odt"))
    found = next(f for f in findings(folder) if "hors d'un tableau" in f["message"])
    assert found["paragraph"] == "{{ nom }} {% colspan 2 %}" and found["part"] == "corps"


def test_picture_placeholders_must_match_image_fields(tmp_path):
    extra = '\n[[fields]]\nname = "logo"\ntype = "image"\n'
    folder = template(tmp_path, "images", extra=extra)
    docx_with_table(folder / "model.docx", ["{{ nom }}"], [["{% for m in mois %}{{ m }}{% endfor %}"]],
                    picture_alt="{{ nom }}")
    found = findings(folder)
    assert any("« {{ nom }} »" in f["message"] and "type text" in f["message"] and f["part"] == "corps" for f in found)
    assert any("champ image « logo » sans image de remplacement" in f["message"] for f in found)


def test_qrbill_needs_its_picture(tmp_path):
    extra = ('\n[[fields]]\nname = "iban"\ntype = "text"\nexample = "CH44 3199 9123 0008 8901 2"\n'
             '\n[qrbill]\naccount = "iban"\n')
    folder = template(tmp_path, "qr", extra=extra)
    docx_with_table(folder / "model.docx", ["{{ nom }} {{ iban }}"], [["{% for m in mois %}{{ m }}{% endfor %}"]])
    assert any("{{ qrbill }}" in f["message"] for f in findings(folder))


def test_qrbill_naming_an_undeclared_field(tmp_path):
    folder = template(tmp_path, "qr-inconnu", extra='\n[qrbill]\naccount = "compte"\n')
    docx_with_table(folder / "model.docx", ["{{ nom }}"], [["{% for m in mois %}{{ m }}{% endfor %}"]])
    assert any("[qrbill] account = « compte »" in f["message"] for f in findings(folder))
