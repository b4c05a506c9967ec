"""A template's fields <-> the text boxes of the letter form (pure Python, no UNO).

Every field is edited as text: a list as one line per item, a list with columns (a table such as
fees) as one line per row with the cells separated by « ; ». Dates are shown and typed the Swiss
way (14.06.1987) and sent as ISO dates (1987-06-14). A date that cannot be read is the clerk's typing
mistake: the form names the field by its label and says how to type it, before anything is sent.
The server checks the other values (amounts, oui/non) and names the field when one is wrong.
"""

from __future__ import annotations

import datetime
import re

from plume_lo import i18n

CELL_SEPARATOR = ";"


class FieldError(ValueError):
    """A value the clerk typed that cannot be sent: its message names the field by its label."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_multiline(field: dict) -> bool:
    return field.get("type") == "list"


def label(field: dict) -> str:
    return field.get("label") or field["name"]


def hint(field: dict, language: str = "fr") -> str:
    """What to type, shown under the field: its help, the date format, for lists and tables the format."""
    columns = field.get("columns") or []
    parts = [field.get("help") or ""]
    if field.get("type") == "date" and "14.06" not in parts[0]:
        parts.append(i18n.text(language, "date_hint"))
    if columns:
        parts.append(i18n.text(language, "table_hint", columns=f" {CELL_SEPARATOR} ".join(
            (c.get("label") or c["name"]).lower() for c in columns)))
    elif field.get("type") == "list":
        parts.append(i18n.text(language, "list_hint"))
    return "\n".join(p for p in parts if p)


_SWISS_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def date_to_text(value: str) -> str:
    """1987-06-14 -> 14.06.1987 (anything else is shown as it is)."""
    match = _ISO_DATE.match(str(value).strip())
    return f"{match.group(3)}.{match.group(2)}.{match.group(1)}" if match else str(value)


def date_from_text(field: dict, text: str, language: str = "fr") -> str:
    """14.06.1987 (or 1987-06-14) -> 1987-06-14; anything else is the clerk's typing mistake."""
    swiss, iso = _SWISS_DATE.match(text), _ISO_DATE.match(text)
    try:
        if swiss:
            day = datetime.date(int(swiss.group(3)), int(swiss.group(2)), int(swiss.group(1)))
        elif iso:
            day = datetime.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        else:
            raise ValueError(text)
    except ValueError:
        raise FieldError(i18n.text(language, "field_error", label=label(field),
                                   problem=i18n.text(language, "bad_date", value=text))) from None
    return day.isoformat()


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
    if field.get("type") == "date":
        return date_to_text(value)
    return _cell(value)


def from_text(field: dict, text: str, language: str = "fr"):
    """What the form holds -> the value sent to the server (None when left empty)."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        return None
    if field.get("type") == "date":
        return date_from_text(field, text, language)
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


def values(fields: list, texts: dict, language: str = "fr") -> dict:
    """The values to send; raises FieldError naming the first field typed wrong."""
    out = {}
    for field in fields:
        value = from_text(field, texts.get(field["name"], ""), language)
        if value is not None:
            out[field["name"]] = value
    return out


def labels(fields: list, names) -> list:
    """Field names (as the server gives them in `missing`) -> the labels the clerk sees in the form."""
    by_name = {f["name"]: label(f) for f in fields}
    return [by_name.get(str(name), str(name)) for name in names]


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.2f}"
    return str(value)
