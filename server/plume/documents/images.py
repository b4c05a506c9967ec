"""Pictures a letter receives as values (a logo, a signature): the `image` field type.

The model holds a placeholder picture whose alternative text (Word: Alt Text; LibreOffice: title or
description) is `{{ field }}`. Its size on the page is the box: the value's picture replaces the
placeholder's file inside the document (docxtpl's `replace_pic` does the same) and is scaled to fit
that box, keeping its proportions. Without a value, the placeholder is left out. It works in the
body, headers and footers of both formats.

A value is `{"data": "<base64>", "type": "image/png"|"image/jpeg"}` in the JSON body, or the name of
a file in the template's own folder. Only PNG and JPEG, checked by their content (Pillow reads the
header), within size and pixel limits: LibreOffice decodes the picture when it makes the PDF.
"""

from __future__ import annotations

import base64
import binascii
import io
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 25_000_000
MAX_TEMPLATE_IMAGES = 20  # picture files in one version of a template (logo, signatures…)
MEDIA_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/jpg": "JPEG"}
IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
# A picture file of a template: a plain name in its folder (no folder part, no leading dot).
IMAGE_NAME = re.compile(r"[\w][\w.-]{0,120}")
_MAGIC = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff"}
# Fields whose value the server draws itself, as SVG (the QR-bill, plume.documents.qrbill.QRBILL_FIELD):
# their placeholder gets the vector drawing, in .odt alone, in .docx beside the PNG copy. Pictures
# sent by clients stay PNG or JPEG only.
VECTOR_FIELDS = frozenset({"qrbill"})
EMPTY_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'  # until a value replaces it
_PLACEHOLDER = re.compile(r"^\s*\{\{\s*([A-Za-z_]\w*)\s*\}\}\s*$")


class ImageInvalid(ValueError):
    """The value is not a usable picture; the message is French and names no content."""


@dataclass(frozen=True)
class Image:
    data: bytes
    format: str          # PNG or JPEG
    width: int           # pixels
    height: int
    vector: bytes | None = None  # the same picture as SVG, for a placeholder in VECTOR_FIELDS

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:  # a bare {{ logo }} in text prints nothing rather than bytes
        return ""

    def _scale(self, box_w: float, box_h: float) -> float:
        return min(box_w / self.width, box_h / self.height)

    def fit_w(self, box_w: float, box_h: float) -> int | float:
        """Width of the picture scaled to fit the box (same unit as the box)."""
        value = self.width * self._scale(box_w, box_h)
        return int(value) if isinstance(box_w, int) else round(value, 3)

    def fit_h(self, box_w: float, box_h: float) -> int | float:
        value = self.height * self._scale(box_w, box_h)
        return int(value) if isinstance(box_h, int) else round(value, 3)


def load_image(raw: Any, folder: Path | None) -> Image:
    """The value of an `image` field: a base64 object, or a file name in the template's folder."""
    if isinstance(raw, dict):
        return _from_json(raw)
    if isinstance(raw, str):
        return _from_file(raw, folder)
    raise ImageInvalid('une image est attendue : {"data": "<base64>", "type": "image/png"} ou le nom d\'un '
                       "fichier du modèle.")


def _from_json(raw: dict) -> Image:
    if set(raw) - {"data", "type"} or not isinstance(raw.get("data"), str):
        raise ImageInvalid('une image est attendue : {"data": "<base64>", "type": "image/png" ou "image/jpeg"}.')
    declared = MEDIA_TYPES.get(str(raw.get("type", "")).lower())
    if declared is None:
        raise ImageInvalid("seules les images PNG et JPEG sont acceptées (type image/png ou image/jpeg).")
    if len(raw["data"]) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise ImageInvalid(f"l'image dépasse {MAX_IMAGE_BYTES // (1024 * 1024)} Mo.")
    try:
        data = base64.b64decode(raw["data"], validate=True)
    except (binascii.Error, ValueError):
        raise ImageInvalid("les données de l'image ne sont pas du base64 valide.") from None
    return _checked(data, declared)


def _from_file(name: str, folder: Path | None) -> Image:
    if folder is None or not IMAGE_NAME.fullmatch(name) or ".." in name:
        raise ImageInvalid("nom de fichier d'image invalide : un fichier du dossier du modèle est attendu.")
    path = folder / name
    if not path.is_file():
        raise ImageInvalid(f"le fichier d'image « {name} » n'existe pas dans le dossier du modèle.")
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise ImageInvalid(f"l'image dépasse {MAX_IMAGE_BYTES // (1024 * 1024)} Mo.")
    return _checked(path.read_bytes(), None)


def is_image_name(name: str) -> bool:
    """A plain file name a template's picture may have: logo.png, signature.jpg…"""
    return bool(IMAGE_NAME.fullmatch(name)) and ".." not in name and Path(name).suffix.lower() in IMAGE_SUFFIXES


def template_image(name: str, data: bytes) -> Image:
    """A picture file uploaded with a template: a plain name ending in .png/.jpg/.jpeg, and content
    of that kind within the same limits as a picture sent with a letter."""
    if not is_image_name(name):
        raise ImageInvalid("nom de fichier invalide : un nom simple comme logo.png ou signature.jpg est attendu, "
                           "sans dossier (ni « / », ni « \\ », ni « .. »).")
    return _checked(data, IMAGE_SUFFIXES[Path(name).suffix.lower()])


def _checked(data: bytes, declared: str | None) -> Image:
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageInvalid(f"l'image dépasse {MAX_IMAGE_BYTES // (1024 * 1024)} Mo.")
    kind = next((k for k, magic in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise ImageInvalid("seules les images PNG et JPEG sont acceptées.")
    if declared is not None and kind != declared:
        raise ImageInvalid(f"le contenu est une image {kind}, pas celle du type annoncé.")
    try:
        with PILImage.open(io.BytesIO(data)) as picture:  # reads the header only
            width, height = picture.size
            if picture.format != kind:
                raise ImageInvalid("le contenu de l'image ne correspond pas à son format.")
    except (UnidentifiedImageError, OSError, PILImage.DecompressionBombError):
        raise ImageInvalid("l'image est illisible.") from None
    if not (0 < width <= 10_000 and 0 < height <= 10_000) or width * height > MAX_PIXELS:
        raise ImageInvalid("l'image a trop de pixels (10 000 × 10 000 au plus, 25 mégapixels).")
    return Image(data=data, format=kind, width=width, height=height)


# -- .docx ---------------------------------------------------------------------------------------

_DRAWING = re.compile(r"<w:drawing>.*?</w:drawing>", re.DOTALL)
_DOCPR = re.compile(r"<wp:docPr\b[^>]*>")
_ATTR = re.compile(r'\b(descr|title|name)="([^"]*)"')
_EXTENT = re.compile(r'<(wp:extent|a:ext) cx="(\d+)" cy="(\d+)"')
_BLIP = re.compile(r'<a:blip\b[^>]*\br:embed="([^"]+)"')


def _placeholder_name(attribute_text: str) -> str | None:
    text = attribute_text.replace("&#123;", "{").replace("&#125;", "}")
    match = _PLACEHOLDER.match(text)
    return match.group(1) if match else None


def docx_placeholders(source: str, part_name: str, entries: dict[str, bytes],
                      added: dict[str, bytes]) -> tuple[str, dict[str, str]]:
    """Rewrite the part's placeholder pictures; return the source and {picture path in zip: field}.

    Each field gets its own picture file (`word/media/plume-<field>.<ext>`) and relationship: word
    processors share one file between identical placeholders, which must not share a value. A field
    in VECTOR_FIELDS also gets `word/media/plume-<field>.svg`, named in the picture as Word names an
    SVG (`asvg:svgBlip`, Office 2016+), the PNG staying for readers without SVG."""
    media: dict[str, str] = {}
    if "<w:drawing>" not in source:
        return source, media
    rels_name = posixpath.join(posixpath.dirname(part_name), "_rels", posixpath.basename(part_name) + ".rels")
    targets = _relationships(entries, part_name)
    new_rels: dict[str, str] = {}

    def relate(field: str, path: str, rel_id: str) -> str:
        media[path] = field
        new_rels[rel_id] = posixpath.relpath(path, posixpath.dirname(part_name))
        return rel_id

    def rewrite(match: re.Match) -> str:
        drawing = match.group(0)
        docpr = _DOCPR.search(drawing)
        names = [_placeholder_name(v) for _, v in _ATTR.findall(docpr.group(0))] if docpr else []
        field = next((n for n in names if n), None)
        blip = _BLIP.search(drawing)
        if field is None or blip is None or targets.get(blip.group(1)) not in entries:
            return drawing
        original = targets[blip.group(1)]
        path = f"word/media/plume-{field}{posixpath.splitext(original)[1]}"
        added.setdefault(path, entries[original])
        rel_id = relate(field, path, f"rIdPlume{field}")
        drawing = drawing.replace(blip.group(0), blip.group(0).replace(f'"{blip.group(1)}"', f'"{rel_id}"'))
        if field in VECTOR_FIELDS:
            svg = f"word/media/plume-{field}.svg"
            added.setdefault(svg, EMPTY_SVG)
            drawing = _with_svg_blip(drawing, relate(field, svg, f"rIdPlume{field}Svg"))
        drawing = drawing.replace(docpr.group(0), _ATTR.sub(
            lambda a: f'{a.group(1)}="{field}"' if _placeholder_name(a.group(2)) else a.group(0), docpr.group(0)))
        drawing = _EXTENT.sub(lambda e: (f'<{e.group(1)} cx="{{{{ {field}.fit_w({e.group(2)}, {e.group(3)}) }}}}" '
                                         f'cy="{{{{ {field}.fit_h({e.group(2)}, {e.group(3)}) }}}}"'), drawing)
        return f"{{% if {field} %}}{drawing}{{% endif %}}"

    source = _DRAWING.sub(rewrite, source)
    if new_rels:
        added[rels_name] = _with_relationships(added.get(rels_name) or entries[rels_name], new_rels)
    if any(path.endswith(".svg") for path in media):
        added["[Content_Types].xml"] = _with_svg_type(added.get("[Content_Types].xml")
                                                      or entries["[Content_Types].xml"])
    return source, media


_SVG_BLIP_EXT = "{96DAC541-7B7A-43D3-8B79-37D633B846F1}"  # [MS-ODRAWXML] 2.3.1.x: the SVG picture extension
_ASVG = "http://schemas.microsoft.com/office/drawing/2016/SVG/main"
_WHOLE_BLIP = re.compile(r"<a:blip\b[^>]*?(?:/>|>.*?</a:blip>)", re.DOTALL)


def _with_svg_blip(drawing: str, rel_id: str) -> str:
    """The picture's `<a:blip>` with the SVG extension Word 2016+ draws instead of the PNG."""
    ext = f'<a:ext uri="{_SVG_BLIP_EXT}"><asvg:svgBlip xmlns:asvg="{_ASVG}" r:embed="{rel_id}"/></a:ext>'

    def add(match: re.Match) -> str:
        blip = match.group(0)
        if blip.endswith("/>"):
            return f"{blip[:-2]}><a:extLst>{ext}</a:extLst></a:blip>"
        if "</a:extLst>" in blip:
            return blip.replace("</a:extLst>", f"{ext}</a:extLst>", 1)
        return blip.replace("</a:blip>", f"<a:extLst>{ext}</a:extLst></a:blip>")

    return _WHOLE_BLIP.sub(add, drawing, count=1)


_CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"


def _with_svg_type(types: bytes) -> bytes:
    from plume.security.safezip import parse_xml

    root = parse_xml(types)
    if not any(d.get("Extension", "").lower() == "svg" for d in root.iter(f"{{{_CONTENT_TYPES}}}Default")):
        etree.SubElement(root, f"{{{_CONTENT_TYPES}}}Default", Extension="svg", ContentType="image/svg+xml")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"


def _with_relationships(rels: bytes, new: dict[str, str]) -> bytes:
    from plume.security.safezip import parse_xml

    root = parse_xml(rels)
    for rel_id, target in new.items():
        etree.SubElement(root, f"{{{_PACKAGE_RELS}}}Relationship", Id=rel_id, Type=_IMAGE_REL, Target=target)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _relationships(entries: dict[str, bytes], part_name: str) -> dict[str, str]:
    folder, base = posixpath.split(part_name)
    rels = entries.get(posixpath.join(folder, "_rels", base + ".rels"))
    if rels is None:
        return {}
    from plume.security.safezip import parse_xml

    targets = {}
    for rel in parse_xml(rels):
        if rel.get("TargetMode") == "External" or not rel.get("Type", "").endswith("/image"):
            continue
        targets[rel.get("Id")] = posixpath.normpath(posixpath.join(folder, rel.get("Target", "")))
    return targets


# -- .odt ----------------------------------------------------------------------------------------

DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
SVG = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
XLINK = "http://www.w3.org/1999/xlink"
_LENGTH = re.compile(r"^([\d.]+)(cm|mm|in|pt)$")
_TO_CM = {"cm": 1.0, "mm": 0.1, "in": 2.54, "pt": 2.54 / 72}


def odt_placeholders(root: etree._Element, entries: dict[str, bytes], added: dict[str, bytes]) -> dict[str, str]:
    """Rewrite placeholder frames in an .odt part's tree; return {picture path in zip: field}.
    Each field gets its own file, `Pictures/plume-<field>.<ext>` (declared in the manifest)."""
    media: dict[str, str] = {}
    for frame in list(root.iter(f"{{{DRAW}}}frame")):
        label = next((el for el in frame if el.tag in (f"{{{SVG}}}title", f"{{{SVG}}}desc")
                      and _placeholder_name(el.text or "")), None)
        name = label.text if label is not None else frame.get(f"{{{DRAW}}}name", "")
        field = _placeholder_name(name or "")
        picture = frame.find(f"{{{DRAW}}}image")
        width = _LENGTH.match(frame.get(f"{{{SVG}}}width", ""))
        height = _LENGTH.match(frame.get(f"{{{SVG}}}height", ""))
        original = picture.get(f"{{{XLINK}}}href") if picture is not None else None
        if field is None or original not in entries or not width or not height:
            continue
        if field in VECTOR_FIELDS:  # LibreOffice draws an SVG picture itself (and keeps it vector in a PDF)
            path = f"Pictures/plume-{field}.svg"
            added.setdefault(path, EMPTY_SVG)
        else:
            path = f"Pictures/plume-{field}{posixpath.splitext(original)[1]}"
            added.setdefault(path, entries[original])
        picture.set(f"{{{XLINK}}}href", path)
        media[path] = field
        if label is not None:
            label.text = field
        if _placeholder_name(frame.get(f"{{{DRAW}}}name", "")):
            frame.set(f"{{{DRAW}}}name", field)
        box_w = round(float(width.group(1)) * _TO_CM[width.group(2)], 3)
        box_h = round(float(height.group(1)) * _TO_CM[height.group(2)], 3)
        frame.set(f"{{{SVG}}}width", f"{{{{ {field}.fit_w({box_w}, {box_h}) }}}}cm")
        frame.set(f"{{{SVG}}}height", f"{{{{ {field}.fit_h({box_w}, {box_h}) }}}}cm")
        _wrap(frame, f"{{% if {field} %}}", "{% endif %}")
    return media


_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"


def odt_manifest(entries: dict[str, bytes], added: dict[str, bytes], media: dict[str, str]) -> None:
    """Declare the new picture files in META-INF/manifest.xml (LibreOffice wants every file listed)."""
    from plume.security.safezip import parse_xml

    root = parse_xml(entries["META-INF/manifest.xml"])
    for path in media:
        media_type = {".png": "image/png", ".svg": "image/svg+xml"}.get(posixpath.splitext(path)[1], "image/jpeg")
        etree.SubElement(root, f"{{{_MANIFEST}}}file-entry", {f"{{{_MANIFEST}}}full-path": path,
                                                               f"{{{_MANIFEST}}}media-type": media_type})
    added["META-INF/manifest.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _wrap(element: etree._Element, before: str, after: str) -> None:
    previous, parent = element.getprevious(), element.getparent()
    if previous is not None:
        previous.tail = (previous.tail or "") + before
    else:
        parent.text = (parent.text or "") + before
    element.tail = after + (element.tail or "")


def media_entries(images: dict[str, str], context: dict[str, Any], entries: dict[str, bytes]) -> dict[str, bytes]:
    """Each placeholder's file: the value's picture (its SVG for an .svg file), or the placeholder's own
    when there is none."""
    result = {}
    for path, field in images.items():
        value = context.get(field)
        if not isinstance(value, Image):
            result[path] = entries[path]
        elif path.endswith(".svg"):
            result[path] = value.vector or EMPTY_SVG
        else:
            result[path] = value.data
    return result
