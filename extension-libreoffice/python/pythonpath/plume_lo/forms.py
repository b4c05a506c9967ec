"""A template's fields <-> the text boxes of the letter form (pure Python, no UNO).

Every field is edited as text: a list as one line per item, a list with columns (a table such as
fees) as one line per row with the cells separated by « ; ». The server checks and converts the
values (dates as JJ.MM.AAAA or AAAA-MM-JJ, amounts, oui/non) and names the field when one is wrong.
"""

from __future__ import annotations

CELL_SEPARATOR = ";"


def is_multiline(field: dict) -> bool:
    return field.get("type") == "list"


def hint(field: dict) -> str:
    """What to type, for the tooltip: the field's help, and for tables the columns in order."""
    columns = field.get("columns") or []
    parts = [field.get("help") or ""]
    if columns:
        parts.append(f" {CELL_SEPARATOR} ".join(c.get("label") or c["name"] for c in columns))
    return "\n".join(p for p in parts if p)


def to_text(field: dict, value) -> str:
    """A value (from the server's example or from case notes) as the form shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        columns = [c["name"] for c in field.get("columns") or []]
        lines = []
        for item in value:
            if isinstance(item, dict):
                lines.append(f" {CELL_SEPARATOR} ".join(_cell(item.get(c)) for c in columns or item))
            else:
                lines.append(_cell(item))
        return "\n".join(lines)
    return _cell(value)


def from_text(field: dict, text: str):
    """What the form holds -> the value sent to the server (None when left empty)."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        return None
    if field.get("type") != "list":
        return text
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    columns = [c["name"] for c in field.get("columns") or []]
    if not columns:
        return lines
    rows = []
    for line in lines:
        cells = [cell.strip() for cell in line.split(CELL_SEPARATOR)]
        rows.append({name: cell for name, cell in zip(columns, cells) if cell})
    return rows


def values(fields: list[dict], texts: dict[str, str]) -> dict:
    out = {}
    for field in fields:
        value = from_text(field, texts.get(field["name"], ""))
        if value is not None:
            out[field["name"]] = value
    return out


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.2f}"
    return str(value)
