"""Word tables whose cells are made by the template: the column grid put back in line with the cells.

`{%tc for %}` cell loops, `{%tc if %}` removed cells, `{% hm %}` horizontal merges and
`{% colspan %}` change how many grid columns a row covers; `w:tblGrid` still lists the model's
columns, and Word and LibreOffice then squeeze or stretch the table. docxtpl fixes this after every
render with `DocxTemplate.fix_tables` (columns added or removed, the table's total width kept and
shared out); Plume calls that same function, so widths come out exactly as with docxtpl.

It costs an XML parse, so it only runs on the tables that have such cells: they are marked once,
when the model is prepared (`mark_tables`), and each render parses only those (`fix_marked`).
`{% vm %}` only sets `w:vMerge` (it changes no column count) and a `{%tr for %}` row loop repeats
whole rows: neither needs it.
"""

from __future__ import annotations

import re

from docxtpl import DocxTemplate
from lxml import etree

_FIXER = DocxTemplate.__new__(DocxTemplate)  # fix_tables uses no instance state
# Tokens that tell where we are: table, row and cell boundaries, block tags, a span computed at render time.
_TOKENS = re.compile(r"<w:tbl>|<w:tbl |</w:tbl>|<w:tr[ >]|</w:tr>|<w:tc[ >]|</w:tc>|\{%|<w:gridSpan w:val=\"\{\{")
MARK = '<w:tbl plume-fix="1">'
_TABLE_EDGE = re.compile(r"<w:tbl[ >]|</w:tbl>")
_ROOT = re.compile(r"<[\w:]+[^>]*>")


def tables_to_fix(source: str) -> list[int]:
    """Where the (outermost) tables start whose rows hold a `{% … %}` between their cells (a cell
    loop, a removed or merged cell) or a span computed at render time (`{% colspan %}`, `{% hm %}`)."""
    if "<w:tbl" not in source:
        return []
    stack: list[str] = []
    outermost, found = -1, []
    for match in _TOKENS.finditer(source):
        token = match.group(0)
        if token.startswith("<w:tbl"):
            if "tbl" not in stack:
                outermost = match.start()
            stack.append("tbl")
        elif token.startswith("</"):
            if stack:
                stack.pop()
        elif token.startswith("<w:gridSpan") or (token == "{%" and stack and stack[-1] == "tr"):
            if outermost >= 0 and (not found or found[-1] != outermost):
                found.append(outermost)
        elif token != "{%":
            stack.append("tr" if token.startswith("<w:tr") else "tc")
    return found


def needs_fix(source: str) -> bool:
    return bool(tables_to_fix(source))


def mark_tables(source: str) -> str:
    """Mark the tables to fix (an attribute removed after the fix-up), so a render only parses those."""
    for position in reversed(tables_to_fix(source)):
        end = source.index(">", position) + 1
        source = source[:position] + MARK + source[end:] if source[position:end] == "<w:tbl>" else (
            source[:position] + '<w:tbl plume-fix="1" ' + source[position + len("<w:tbl "):])
    return source


def fix_marked(xml: str) -> str:
    """docxtpl's grid fix-up over the marked tables of a rendered part, in one call: the tables are
    put side by side in the part's root element (so every namespace they use is declared), with a
    separator element between them, and put back where they were."""
    spans = []
    position = 0
    while (start := xml.find("<w:tbl plume-fix=", position)) >= 0:
        position = _table_end(xml, start)
        spans.append((start, position))
    if not spans:
        return xml
    root = _ROOT.search(xml).group(0)
    tail = "</" + root[1:].split()[0].rstrip(">") + ">"
    wrapped = root + _SEPARATOR.join(xml[a:b] for a, b in spans) + tail
    fixed = etree.tostring(_FIXER.fix_tables(wrapped), encoding="unicode")
    tables = fixed[fixed.index(">") + 1:fixed.rindex("</")].replace(' plume-fix="1"', "").split(_SEPARATOR)
    pieces, previous = [], 0
    for (a, b), table in zip(spans, tables, strict=True):
        pieces += [xml[previous:a], table]
        previous = b
    pieces.append(xml[previous:])
    return "".join(pieces)


_SEPARATOR = "<w:plumeSeparator/>"


def _table_end(xml: str, start: int) -> int:
    depth = 0
    for edge in _TABLE_EDGE.finditer(xml, start):
        depth += -1 if edge.group(0) == "</w:tbl>" else 1
        if depth == 0:
            return edge.end()
    raise ValueError("table not closed")
