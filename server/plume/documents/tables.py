"""Word tables whose cells are made by the template: the column grid put back in line with the cells.

`{%tc for %}` cell loops, `{%tc if %}` removed cells, `{% hm %}` horizontal merges and
`{% colspan %}` change how many grid columns a row covers; `w:tblGrid` still lists the model's
columns, and Word and LibreOffice then squeeze or stretch the table. docxtpl fixes this after every
render with `DocxTemplate.fix_tables` (columns added or removed, the table's total width kept and
shared out); Plume calls that same function, so widths come out exactly as with docxtpl.

It costs an XML parse of the part, so it only runs on the parts whose prepared source has such a
table: `needs_fix` decides it once, when the model is prepared. `{% vm %}` only sets `w:vMerge`
(it changes no column count) and a `{%tr for %}` row loop repeats whole rows: neither needs it.
"""

from __future__ import annotations

import re

from docxtpl import DocxTemplate
from lxml import etree

_FIXER = DocxTemplate.__new__(DocxTemplate)  # fix_tables uses no instance state
# Tokens that tell where we are: row and cell boundaries, block tags, a span computed at render time.
_TOKENS = re.compile(r"<w:tr[ >]|</w:tr>|<w:tc[ >]|</w:tc>|\{%|<w:gridSpan w:val=\"\{\{")


def needs_fix(source: str) -> bool:
    """True when a table row holds a `{% … %}` between its cells (a cell loop, a removed or merged
    cell) or a cell's span is computed (`{% colspan %}`, `{% hm %}`)."""
    if "<w:tbl" not in source:
        return False
    stack: list[str] = []  # innermost container: "tr" (between cells) or "tc" (inside a cell)
    for match in _TOKENS.finditer(source):
        token = match.group(0)
        if token.startswith("<w:gridSpan"):
            return True
        if token == "{%":
            if stack and stack[-1] == "tr":
                return True
        elif token.startswith("</"):
            if stack:
                stack.pop()
        else:
            stack.append("tr" if token.startswith("<w:tr") else "tc")
    return False


def fix_tables(xml: str) -> str:
    """docxtpl's grid fix-up over one rendered part (XML without its declaration)."""
    tree = _FIXER.fix_tables(xml)
    return etree.tostring(tree, encoding="unicode")
