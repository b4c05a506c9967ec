"""Tables whose cells the template makes (cell loops, merges, colspan, a removed cell), document
properties: through the real server, in .docx and .odt, checked in the XML, against docxtpl's own
output, and in the PDF LibreOffice makes of them (the table inside the margins, columns where the
grid says)."""

from __future__ import annotations

import io
import re
import subprocess
import tomllib
import zipfile
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import REPO, start_server
from tests.soffice import convert, require_soffice

TABLES = REPO / "tests" / "fixtures" / "documents" / "tables"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
T = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
MONTHS = ["Janvier", "Février", "Mars", "Avril", "Mai", "Juin"]


def examples() -> dict:
    manifest = tomllib.loads((TABLES / "tableaux" / "template.toml").read_text(encoding="utf-8"))
    return {f["name"]: f["example"] for f in manifest["fields"] if "example" in f}


@pytest.fixture(scope="module")
def tables_server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("plume-tables"), "--templates", str(TABLES))
    yield srv
    srv.stop()


def render(server, fmt: str, template: str = "tableaux", **values) -> bytes:
    response = server.client().post(f"/v1/templates/{template}/render",
                                    json={"values": {**(examples() if template == "tableaux" else {}), **values},
                                          "format": fmt})
    assert response.status_code == 200, response.text
    return response.content


def part(data: bytes, name: str) -> etree._Element:
    return etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read(name))


# -- .docx ---------------------------------------------------------------------------------------

def docx_tables(data: bytes) -> list[dict]:
    """Per table: the grid's widths, and per row the cells' (span, vMerge, text)."""
    tables = []
    for table in part(data, "word/document.xml").iter(f"{{{W}}}tbl"):
        grid = [int(c.get(f"{{{W}}}w")) for c in table.find(f"{{{W}}}tblGrid")]
        rows = []
        for row in table.iter(f"{{{W}}}tr"):
            cells = []
            for cell in row.findall(f"{{{W}}}tc"):
                span = cell.find(f"{{{W}}}tcPr/{{{W}}}gridSpan")
                merge = cell.find(f"{{{W}}}tcPr/{{{W}}}vMerge")
                cells.append((int(span.get(f"{{{W}}}val")) if span is not None else 1,
                              merge.get(f"{{{W}}}val") if merge is not None else None,
                              "".join(t.text or "" for t in cell.iter(f"{{{W}}}t"))))
            rows.append(cells)
        tables.append({"grid": grid, "rows": rows})
    return tables


def covered(row: list[tuple]) -> int:
    return sum(span for span, _, _ in row)


def test_docx_every_row_covers_the_grid(tables_server):
    for avec_remarque in (False, True):
        tables = docx_tables(render(tables_server, "docx", avec_remarque=avec_remarque))
        for number, table in enumerate(tables, start=1):
            assert {covered(row) for row in table["rows"]} == {len(table["grid"])}, f"T{number}"


def test_docx_cell_loop_adds_grid_columns_and_keeps_the_width(tables_server):
    t1 = docx_tables(render(tables_server, "docx"))[0]
    model = docx_tables((TABLES / "tableaux" / "model.docx").read_bytes())[0]
    assert len(model["grid"]) == 4 and len(t1["grid"]) == 1 + len(MONTHS)
    assert [c[2] for c in t1["rows"][0]] == ["Poste", *MONTHS]
    assert abs(sum(t1["grid"]) - sum(model["grid"])) <= len(t1["grid"])  # same table width, rounding apart


def test_docx_horizontal_merge_spans_the_loop(tables_server):
    t2 = docx_tables(render(tables_server, "docx", colonnes=MONTHS[:4]))[1]
    assert [(c[0], c[2]) for c in t2["rows"][0]] == [(1, "Poste"), (4, "Mois 2026")]
    assert len(t2["grid"]) == 5


def test_docx_colspan_from_a_value(tables_server):
    t3 = docx_tables(render(tables_server, "docx", largeur=2))[2]
    assert [(c[0], c[2]) for c in t3["rows"][0]] == [(2, "Période"), (1, "Total")]
    assert len(t3["grid"]) == 3


def test_docx_vertical_merge_down_the_row_loop(tables_server):
    t4 = docx_tables(render(tables_server, "docx"))[3]
    assert [row[0][1:] for row in t4["rows"][1:]] == [("restart", "Bâtiments"), ("continue", ""), ("continue", "")]


def test_docx_removed_cell_gives_its_width_to_the_others(tables_server):
    without = docx_tables(render(tables_server, "docx", avec_remarque=False))[4]
    with_it = docx_tables(render(tables_server, "docx", avec_remarque=True))[4]
    assert len(without["grid"]) == 2 and len(with_it["grid"]) == 3
    assert [c[2] for c in with_it["rows"][0]] == ["Poste", "Montant", "Remarque"]
    assert abs(sum(without["grid"]) - sum(with_it["grid"])) <= 3


def test_docx_tables_match_docxtpl(tables_server):
    """Same grid widths, spans and merges as docxtpl's own render of the same model and values."""
    from docxtpl import DocxTemplate
    from plume.documents.formatting import make_environment
    from plume.documents.manifest import load_manifest
    from plume.documents.values import validate

    values = {**examples(), "avec_remarque": True}
    typed = validate(load_manifest(TABLES / "tableaux" / "template.toml"), values)
    reference = DocxTemplate(TABLES / "tableaux" / "model.docx")
    reference.render({**typed, "today": date.today(), "commune": {}}, jinja_env=make_environment(None), autoescape=True)
    out = io.BytesIO()
    reference.save(out)
    assert docx_tables(render(tables_server, "docx", avec_remarque=True)) == docx_tables(out.getvalue())


# -- .odt ----------------------------------------------------------------------------------------

def odt_tables(data: bytes) -> list[dict]:
    """Per table: how many columns, and per row its cells as (kind, columns spanned, rows spanned, text)."""
    tables = []
    for table in part(data, "content.xml").iter(f"{{{T}}}table"):
        columns = sum(int(c.get(f"{{{T}}}number-columns-repeated", "1")) for c in table.findall(f"{{{T}}}table-column"))
        rows = []
        for row in table.iter(f"{{{T}}}table-row"):
            cells = []
            for cell in row:
                kind = etree.QName(cell).localname
                cells.append((kind, int(cell.get(f"{{{T}}}number-columns-spanned", "1")),
                              int(cell.get(f"{{{T}}}number-rows-spanned", "1")),
                              "".join(cell.itertext()).strip()))
            rows.append(cells)
        tables.append({"columns": columns, "rows": rows})
    return tables


def test_odt_every_row_covers_the_columns(tables_server):
    for avec_remarque in (False, True):
        tables = odt_tables(render(tables_server, "odt", avec_remarque=avec_remarque))
        for number, table in enumerate(tables, start=1):
            assert {len(row) for row in table["rows"]} == {table["columns"]}, f"T{number}"


def test_odt_constructions(tables_server):
    t1, t2, t3, t4, t5 = odt_tables(render(tables_server, "odt", colonnes=MONTHS[:4], largeur=2))
    assert t1["columns"] == 5 and [c[3] for c in t1["rows"][0]] == ["Poste", *MONTHS[:4]]
    assert [c[:2] for c in t2["rows"][0]] == [("table-cell", 1), ("table-cell", 4)] + [("covered-table-cell", 1)] * 3
    assert t2["rows"][0][1][3] == "Mois 2026"
    assert [c[:2] for c in t3["rows"][0]] == [("table-cell", 2), ("covered-table-cell", 1), ("table-cell", 1)]
    assert [(row[0][0], row[0][2]) for row in t4["rows"][1:]] == [("table-cell", 3), ("covered-table-cell", 1),
                                                                   ("covered-table-cell", 1)]
    assert t5["columns"] == 2 and [c[3] for c in t5["rows"][0]] == ["Poste", "Montant"]


# -- document properties -------------------------------------------------------------------------

def test_properties_are_filled_and_escaped(tables_server):
    docx = part(render(tables_server, "docx"), "docProps/core.xml")
    title = docx.find("{http://purl.org/dc/elements/1.1/}title").text
    assert title == "Budget 2026 — Müller & Fils <SA>"
    assert docx.find("{http://purl.org/dc/elements/1.1/}subject").text == "Postes de Müller & Fils <SA>"
    meta = part(render(tables_server, "odt"), "meta.xml")
    assert next(meta.iter("{http://purl.org/dc/elements/1.1/}title")).text == title


DC = "http://purl.org/dc/elements/1.1/"
VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
TRICKY = "Dupont <&> \"l'Aîné\""  # every character XML escapes


def test_every_docx_property_part_is_filled_and_escaped(tables_server):
    """The `proprietes` model: core.xml, app.xml (company, manager) and custom.xml each parse back to
    the value as sent."""
    data = render(tables_server, "docx", "proprietes", nom=TRICKY, annee="2026")
    core = part(data, "docProps/core.xml")
    assert core.find(f"{{{DC}}}title").text == f"Budget 2026 — {TRICKY}"
    assert core.find(f"{{{DC}}}subject").text == f"Postes de {TRICKY}"
    assert core.find(f"{{{DC}}}description").text == f"Budget préparé pour {TRICKY}"
    app = part(data, "docProps/app.xml")
    extended = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
    assert app.find(f"{extended}Company").text == TRICKY
    assert app.find(f"{extended}Manager").text == f"Service de {TRICKY}"
    custom = {p.get("name"): p.find(f"{{{VT}}}lpwstr").text for p in part(data, "docProps/custom.xml")}
    assert custom == {"Dossier": f"{TRICKY} / 2026"}


def test_every_odt_property_is_filled_and_escaped(tables_server):
    """meta.xml: title, subject, description and a user-defined property."""
    meta = part(render(tables_server, "odt", "proprietes", nom=TRICKY, annee="2026"), "meta.xml")
    assert next(meta.iter(f"{{{DC}}}title")).text == f"Budget 2026 — {TRICKY}"
    assert next(meta.iter(f"{{{DC}}}subject")).text == f"Postes de {TRICKY}"
    assert next(meta.iter(f"{{{DC}}}description")).text == f"Budget préparé pour {TRICKY}"
    user = {u.get(f"{{{META}}}name"): u.text for u in meta.iter(f"{{{META}}}user-defined")}
    assert user == {"Dossier": f"{TRICKY} / 2026"}


def test_libreoffice_reads_the_rendered_docx_properties(tables_server, tmp_path):
    """The filled core and custom properties are read back by LibreOffice itself (saved as .odt)."""
    require_soffice()  # fails in CI, skips elsewhere
    path = tmp_path / "proprietes.docx"
    path.write_bytes(render(tables_server, "docx", "proprietes", nom=TRICKY, annee="2026"))
    convert([path], tmp_path, to="odt:writer8", timeout=180, check=False)
    meta = part((tmp_path / "proprietes.odt").read_bytes(), "meta.xml")
    assert next(meta.iter(f"{{{DC}}}title")).text == f"Budget 2026 — {TRICKY}"
    assert next(meta.iter(f"{{{DC}}}subject")).text == f"Postes de {TRICKY}"
    user = {u.get(f"{{{META}}}name"): u.text for u in meta.iter(f"{{{META}}}user-defined")}
    assert user.get("Dossier") == f"{TRICKY} / 2026"


def test_property_line_break_stays_plain_text(tables_server):
    meta = part(render(tables_server, "odt", nom="Ligne un\nLigne deux"), "meta.xml")
    assert next(meta.iter("{http://purl.org/dc/elements/1.1/}title")).text == "Budget 2026 — Ligne un\nLigne deux"


# -- the fix-up only where a table needs it -------------------------------------------------------

ATTESTATION = REPO / "templates" / "attestation-domicile"


def _count_fixups(monkeypatch, fmt: str) -> list[int]:
    """Each call of the table fix-up during a render: how many tables it was given."""
    from plume.documents import odt_tables, tables

    calls: list[int] = []
    if fmt == "docx":
        fix = tables._FIXER.fix_tables
        monkeypatch.setattr(tables._FIXER, "fix_tables", lambda xml: calls.append(xml.count("<w:tbl ")) or fix(xml))
    else:
        fix = odt_tables.fix_columns
        monkeypatch.setattr(odt_tables, "fix_columns",
                            lambda xml: calls.append(xml.count("<table:table ")) or fix(xml))
    return calls


def _render_model(folder: Path, fmt: str, values: dict | None = None) -> tuple[object, bytes]:
    from plume.documents import prepare
    from plume.documents.manifest import load_manifest
    from plume.documents.values import validate

    manifest = load_manifest(folder / "template.toml")
    prepared = prepare(folder / f"model.{fmt}")
    typed = validate(manifest, {**manifest.examples(), **(values or {})}, folder=folder)
    return prepared, prepared.render({**typed, "today": date.today(), "commune": {"immeuble": 5403}})


@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_attestation_is_prepared_without_the_table_fixup(monkeypatch, fmt):
    """The attestation's table repeats whole rows ({%tr for %}): no cell is made by the template, so
    its model is prepared without the fix-up and no letter pays for it."""
    calls = _count_fixups(monkeypatch, fmt)
    prepared, data = _render_model(ATTESTATION, fmt)
    assert "plume-fix" not in "".join(p.source for p in prepared.parts)
    assert all(p.post is None or getattr(p.post, "keywords", {}).get("fix") is False for p in prepared.parts)
    assert calls == []
    rows = (part(data, "word/document.xml").iter(f"{{{W}}}tr") if fmt == "docx" else
            part(data, "content.xml").iter(f"{{{T}}}table-row"))
    assert len(list(rows)) > 2  # the row loop did run: the table is there, grown by its rows


@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_table_model_is_prepared_with_the_fixup_for_its_made_cells(monkeypatch, fmt):
    """{%tc %} loops, {% hm %}, {% colspan %} and a removed cell mark their tables when the model is
    prepared; the {% vm %} table (T4, no column change) is not marked. Each render fixes them in one call."""
    calls = _count_fixups(monkeypatch, fmt)
    prepared, _ = _render_model(TABLES / "tableaux", fmt)
    body = next(p for p in prepared.parts if p.name in ("word/document.xml", "content.xml"))
    if fmt == "docx":
        assert body.source.count("plume-fix") == 4 and body.post.keywords["fix"] is True
        assert calls == [4]  # T1, T2, T3 and T5 in one parse
    else:
        from plume.documents import odt

        assert body.post is odt._with_columns
        assert calls == [5]  # .odt fixes the columns of every table of the part, in one parse


# -- LibreOffice's PDF ---------------------------------------------------------------------------

def pdf_words(pdf: bytes, tmp_path: Path) -> tuple[float, list[tuple[float, float, str]]]:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    width = float(re.search(r'<page width="([\d.]+)"', html).group(1))
    words = [(float(a), float(b), w) for a, b, w in
             re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', html)]
    return width, words


@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_pdf_tables_stay_inside_the_margins(tables_server, tmp_path, fmt):
    require_soffice("pdftotext")  # fails in CI, skips elsewhere
    # The server's PDF comes from the .odt; the .docx is converted here the same way (headless soffice).
    pdf = (render(tables_server, "pdf", avec_remarque=False) if fmt == "odt" else
           _convert(render(tables_server, "docx", avec_remarque=False), tmp_path))
    width, words = pdf_words(pdf, tmp_path)
    margin = 2 / 2.54 * 72  # both models: 2 cm margins
    assert words and all(x_max <= width - margin + 1 for _, x_max, _ in words)
    assert {"Juin", "Mois", "Période", "Bâtiments"} <= {w for _, _, w in words}
    # the Title field on the page shows the rendered title (core properties / meta.xml)
    text = " ".join(w for _, _, w in words)
    assert "Titre : Budget 2026 — Müller &amp; Fils &lt;SA&gt;" in text
    # T5 without its remarks column: two columns sharing the table's width, so « Montant » starts
    # about half-way across the text (docxtpl's widths), not where the model's 5-column grid put it.
    montant = [x_min for x_min, _, w in words if w == "Montant"][-1]
    assert abs(montant - (margin + (width - 2 * margin) / 2)) < 12


def _convert(source: bytes, tmp_path: Path) -> bytes:
    path = tmp_path / "tableaux.docx"
    path.write_bytes(source)
    convert([path], tmp_path, timeout=180, check=False)
    return (tmp_path / "tableaux.pdf").read_bytes()


# -- numbers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_numbers_are_grouped_only_when_declared(tables_server, fmt):
    """A `number` field and `|number` are grouped; a year or a house number (plain ints) never."""
    data = render(tables_server, fmt)
    root = part(data, "word/document.xml" if fmt == "docx" else "content.xml")
    texts = ["".join(p.itertext()) for p in root.iter(f"{{{W}}}p" if fmt == "docx" else f"{{{TEXT}}}p")]
    assert f"Exercice {date.today().year}, immeuble 5403, 10'234 habitants, 5'403." in texts


def test_odt_saved_by_libreoffice_keeps_the_constructions(tmp_path):
    """The .docx model saved as .odt by LibreOffice itself (its empty cells, styles and spans), then
    prepared and rendered by Plume: same columns, spans and covered cells as the hand-made .odt."""
    require_soffice()  # fails in CI, skips elsewhere
    from plume.documents import prepare
    from plume.documents.manifest import load_manifest
    from plume.documents.values import validate

    convert([TABLES / "tableaux" / "model.docx"], tmp_path, to="odt:writer8", timeout=180, check=False)
    typed = validate(load_manifest(TABLES / "tableaux" / "template.toml"), examples())
    data = prepare(tmp_path / "model.odt").render({**typed, "today": date.today(), "commune": {"immeuble": 5403}})
    t1, t2, _, t4, t5 = odt_tables(data)
    assert t1["columns"] == 7 and {len(row) for row in t1["rows"]} == {7}
    assert [c[:2] for c in t2["rows"][0]] == [("table-cell", 1), ("table-cell", 6)] + [("covered-table-cell", 1)] * 5
    assert [(row[0][0], row[0][2]) for row in t4["rows"][1:]] == [("table-cell", 3), ("covered-table-cell", 1),
                                                                   ("covered-table-cell", 1)]
    assert t5["columns"] == 2 and {len(row) for row in t5["rows"]} == {2}
