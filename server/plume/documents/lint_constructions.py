"""`plume templates check` for the table, picture and QR-bill constructions, in French, each finding
with the part (corps / en-tête / pied de page) and the paragraph's text.

- `{%tc %}`, `{% hm %}`, `{% vm %}`, `{% colspan %}` belong in a table cell (elsewhere docxtpl's
  patterns would reach for the next cell in the document and cut the text in between);
- `{% hm %}` needs a cell loop `{%tc for %}` in its row, `{% vm %}` a row loop `{%tr for %}` above it
  (without them the merged cell silently disappears);
- a placeholder picture (alt text `{{ x }}`) must name an `image` field; an `image` field needs its
  placeholder picture; `[qrbill]` needs the `{{ qrbill }}` picture.
"""

from __future__ import annotations

import re

from lxml import etree

from plume.documents.base import Finding, PartSource, ZipPackage
from plume.documents.manifest import Manifest
from plume.security.safezip import parse_xml

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_CELL_TAG = re.compile(r"\{%\s*(tc\s|hm\s*%|vm\s*%|colspan\s)")
_TC_FOR = re.compile(r"\{%tc\s+for\s")
_TR_FOR = re.compile(r"\{%tr\s+for\s")


def _names(suffix: str) -> dict[str, str]:
    if suffix == ".docx":
        return {"p": f"{W}p", "cell": f"{W}tc", "row": f"{W}tr", "table": f"{W}tbl"}
    return {"p": "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}p", "cell": f"{TABLE}table-cell",
            "row": f"{TABLE}table-row", "table": f"{TABLE}table"}


def _text(paragraph: etree._Element, suffix: str) -> str:
    if suffix == ".docx":
        return "".join(t.text or "" for t in paragraph.iter(f"{W}t"))
    from plume.documents.odt import paragraph_text

    return paragraph_text(paragraph)


def cell_findings(suffix: str, package: ZipPackage, parts: list[PartSource]) -> list[Finding]:
    names = _names(suffix)
    findings = []
    for part in parts:
        root = parse_xml(package.entries[part.name])
        for paragraph in root.iter(names["p"]):
            text = _text(paragraph, suffix)
            tag = _CELL_TAG.search(text)
            if tag is None:
                continue
            kind = tag.group(1).strip(" %")
            cell = next(paragraph.iterancestors(names["cell"]), None)
            if cell is None:
                findings.append(Finding(f"« {{% {kind} … %}} » hors d'un tableau : cette balise se place dans une "
                                        "cellule de tableau", part=part.label, paragraph=text.strip()))
                continue
            row = next(cell.iterancestors(names["row"]))
            if kind == "hm" and not any(_TC_FOR.search(_text(p, suffix)) for p in row.iter(names["p"])):
                findings.append(Finding("« {% hm %} » sans boucle de cellules « {%tc for … %} » dans sa ligne : "
                                        "la cellule fusionnée disparaîtrait", part=part.label, paragraph=text.strip()))
            if kind == "vm" and not _row_loop_above(row, names, suffix):
                findings.append(Finding("« {% vm %} » hors d'une boucle de lignes « {%tr for … %} » : la cellule "
                                        "fusionnée disparaîtrait", part=part.label, paragraph=text.strip()))
    return findings


def _row_loop_above(row: etree._Element, names: dict[str, str], suffix: str) -> bool:
    table = next(row.iterancestors(names["table"]))
    for other in table.iter(names["row"]):
        if other is row:
            return False
        if any(_TR_FOR.search(_text(p, suffix)) for p in other.iter(names["p"])):
            return True
    return False


def picture_findings(package: ZipPackage, manifest: Manifest) -> list[Finding]:
    types = {f.name: f.type for f in manifest.fields}
    placed = set(package.images.values())
    findings = []
    for field in sorted(placed):
        if field == "qrbill" and manifest.qrbill is not None:
            continue
        if field in types and types[field] != "image":
            findings.append(Finding(f"image de remplacement « {{{{ {field} }}}} » : le champ « {field} » est de type "
                                    f"{types[field]}, « image » attendu", part=package.image_parts.get(field, "")))
    for field in manifest.fields:
        if field.type == "image" and field.name not in placed:
            findings.append(Finding(f"champ image « {field.name} » sans image de remplacement dans le modèle "
                                    f"(une image dont le texte de remplacement est « {{{{ {field.name} }}}} »)"))
    if manifest.qrbill is not None and "qrbill" not in placed:
        findings.append(Finding("[qrbill] déclaré, mais le modèle n'a pas d'image « {{ qrbill }} » (21 × 10,5 cm, "
                                "en bas de page) pour le bulletin de versement"))
    return findings
