"""The rendering engine in-process: Swiss French formatting, typed values, the .odt span merging,
and the sandbox. (The HTTP behaviour is in test_templates_api.py.)"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from odf.opendocument import OpenDocumentText
from odf.style import Style, TextProperties
from odf.text import List, ListItem, P, Span
from plume.documents import TemplateInvalid, prepare
from plume.documents.base import RenderFailed
from plume.documents.formatting import format_chf, format_date, format_number
from plume.documents.manifest import ManifestError, parse_manifest
from plume.documents.values import FieldErrors, Money, validate

from tests.fixtures.documents.reading import odt_paragraphs


def test_swiss_french_formats():
    assert format_date(date(2026, 11, 25)) == "25 novembre 2026"
    assert format_date(date(2026, 12, 1)) == "1er décembre 2026"
    assert format_date("2026-11-25", "short") == "25.11.2026"
    assert format_chf(1234.5) == "CHF 1'234.50"
    assert format_chf(Decimal("1234567.899")) == "CHF 1'234'567.90"
    assert format_number(1234.5) == "1'234.5"
    assert format_number(12) == "12"


MANIFEST = b'''id = "essai"
title = "Essai"
[[fields]]
name = "le"
type = "date"
required = true
[[fields]]
name = "montant"
type = "money"
[[fields]]
name = "n"
type = "number"
[[fields]]
name = "ok"
type = "bool"
[[fields]]
name = "lignes"
type = "list"
columns = [{ name = "quoi", type = "text", required = true }, { name = "prix", type = "money" }]
'''


def test_values_are_typed():
    manifest = parse_manifest(MANIFEST)
    typed = validate(manifest, {"le": "25.11.2026", "montant": "CHF 1'234.5", "n": "3", "ok": "oui",
                                "lignes": [{"quoi": "Émolument", "prix": 20}]})
    assert typed["le"] == date(2026, 11, 25)
    assert isinstance(typed["montant"], Money) and typed["montant"] == Decimal("1234.50")
    assert typed["n"] == 3 and typed["ok"] is True
    assert typed["lignes"] == [{"quoi": "Émolument", "prix": Money("20.00")}]
    assert validate(manifest, {"le": "2026-02-28"}) == {"le": date(2026, 2, 28), "lignes": [], "ok": False}


def test_every_bad_value_is_reported_at_once():
    with pytest.raises(FieldErrors) as caught:
        validate(parse_manifest(MANIFEST), {"le": "2026-02-30", "montant": True, "lignes": [{"prix": 1}], "x": 1})
    fields = [e["field"] for e in caught.value.errors]
    assert fields == ["x", "le", "montant", "lignes[1].quoi"]
    assert "« le »" in caught.value.detail


def test_each_bad_value_says_where_it_is_in_values():
    """`path` locates the value in `values` (a list row by its index there), so a form marks the input or
    the row's cell without parsing `field`; `field` stays as it was."""
    with pytest.raises(FieldErrors) as caught:
        validate(parse_manifest(MANIFEST), {"le": "2026-02-30", "lignes": [{"quoi": "Émolument"}, {"prix": 1, "qui": 2}],
                                            "x": 1})
    errors = caught.value.errors
    assert [e["field"] for e in errors] == ["x", "le", "lignes[2].qui", "lignes[2].quoi"]
    assert [e["path"] for e in errors] == [["x"], ["le"], ["lignes", 1, "qui"], ["lignes", 1, "quoi"]]


def test_manifest_errors_are_french():
    with pytest.raises(ManifestError, match="choices"):
        parse_manifest(b'id = "a"\ntitle = "t"\n[[fields]]\nname = "c"\ntype = "choice"\n')
    with pytest.raises(ManifestError, match="identifiant"):
        parse_manifest(b'id = "Pas Bien"\ntitle = "t"\n')


def _odt(build) -> bytes:
    document = OpenDocumentText()
    bold = Style(name="G", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    document.automaticstyles.addElement(bold)
    build(document, bold)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _render_odt(data: bytes, context: dict) -> list[str]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.odt"
        path.write_bytes(data)
        prepared = prepare(path)
    return odt_paragraphs(prepared.render(context))["content.xml"]


def test_odt_tag_split_over_three_nested_spans_and_french_quotes():
    def build(document, bold):
        p = P(text="Le {")
        outer = Span(stylename=bold, text="{ d|date(« sh")
        outer.addElement(Span(text="ort ») }"))
        p.addElement(outer)
        p.addText("} fin")
        document.text.addElement(p)

    assert _render_odt(_odt(build), {"d": date(2026, 11, 25)}) == ["Le 25.11.2026 fin"]


def test_odt_paragraph_loop_over_list_items_keeps_the_list_valid():
    def build(document, bold):
        items = List()
        for text in ("{%p for a in annexes %}", "{{ a }}", "{%p endfor %}"):
            item = ListItem()
            item.addElement(P(text=text))
            items.addElement(item)
        document.text.addElement(items)

    data = _odt(build)
    assert _render_odt(data, {"annexes": ["Plan", "Règlement"]}) == ["Plan", "Règlement"]


def test_sandbox_refuses_unsafe_attribute_access():
    def build(document, bold):
        document.text.addElement(P(text="{{ x.__class__.__mro__[1].__subclasses__() }}"))

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.odt"
        path.write_bytes(_odt(build))
        prepared = prepare(path)
        with pytest.raises(RenderFailed):
            prepared.render({"x": "a"})


def test_syntax_error_is_refused_at_prepare_time(tmp_path):
    def build(document, bold):
        document.text.addElement(P(text="{% if x %} jamais fermé"))

    path = tmp_path / "model.odt"
    path.write_bytes(_odt(build))
    with pytest.raises(TemplateInvalid) as caught:
        prepare(path)
    assert "jamais fermé" in caught.value.problems[0].paragraph


def test_static_parts_are_copied_untouched(tmp_path):
    def build(document, bold):
        document.text.addElement(P(text="{{ x }}"))

    path = tmp_path / "model.odt"
    path.write_bytes(_odt(build))
    out = zipfile.ZipFile(io.BytesIO(prepare(path).render({"x": "y"})))
    source = zipfile.ZipFile(path)
    assert out.namelist()[0] == "mimetype" and out.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
    assert out.read("META-INF/manifest.xml") == source.read("META-INF/manifest.xml")
    assert sorted(out.namelist()) == sorted(source.namelist())
