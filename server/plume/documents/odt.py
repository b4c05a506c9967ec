"""OpenDocument .odt models: a small engine over content.xml and styles.xml (headers and footers
live in styles.xml), with docxtpl's conventions.

No maintained library renders Jinja in .odt with split spans, `{%p %}` and `{%tr %}` (secretary and
relatorio use other syntaxes), so this is the part written here:
1. in each paragraph, a tag the word processor split across <text:span>s is moved whole into the
   span where it starts (that span's formatting is the placeholder's formatting);
2. a paragraph holding only `{%p … %}`, and a table row holding `{%tr … %}`, are replaced by the
   bare Jinja tag;
3. the XML is serialized with one paragraph per line (so Jinja errors point at a paragraph) and
   compiled in the XML-escaping sandbox; newlines in values become <text:line-break/>.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from plume.documents.base import BODY, FOOTER, HEADER, JINJA_TAG, PartSource, PreparedTemplate, ZipPackage, normalize_tag
from plume.documents.formatting import make_environment, odt_line_break
from plume.documents.images import odt_manifest, odt_placeholders
from plume.documents import odt_tables
from plume.documents.properties import ODT_PROPERTIES, PROPERTIES, properties_post
from plume.security.safezip import UnsafeDocument, ZipLimits, parse_xml, read_package

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
PARAGRAPHS = (f"{{{TEXT}}}p", f"{{{TEXT}}}h")
# Inline containers whose text is part of the paragraph's own text (not frames, notes, comments).
INLINE = {f"{{{TEXT}}}{name}" for name in ("span", "a", "meta", "ruby", "ruby-base")}
ODT_PARTS = {"content.xml": BODY, "styles.xml": "styles", ODT_PROPERTIES: PROPERTIES}
_ENV = make_environment(line_break=odt_line_break)
_BLOCK_P = re.compile(r"^\s*\{%p\s(.*?)%\}\s*$", re.DOTALL)
_BLOCK_TR = re.compile(r"\{%tr\s(.*?)%\}", re.DOTALL)


def _slots(paragraph: etree._Element) -> list[tuple[etree._Element, str]]:
    """The (element, 'text'|'tail') places holding this paragraph's own text, in reading order."""
    slots = [(paragraph, "text")]

    def walk(element: etree._Element) -> None:
        for child in element:
            if child.tag in INLINE:
                slots.append((child, "text"))
                walk(child)
            slots.append((child, "tail"))

    walk(paragraph)
    return slots


def paragraph_text(paragraph: etree._Element) -> str:
    return "".join(getattr(el, attr) or "" for el, attr in _slots(paragraph))


def merge_split_tags(paragraph: etree._Element) -> None:
    """Move each tag split across spans whole into the slot where it starts."""
    slots = _slots(paragraph)
    texts = [getattr(el, attr) or "" for el, attr in slots]
    joined = "".join(texts)
    if "{" not in joined:
        return
    owner = [i for i, t in enumerate(texts) for _ in t]  # slot index of each character
    changed = False
    for match in JINJA_TAG.finditer(joined):
        first = owner[match.start()]
        for pos in range(match.start(), match.end()):
            if owner[pos] != first:
                owner[pos] = first
                changed = True
    tags = [(m.start(), m.end()) for m in JINJA_TAG.finditer(joined)]
    if not changed and not tags:
        return
    pieces: list[list[str]] = [[] for _ in slots]
    for pos, char in enumerate(joined):
        pieces[owner[pos]].append(char)
    rebuilt = ["".join(p) for p in pieces]
    for (el, attr), text in zip(slots, rebuilt, strict=True):
        setattr(el, attr, text or None)


def _replace_with_tag(element: etree._Element, tag: str) -> None:
    """Remove `element`, leaving the Jinja tag as text in its place (its tail is kept)."""
    parent = element.getparent()
    text = tag + (element.tail or "")
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    parent.remove(element)


def _block_container(paragraph: etree._Element) -> etree._Element:
    """A `{%p %}` paragraph alone in a list item stands for the whole item (keeps the list valid)."""
    element = paragraph
    parent = element.getparent()
    while parent is not None and parent.tag == f"{{{TEXT}}}list-item" and len(parent) == 1:
        element = parent
        parent = element.getparent()
    return element


def _rewrite(root: etree._Element) -> None:
    paragraphs = [p for p in root.iter(*PARAGRAPHS)]
    for paragraph in paragraphs:
        merge_split_tags(paragraph)
    rows, cells, merges = [], [], []
    for paragraph in paragraphs:
        text = paragraph_text(paragraph)
        tr = _BLOCK_TR.search(text)
        if tr:
            row = next((a for a in paragraph.iterancestors(f"{{{TABLE}}}table-row")), None)
            if row is not None:
                rows.append((row, "{% " + tr.group(1).strip() + " %}"))
                continue
        tc, merge, cell = odt_tables.CELL_TC.search(text), odt_tables.merge_tag(text), odt_tables.cell_of(paragraph)
        if cell is not None and tc:
            cells.append((cell, "{% " + tc.group(1).strip() + " %}"))
            continue
        if cell is not None and merge:
            odt_tables.strip_merge_tag(paragraph, _slots(paragraph))
            merges.append((cell, *merge))
        block = _BLOCK_P.match(text)
        if block:
            _replace_with_tag(_block_container(paragraph), "{% " + block.group(1).strip() + " %}")
    for cell, kind, argument in merges:
        odt_tables.apply_merge(cell, kind, argument)
    for cell, tag in cells:
        if cell.getparent() is not None:
            _replace_with_tag(cell, tag)
    for row, tag in rows:
        if row.getparent() is not None:
            _replace_with_tag(row, tag)


_P_OPEN = re.compile(r"<text:([ph])([ >/])")
_AREA = re.compile(r"<(/?)style:(header|footer)(?:-left|-first)?[ >]")


def _line_labels(source: str, default: str) -> list[str]:
    """Each line (paragraph) labelled by the header/footer it sits in, in styles.xml."""
    labels, current = [], default
    for line in source.split("\n"):
        labels.append(current)  # a line starts with its paragraph: the state at its start is its own
        for match in _AREA.finditer(line):
            current = default if match.group(1) else (HEADER if match.group(2) == "header" else FOOTER)
    return labels


def to_source(root: etree._Element) -> str:
    xml = etree.tostring(root, encoding="unicode")
    xml = JINJA_TAG.sub(lambda m: normalize_tag(m.group(0)), xml)
    return _P_OPEN.sub(lambda m: f"\n<text:{m.group(1)}{m.group(2)}", xml)


def read_parts(data: bytes, limits: ZipLimits = ZipLimits()) -> tuple[ZipPackage, list[PartSource]]:
    contents = read_package(data, limits)
    if contents.entries.get("mimetype", b"").strip() != b"application/vnd.oasis.opendocument.text":
        raise UnsafeDocument("Le fichier n'est pas un document texte OpenDocument (.odt) valide.")
    parts, images, added, image_parts = [], {}, {}, {}
    for name, label in ODT_PARTS.items():
        raw = contents.entries.get(name)
        if raw is None or b"{" not in raw:
            continue
        root = parse_xml(raw)
        _rewrite(root)
        found = odt_placeholders(root, contents.entries, added)
        images.update(found)
        image_parts.update(dict.fromkeys(found.values(), BODY if label == BODY else f"{HEADER} / {FOOTER}"))
        source = to_source(root)
        head = '<?xml version="1.0" encoding="UTF-8"?>\n'
        parts.append(PartSource(name=name, label=label if label in (BODY, PROPERTIES) else "styles", head=head,
                                source=source, line_labels=_line_labels(source, label),
                                post=properties_post if label == PROPERTIES else
                                _with_columns if label == BODY and odt_tables.needs_fix(source) else None))
    if images:
        odt_manifest(contents.entries, added, images)
    package = ZipPackage.read(data, {p.name for p in parts} | set(images), limits, contents, added)
    package.images, package.image_parts = images, image_parts
    return package, parts


def _postprocess(xml: str) -> str:
    return _P_OPEN_NL.sub(r"<text:\1\2", xml)


_P_OPEN_NL = re.compile(r"\n<text:([ph])([ >/])")


def _with_columns(xml: str) -> str:
    """For a body whose tables have template-made cells: columns follow the cells."""
    return odt_tables.fix_columns(_postprocess(xml))


class PreparedOdt(PreparedTemplate):
    format = "odt"
    environment = _ENV
    postprocess = staticmethod(_postprocess)


def prepare_odt(path: Path | bytes, limits: ZipLimits = ZipLimits()) -> PreparedOdt:
    data = path if isinstance(path, bytes) else Path(path).read_bytes()
    package, parts = read_parts(data, limits)
    return PreparedOdt(package, parts)
