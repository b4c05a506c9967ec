"""Add the Swiss QR-bill page to a letter model: a new page headed by the bill's account and
reference, and a placeholder picture (alt text `{{ qrbill }}`, 21 × 10.6 cm) anchored at the bottom
of that page, edge to edge, where the payment part goes. Plume replaces the picture with the payment
part qrbill draws (server/plume/documents/qrbill.py).

Usage:  .venv/bin/python tools/qrbill_placeholder.py templates/relance-facture
(tools/make_templates.py calls it for relance-facture after LibreOffice's save.)
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import docx
from docx.shared import Cm
from lxml import etree
from PIL import Image

HEADING = "QR-facture — facture n° {{ numero_facture }}"
LINE = "Compte {{ iban }} · référence {{ reference }} · montant {{ montant }}"
WIDTH_CM, HEIGHT_CM = 21.0, 10.6


def placeholder_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (420, 212), "#dddddd").save(out, "PNG")
    return out.getvalue()


def add_to_docx(path: Path) -> None:
    document = docx.Document(path)
    heading = document.add_paragraph(HEADING)
    heading.paragraph_format.page_break_before = True
    document.add_paragraph(LINE)
    run = document.add_paragraph().add_run()
    run.add_picture(io.BytesIO(placeholder_png()), width=Cm(WIDTH_CM), height=Cm(HEIGHT_CM))
    inline = run._r.xpath(".//wp:inline")[0]
    ns = inline.nsmap
    wp = ns["wp"]
    anchor = etree.SubElement(inline.getparent(), f"{{{wp}}}anchor", {
        "distT": "0", "distB": "0", "distL": "0", "distR": "0", "simplePos": "0", "relativeHeight": "251659264",
        "behindDoc": "0", "locked": "0", "layoutInCell": "1", "allowOverlap": "1"})
    etree.SubElement(anchor, f"{{{wp}}}simplePos", x="0", y="0")
    for axis, align in (("positionH", "center"), ("positionV", "bottom")):
        position = etree.SubElement(anchor, f"{{{wp}}}{axis}", relativeFrom="page")
        etree.SubElement(position, f"{{{wp}}}align").text = align
    children = list(inline)
    anchor.append(children[0])  # extent
    etree.SubElement(anchor, f"{{{wp}}}effectExtent", l="0", t="0", r="0", b="0")
    etree.SubElement(anchor, f"{{{wp}}}wrapNone")
    for child in children[1:]:
        if etree.QName(child).localname != "effectExtent":
            anchor.append(child)
    inline.getparent().remove(inline)
    anchor.find(f"{{{wp}}}docPr").set("descr", "{{ qrbill }}")
    document.save(path)


OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
FO = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
SVG = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
XLINK = "http://www.w3.org/1999/xlink"
MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
PICTURE = "Pictures/qrbill-placeholder.png"


def add_to_odt(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        entries = {info: archive.read(info.filename) for info in archive.infolist()}
    by_name = {info.filename: info for info in entries}
    content = etree.fromstring(entries[by_name["content.xml"]])
    styles = content.find(f"{{{OFFICE}}}automatic-styles")
    page = etree.SubElement(styles, f"{{{STYLE}}}style", {f"{{{STYLE}}}name": "PlumeQRPage",
                                                          f"{{{STYLE}}}family": "paragraph"})
    etree.SubElement(page, f"{{{STYLE}}}paragraph-properties", {f"{{{FO}}}break-before": "page"})
    frame_style = etree.SubElement(styles, f"{{{STYLE}}}style", {f"{{{STYLE}}}name": "PlumeQRFrame",
                                                                 f"{{{STYLE}}}family": "graphic"})
    etree.SubElement(frame_style, f"{{{STYLE}}}graphic-properties", {
        f"{{{STYLE}}}wrap": "none", f"{{{STYLE}}}run-through": "foreground",
        f"{{{STYLE}}}vertical-pos": "bottom", f"{{{STYLE}}}vertical-rel": "page",
        f"{{{STYLE}}}horizontal-pos": "center", f"{{{STYLE}}}horizontal-rel": "page", f"{{{FO}}}border": "none",
        f"{{{FO}}}padding": "0cm"})
    text = content.find(f"{{{OFFICE}}}body/{{{OFFICE}}}text")
    etree.SubElement(text, f"{{{TEXT}}}p", {f"{{{TEXT}}}style-name": "PlumeQRPage"}).text = HEADING
    etree.SubElement(text, f"{{{TEXT}}}p").text = LINE
    holder = etree.SubElement(text, f"{{{TEXT}}}p")
    frame = etree.SubElement(holder, f"{{{DRAW}}}frame", {
        f"{{{DRAW}}}style-name": "PlumeQRFrame", f"{{{DRAW}}}name": "qrbill", f"{{{TEXT}}}anchor-type": "paragraph",
        f"{{{SVG}}}width": f"{WIDTH_CM}cm", f"{{{SVG}}}height": f"{HEIGHT_CM}cm", f"{{{DRAW}}}z-index": "0"})
    etree.SubElement(frame, f"{{{DRAW}}}image", {f"{{{XLINK}}}href": PICTURE, f"{{{XLINK}}}type": "simple",
                                                 f"{{{XLINK}}}show": "embed", f"{{{XLINK}}}actuate": "onLoad"})
    etree.SubElement(frame, f"{{{SVG}}}title").text = "{{ qrbill }}"
    manifest = etree.fromstring(entries[by_name["META-INF/manifest.xml"]])
    etree.SubElement(manifest, f"{{{MANIFEST}}}file-entry", {f"{{{MANIFEST}}}full-path": PICTURE,
                                                            f"{{{MANIFEST}}}media-type": "image/png"})
    entries[by_name["content.xml"]] = etree.tostring(content, xml_declaration=True, encoding="UTF-8")
    entries[by_name["META-INF/manifest.xml"]] = etree.tostring(manifest, xml_declaration=True, encoding="UTF-8")
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in entries.items():
            archive.writestr(info, data)
        archive.writestr(zipfile.ZipInfo(PICTURE, date_time=(2026, 1, 1, 0, 0, 0)), placeholder_png())


def main(folder: Path) -> None:
    add_to_docx(folder / "model.docx")
    add_to_odt(folder / "model.odt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
