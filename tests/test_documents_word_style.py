"""A .docx as Microsoft Word writes it: a placeholder typed in several sittings is cut into runs
with revision ids (w:rsidR), spell-check marks (w:proofErr), a bookmark and a language change in the
middle. No Word runs here, so the model is built with Word's own markup, element by element."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import docx
from plume.documents import prepare

from tests.fixtures.documents.reading import docx_paragraphs

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

# "Madame {{ nom }}, née le {{ naissance|date("short") }}" and a {%p if %} block, fragmented like Word.
WORD_BODY = """
<w:p w:rsidR="00A1" w:rsidRDefault="00B2"><w:r w:rsidR="00A1"><w:t xml:space="preserve">Madame </w:t></w:r>
<w:r w:rsidR="00C3"><w:rPr><w:b/></w:rPr><w:t>{</w:t></w:r><w:proofErr w:type="spellStart"/>
<w:r w:rsidR="00C3"><w:rPr><w:b/></w:rPr><w:t>{ n</w:t></w:r><w:bookmarkStart w:id="0" w:name="_GoBack"/>
<w:r w:rsidR="00D4"><w:rPr><w:b/><w:lang w:val="de-CH"/></w:rPr><w:t>om</w:t></w:r><w:bookmarkEnd w:id="0"/>
<w:proofErr w:type="spellEnd"/><w:r w:rsidR="00C3"><w:rPr><w:b/></w:rPr><w:t xml:space="preserve"> }</w:t></w:r>
<w:r><w:rPr><w:b/></w:rPr><w:t>}</w:t></w:r><w:r><w:t xml:space="preserve">, née le {{ naissance|date(</w:t></w:r>
<w:r w:rsidR="00E5"><w:t>"short") }}</w:t></w:r></w:p>
<w:p><w:r><w:t>{%p if </w:t></w:r><w:proofErr w:type="gramStart"/><w:r><w:t>urgent %}</w:t></w:r><w:proofErr w:type="gramEnd"/></w:p>
<w:p><w:r><w:t>Traitement prioritaire.</w:t></w:r></w:p>
<w:p><w:r><w:t>{%p endif %}</w:t></w:r></w:p>
<w:p><w:r><w:t>Fin.</w:t></w:r></w:p>
""".replace("\n", "")  # Word writes document.xml on one line: no text between elements


def _word_model() -> Path:
    source = io.BytesIO()
    docx.Document().save(source)
    source.seek(0)
    out_dir = Path(tempfile.mkdtemp(prefix="word-style-"))
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(out_dir / "model.docx", "w", zipfile.ZIP_DEFLATED) as out:
        for item in archive.infolist():
            data = archive.read(item)
            if item.filename == "word/document.xml":
                text = data.decode()
                start = text.index("<w:body>") + len("<w:body>")
                data = (text[:start] + WORD_BODY + text[start:]).encode()
            out.writestr(item, data)
    return out_dir / "model.docx"


def _body(data: bytes) -> list[str]:
    return [p for p in docx_paragraphs(data)["word/document.xml"] if p]


def test_word_fragmented_placeholders_render_with_formatting_kept():
    prepared = prepare(_word_model())
    rendered = prepared.render({"nom": "Ferreira", "naissance": "1987-06-14", "urgent": True})
    assert _body(rendered) == ["Madame Ferreira, née le 14.06.1987", "Traitement prioritaire.", "Fin."]
    document = docx.Document(io.BytesIO(rendered))
    bold = [run.text for run in document.paragraphs[0].runs if run.bold]
    assert "Ferreira" in "".join(bold), "the bold of the placeholder is lost"
    assert "Madame" not in "".join(bold)


def test_word_fragmented_condition_removes_its_paragraphs():
    rendered = prepare(_word_model()).render({"nom": "Ferreira", "naissance": "1987-06-14", "urgent": False})
    assert _body(rendered) == ["Madame Ferreira, née le 14.06.1987", "Fin."]
