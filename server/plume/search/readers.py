"""Reading the commune's documents into blocks of text: headings (with their level) and body lines,
each with its page when the format has pages.

.docx and .odt go through the same zip and XML checks as uploaded letter models
(`security/safezip.py`: entry count, inflated size, compression ratio, no DOCTYPE or entities);
.pdf through pypdfium2 (PDFium, the text layer page by page); .md through markdown-it-py; .html
through lxml's HTML parser without network. What cannot be read raises `Unreadable` with a French
reason that quotes nothing from the file. The indexer calls `read_file` in a separate process with
a time and memory budget (index.py), so a file that hangs or crashes a parser stops nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from plume.security.safezip import UnsafeDocument, ZipLimits, parse_xml, read_package

SUFFIXES = (".docx", ".odt", ".pdf", ".txt", ".md", ".html", ".htm")
MAX_PDF_PAGES = 2000

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"


class Unreadable(ValueError):
    """The file is skipped; the message is French and holds nothing from the file's content."""


@dataclass
class Block:
    text: str
    level: int | None = None  # heading level (1 = top) when the format says it is a heading
    page: int | None = None


@dataclass
class ReadDocument:
    title: str
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = None


def read_file(path: Path, max_bytes: int, limits: ZipLimits = ZipLimits()) -> ReadDocument:
    """The document at `path` as blocks. Raises Unreadable."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise Unreadable("format non pris en charge")
    try:
        if path.stat().st_size > max_bytes:
            raise Unreadable(f"fichier trop volumineux (plus de {max_bytes // (1024 * 1024)} Mo)")
        data = path.read_bytes()
    except OSError:
        raise Unreadable("fichier illisible (droits ou disque)") from None
    reader = {".docx": _docx, ".odt": _odt, ".pdf": _pdf, ".txt": _txt, ".md": _markdown,
              ".html": _html, ".htm": _html}[suffix]
    try:
        document = reader(data, limits) if suffix in (".docx", ".odt") else reader(data)
    except UnsafeDocument as exc:
        raise Unreadable(str(exc).rstrip(".")) from None
    document.title = " ".join((document.title or "").split()) or _title_from_name(path)
    return document


def _title_from_name(path: Path) -> str:
    return path.stem.replace("_", " ").replace("-", " ").strip().capitalize()


# -- Word -------------------------------------------------------------------------------------------------------


def _docx(data: bytes, limits: ZipLimits) -> ReadDocument:
    entries = read_package(data, limits, keep=False).entries  # only the XML parts are kept
    if "word/document.xml" not in entries:
        raise Unreadable("ce n'est pas un document Word (.docx) valide")
    levels = _docx_style_levels(parse_xml(entries["word/styles.xml"])) if "word/styles.xml" in entries else {}
    body = parse_xml(entries["word/document.xml"])
    blocks, title = [], ""
    for paragraph in body.iter(f"{W}p"):
        text = _docx_text(paragraph)
        if not text.strip():
            continue
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        style_id = style.get(f"{W}val") if style is not None else None
        outline = paragraph.find(f"{W}pPr/{W}outlineLvl")
        level = int(outline.get(f"{W}val")) + 1 if outline is not None else levels.get(style_id)
        if level == 0:  # the « Title » style: the document's title, not a heading of the path
            title = title or text
            continue
        blocks.append(Block(text, level))
    return ReadDocument(_core_title(entries.get("docProps/core.xml")) or title, blocks)


def _docx_style_levels(styles) -> dict[str, int]:
    """styleId → heading level (0 for the title style), from the outline level or the style's name
    (« heading 2 », « Titre 2 », « Überschrift 2 »: Word localises names of copied styles)."""
    levels = {}
    for style in styles.iter(f"{W}style"):
        style_id = style.get(f"{W}styleId")
        name_el = style.find(f"{W}name")
        name = (name_el.get(f"{W}val") if name_el is not None else style_id or "").lower()
        outline = style.find(f"{W}pPr/{W}outlineLvl")
        if name in ("title", "titre", "titel"):
            levels[style_id] = 0
        elif outline is not None and outline.get(f"{W}val", "").isdigit() and int(outline.get(f"{W}val")) < 9:
            levels[style_id] = int(outline.get(f"{W}val")) + 1
        elif match := re.fullmatch(r"(?:heading|titre|überschrift)\s*(\d)", name):
            levels[style_id] = int(match.group(1))
    return levels


def _docx_text(paragraph) -> str:
    parts = []
    for element in paragraph.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr"):
        parts.append(element.text or "" if element.tag == f"{W}t" else " ")
    return "".join(parts)


def _core_title(core: bytes | None) -> str:
    if not core:
        return ""
    element = parse_xml(core).find(DC_TITLE)
    return (element.text or "").strip() if element is not None else ""


# -- OpenDocument -----------------------------------------------------------------------------------------------


def _odt(data: bytes, limits: ZipLimits) -> ReadDocument:
    from plume.documents.odt import paragraph_text

    entries = read_package(data, limits, keep=False).entries
    if "content.xml" not in entries:
        raise Unreadable("ce n'est pas un document OpenDocument (.odt) valide")
    root = parse_xml(entries["content.xml"])
    blocks, title = [], ""
    for element in root.iter(f"{TEXT}h", f"{TEXT}p"):
        if element.getparent() is not None and element.getparent().tag in (f"{TEXT}note-body",):
            continue
        text = paragraph_text(element)
        if not text.strip():
            continue
        if element.tag == f"{TEXT}h":
            blocks.append(Block(text, int(element.get(f"{TEXT}outline-level", "1") or 1)))
        elif (element.get(f"{TEXT}style-name") or "").lower() == "title" and not title:
            title = text
        else:
            blocks.append(Block(text))
    meta = entries.get("meta.xml")
    meta_title = ""
    if meta:
        element = parse_xml(meta).find(f".//{DC_TITLE}")
        meta_title = (element.text or "").strip() if element is not None else ""
    return ReadDocument(meta_title or title, blocks)


# -- PDF --------------------------------------------------------------------------------------------------------


def _pdf(data: bytes) -> ReadDocument:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Unreadable("PDF protégé par un mot de passe") from None
        raise Unreadable("PDF illisible ou endommagé") from None
    try:
        if len(pdf) > MAX_PDF_PAGES:
            raise Unreadable(f"PDF de plus de {MAX_PDF_PAGES} pages")
        blocks = []
        for number in range(len(pdf)):
            page = pdf[number]
            text = page.get_textpage().get_text_bounded()
            blocks += [Block(line, None, number + 1) for line in text.splitlines() if line.strip()]
        if not blocks:
            raise Unreadable("PDF sans couche de texte (document scanné ?)")
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
        return ReadDocument(title, blocks, pages=len(pdf))
    except pdfium.PdfiumError:
        raise Unreadable("PDF illisible ou endommagé") from None
    finally:
        pdf.close()


# -- plain text, Markdown, HTML ---------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise Unreadable("fichier binaire, pas du texte")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # older Windows files


def _txt(data: bytes) -> ReadDocument:
    lines = [line for line in _decode(data).splitlines() if line.strip()]
    # A plain-text file has no styles: its first line is its title when it looks like one.
    title = lines[0].strip() if lines and len(lines[0]) <= 150 else ""
    return ReadDocument(title, [Block(line) for line in lines[1 if title else 0:]])


def _markdown(data: bytes) -> ReadDocument:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(_decode(data))
    blocks, title, level = [], "", None
    for token in tokens:
        if token.type == "heading_open":
            level = int(token.tag[1])
        elif token.type == "inline":
            text = " ".join(token.content.replace("**", "").replace("__", "").split("\n"))
            if level == 1 and not title:
                title = text
            elif text.strip():
                blocks.append(Block(text, level - 1 if level and title else level))
            level = None
    return ReadDocument(title, blocks)


_HTML_BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "dt", "dd", "td", "th", "blockquote", "pre"}


def _html(data: bytes) -> ReadDocument:
    from lxml import etree, html

    parser = html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, huge_tree=False)
    try:
        root = html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError):
        raise Unreadable("page HTML illisible") from None
    for element in list(root.iter("script", "style", "noscript", "template", "nav", "footer")):
        if element.getparent() is not None:
            element.drop_tree()
    title = (root.findtext(".//title") or "").strip()
    blocks = []
    for element in root.iter(*_HTML_BLOCKS):
        if any(ancestor.tag in _HTML_BLOCKS for ancestor in element.iterancestors()):
            continue  # its text is in the enclosing block
        text = " ".join(element.text_content().split())
        if not text:
            continue
        if element.tag[0] == "h" and element.tag[1:].isdigit():
            level = int(element.tag[1])
            if level == 1 and (not title or text == title):
                title = title or text
                continue
            blocks.append(Block(text, level - 1))
        else:
            blocks.append(Block(text))
    return ReadDocument(title, blocks)
