"""Word .docx models, through docxtpl's own XML patching.

docxtpl's `patch_xml` merges tags split across runs and turns `{%p %}`, `{%tr %}`… into plain Jinja;
`resolve_listing` turns newlines in values into `<w:br/>`. Plain docxtpl redoes all of it, plus
python-docx's load and save, for every letter. Here it is done once per model: the body, headers,
footers and notes are patched and compiled at prepare time, and each render only runs Jinja on
those parts and appends them to the zip of the untouched ones.
"""

from __future__ import annotations

import functools
import itertools
import re
from pathlib import Path

from docxtpl import DocxTemplate

from plume.documents.base import (BODY, FOOTER, HEADER, JINJA_TAG, PartSource, PreparedTemplate, ZipPackage,
                                  normalize_tag)
from plume.documents.formatting import make_environment
from plume.documents.images import docx_placeholders
from plume.documents.properties import DOCX_PROPERTIES, PROPERTIES, properties_post
from plume.documents.tables import fix_marked, mark_tables, needs_fix
from plume.security.safezip import UnsafeDocument, ZipLimits, parse_xml, read_package, xml_text

_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml."
PART_LABELS = {
    _MAIN + "document.main+xml": BODY,
    _MAIN + "template.main+xml": BODY,
    _MAIN + "header+xml": HEADER,
    _MAIN + "footer+xml": FOOTER,
    _MAIN + "footnotes+xml": "notes de bas de page",
    _MAIN + "endnotes+xml": "notes de fin",
}
_HEAD = re.compile(r"^\s*<\?xml[^>]*\?>\s*")
_PATCHER = DocxTemplate.__new__(DocxTemplate)  # patch_xml/resolve_listing use no instance state
_ENV = make_environment(line_break=None)       # newlines are resolved by docxtpl's resolve_listing
_DOCPR_ID = re.compile(r'(<wp:docPr\b[^>]*?\bid=")\d+')


def templated_parts(entries: dict[str, bytes]) -> dict[str, str]:
    """Zip names of the parts that may hold placeholders, with their label."""
    types = parse_xml(entries["[Content_Types].xml"])
    parts = {}
    for override in types:
        content_type = override.get("ContentType", "")
        label = PART_LABELS.get(content_type) or (PROPERTIES if content_type in DOCX_PROPERTIES else None)
        if label and override.get("PartName", "").lower().endswith(".xml"):  # never an image as text
            parts[override.get("PartName", "").lstrip("/")] = label
    return parts


def read_parts(data: bytes, limits: ZipLimits = ZipLimits()) -> tuple[ZipPackage, list[PartSource]]:
    contents = read_package(data, limits)
    if "[Content_Types].xml" not in contents.entries:
        raise UnsafeDocument("Le fichier n'est pas un document Word (.docx) valide.")
    labels = templated_parts(contents.entries)
    parts, images, added, image_parts = [], {}, {}, {}
    for index, (name, label) in enumerate(labels.items()):
        raw = contents.entries.get(name, b"")
        if b"{" not in raw:
            continue
        xml = xml_text(raw)  # refuses DOCTYPE/entities (any encoding) before any regex touches it
        head = _HEAD.match(xml)
        head_text = head.group(0) if head else ""
        body = xml[len(head_text):]
        if label != PROPERTIES:  # properties hold plain text elements: no runs to merge
            body = _PATCHER.patch_xml(body)
        body = JINJA_TAG.sub(lambda m: normalize_tag(m.group(0)), body)
        if label != PROPERTIES:
            body, found = docx_placeholders(body, name, contents.entries, added)
            images.update(found)
            image_parts.update(dict.fromkeys(found.values(), label))
        fix = label != PROPERTIES and needs_fix(body)
        body = mark_tables(body) if fix else body
        source = re.sub(r"<w:p([ >])", r"\n<w:p\1", body)
        # Drawing ids stay unique across parts: each part numbers its own from its own thousand.
        post = (properties_post if label == PROPERTIES else
                functools.partial(_postprocess, fix=fix, first_id=1000 + 100_000 * index))
        parts.append(PartSource(name=name, label=label, head=head_text, source=source,
                                line_labels=[label] * (source.count("\n") + 1), post=post))
    package = ZipPackage.read(data, {p.name for p in parts} | set(images), limits, contents, added)
    package.images, package.image_parts = images, image_parts
    return package, parts


def _postprocess(xml: str, fix: bool = False, first_id: int = 1000) -> str:
    # the line breaks added before each paragraph (values never bring a raw "<": they are escaped)
    xml = xml.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")
    xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
    if "\n" in xml or "\t" in xml:  # only values bring these: resolve them into <w:br/>, <w:tab/>
        xml = _PATCHER.resolve_listing(xml)
    if fix:  # a table whose cells the template makes: its grid follows them (docxtpl's fix-up)
        xml = fix_marked(xml)
    if "<wp:docPr" in xml:  # loops may duplicate drawings: ids must stay unique
        counter = itertools.count(first_id)
        xml = _DOCPR_ID.sub(lambda m: f"{m.group(1)}{next(counter)}", xml)
    return xml


class PreparedDocx(PreparedTemplate):
    format = "docx"
    environment = _ENV
    postprocess = staticmethod(_postprocess)


def prepare_docx(path: Path | bytes, limits: ZipLimits = ZipLimits()) -> PreparedDocx:
    data = path if isinstance(path, bytes) else Path(path).read_bytes()
    package, parts = read_parts(data, limits)
    return PreparedDocx(package, parts)
