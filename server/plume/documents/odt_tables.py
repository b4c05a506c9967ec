"""The .odt side of docxtpl's cell tags, with ODF's own merges.

- `{%tc … %}` in a cell: the cell is replaced by the bare tag (cell loops, a removed cell);
- `{% colspan n %}`: the cell spans n columns (`table:number-columns-spanned`), followed by the n−1
  covered cells ODF wants in its place (those of a merge made in the model are dropped);
- `{% hm %}` in a cell loop: the first cell spans the loop's columns, the others become covered cells;
- `{% vm %}` in a row loop: the first row's cell spans the loop's rows, the others become covered.

After rendering, a table whose cells the template made gets as many `table:table-column`s as its
widest row covers, the table's width shared out evenly (docxtpl does the same to `w:tblGrid`).
Whether a table needs that is known when the model is prepared (`needs_fix`), like for .docx.
"""

from __future__ import annotations

import re

from lxml import etree

TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
FO = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
CELL, COVERED = f"{{{TABLE}}}table-cell", f"{{{TABLE}}}covered-table-cell"
COLUMNS_SPANNED, ROWS_SPANNED = f"{{{TABLE}}}number-columns-spanned", f"{{{TABLE}}}number-rows-spanned"
REPEATED = f"{{{TABLE}}}number-columns-repeated"
CELL_TC = re.compile(r"\{%tc\s(.*?)%\}", re.DOTALL)
_MERGE = re.compile(r"\{%\s*(hm|vm|colspan)\s*(.*?)%\}", re.DOTALL)
_TOKENS = re.compile(r"<table:table-row\b[^>]*>|</table:table-row>|<table:(?:covered-)?table-cell\b[^>]*>|"
                     r"</table:(?:covered-)?table-cell>|\{%")


def cell_of(paragraph: etree._Element) -> etree._Element | None:
    return next(paragraph.iterancestors(CELL), None)


def merge_tag(text: str) -> tuple[str, str] | None:
    """(`hm`|`vm`|`colspan`, argument) when the paragraph's text holds a merge tag."""
    match = _MERGE.search(text)
    return (match.group(1), match.group(2).strip()) if match else None


def strip_merge_tag(paragraph: etree._Element, slots: list[tuple[etree._Element, str]]) -> None:
    for element, attr in slots:
        text = getattr(element, attr)
        if text and _MERGE.search(text):
            setattr(element, attr, _MERGE.sub("", text, count=1) or None)
            return


def _before(element: etree._Element, text: str) -> None:
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    else:
        parent = element.getparent()
        parent.text = (parent.text or "") + text


def apply_merge(cell: etree._Element, kind: str, argument: str) -> None:
    """Turn a cell holding `{% hm %}`, `{% vm %}` or `{% colspan n %}` into ODF's spans and covered cells."""
    tail = cell.tail or ""
    covered = etree.Element(COVERED)
    if kind == "colspan":
        following = cell.getnext()
        while following is not None and following.tag == COVERED:  # the model's own merge: replaced
            following.getparent().remove(following)
            following = cell.getnext()
        cell.set(COLUMNS_SPANNED, "{{ (%s)|int }}" % argument)
        cell.addnext(covered)
        cell.tail = "{% for _ in range((" + argument + ")|int - 1) %}"
        covered.tail = "{% endfor %}" + tail
        return
    cell.set(COLUMNS_SPANNED if kind == "hm" else ROWS_SPANNED, "{{ loop.length }}")
    _before(cell, "{% if loop.first %}")
    cell.addnext(covered)
    cell.tail = "{% else %}"
    covered.tail = "{% endif %}" + tail


def needs_fix(source: str) -> bool:
    """A row holding `{% … %}` between its cells, or a span computed at render time."""
    if "<table:table" not in source:
        return False
    stack: list[str] = []
    for match in _TOKENS.finditer(source):
        token = match.group(0)
        if 'number-columns-spanned="{{' in token:
            return True
        if token.endswith("/>"):
            continue  # an empty cell: opens and closes
        if token == "{%":
            if stack and stack[-1] == "row":
                return True
        elif token.startswith("</"):
            if stack:
                stack.pop()
        else:
            stack.append("row" if "table-row" in token else "cell")
    return False


def _width(columns: list[etree._Element], widths: dict[str, float]) -> float:
    return sum(widths.get(c.get(f"{{{TABLE}}}style-name", ""), 0.0) * int(c.get(REPEATED, "1")) for c in columns)


_LENGTH = re.compile(r"^([\d.]+)(cm|mm|in|pt)$")
_TO_CM = {"cm": 1.0, "mm": 0.1, "in": 2.54, "pt": 2.54 / 72}


def fix_columns(xml: str) -> str:
    """Give each table as many columns as its widest row covers, keeping the table's width."""
    root = etree.fromstring(xml.encode("utf-8"))
    styles = root.find("{urn:oasis:names:tc:opendocument:xmlns:office:1.0}automatic-styles")
    widths: dict[str, float] = {}
    if styles is not None:
        for style in styles.iter(f"{{{STYLE}}}style"):
            props = style.find(f"{{{STYLE}}}table-column-properties")
            match = _LENGTH.match(props.get(f"{{{STYLE}}}column-width", "")) if props is not None else None
            if match:
                widths[style.get(f"{{{STYLE}}}name")] = float(match.group(1)) * _TO_CM[match.group(2)]
    for number, table in enumerate(root.iter(f"{{{TABLE}}}table")):
        columns = [c for c in table if c.tag == f"{{{TABLE}}}table-column"]
        have = sum(int(c.get(REPEATED, "1")) for c in columns)
        rows = table.xpath("./t:table-row|./t:table-header-rows/t:table-row|./t:table-rows/t:table-row",
                           namespaces={"t": TABLE})
        want = max((sum(int(c.get(REPEATED, "1")) for c in row if c.tag in (CELL, COVERED)) for row in rows),
                   default=have)
        if want == have or not columns or want == 0:
            continue
        total = _width(columns, widths)
        keep = columns[0]
        for column in columns[1:]:
            table.remove(column)
        keep.set(REPEATED, str(want))
        if total and styles is not None:  # one column style, the old total shared out evenly
            name = f"PlumeCol{number}"
            style = etree.SubElement(styles, f"{{{STYLE}}}style", {f"{{{STYLE}}}name": name,
                                                                  f"{{{STYLE}}}family": "table-column"})
            etree.SubElement(style, f"{{{STYLE}}}table-column-properties",
                             {f"{{{STYLE}}}column-width": f"{total / want:.3f}cm"})
            keep.set(f"{{{TABLE}}}style-name", name)
    return etree.tostring(root, encoding="unicode")
