"""Field values: checked against template.toml and typed before any rendering.

Every problem is collected (not just the first), each as {field, message} in French. Messages name
the field and the expected form, never the value the person typed.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from plume.documents.images import ImageInvalid, load_image
from plume.errors import InvalidRequest
from plume.documents.manifest import Column, Field, Manifest


class Money(Decimal):
    """An amount in francs: prints as `CHF 1'234.50` in a letter."""


class Integer(int):
    """A whole value of a `number` field: prints grouped, `12'500`. A plain int in the context (a
    year, a house number, `loop.index`) is not one, and prints as itself."""


class Number(Decimal):
    """A decimal value of a `number` field: prints grouped, `1'234.5`."""


class FieldErrors(InvalidRequest):
    """Values that do not fit the template's fields. `errors` is a list of {field, message, path}: `path`
    is where the value is in `values` (["nom"], ["emoluments", 0, "montant"] for a row's column), so a
    form marks the right input without parsing `field`; an error about no one value has none."""

    code = "invalid-values"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        names = ", ".join(dict.fromkeys(f"« {e['field']} »" for e in errors))
        first = errors[0]["message"] if errors else ""
        super().__init__(f"Valeurs invalides pour {names}. {first}".strip(), errors=errors)
        self.errors = errors

    def __reduce__(self) -> tuple:  # back from the rendering process (plume.documents.budget)
        return (FieldErrors, (self.errors,))


class _Invalid(ValueError):
    pass


_EMPTY = (None, "", [])
_SWISS_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$")
_TRUE = {"true", "oui", "vrai", "1", "yes", "ja"}
_FALSE = {"false", "non", "faux", "0", "no", "nein"}


def validate(manifest: Manifest, values: Any, folder: Path | None = None) -> dict[str, Any]:
    """Check `values` against the manifest; return the typed values or raise FieldErrors. `folder`:
    the template's folder, where an `image` field's file name is looked up."""
    if not isinstance(values, dict):
        raise FieldErrors([{"field": "values", "message": "Les valeurs doivent être un objet {champ: valeur}."}])
    errors: list[dict[str, Any]] = []
    declared = {f.name: f for f in manifest.fields}
    for name in values:
        if name not in declared:
            errors.append({"field": str(name), "message": f"Champ inconnu « {name} » : ce modèle ne le déclare pas.",
                           "path": [str(name)]})
    typed: dict[str, Any] = {}
    for field in manifest.fields:
        raw = values.get(field.name)
        if raw in _EMPTY:
            if field.required:
                errors.append({"field": field.name, "message": f"« {_label(field)} » est obligatoire.", "path": [field.name]})
            elif field.type == "list":
                typed[field.name] = []
            elif field.type == "bool":
                typed[field.name] = False
            continue
        try:
            typed[field.name] = (_image(raw, folder) if field.type == "image" else _convert_field(field, raw))
        except _Invalid as exc:
            errors.append({"field": field.name, "message": f"« {_label(field)} » : {exc}", "path": [field.name]})
        except _RowErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise FieldErrors(errors)
    return typed


def _image(raw: Any, folder: Path | None) -> Any:
    try:
        return load_image(raw, folder)
    except ImageInvalid as exc:
        raise _Invalid(str(exc)) from None


def _label(field: Field | Column) -> str:
    return field.label or field.name


class _RowErrors(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors


def _convert_field(field: Field, raw: Any) -> Any:
    if field.type != "list":
        return convert_scalar(field.type, raw, field.choices)
    if not isinstance(raw, list):
        raise _Invalid("une liste est attendue.")
    if not field.columns:
        return [convert_scalar("text", item) for item in raw if item not in _EMPTY]
    return _convert_rows(field, raw)


def _convert_rows(field: Field, rows: list) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    typed_rows = []
    columns = {c.name: c for c in field.columns}
    for index, row in enumerate(rows, start=1):
        where = f"{field.name}[{index}]"
        if not isinstance(row, dict):
            errors.append({"field": where, "message": f"« {_label(field)} », ligne {index} : un objet est attendu.",
                           "path": [field.name, index - 1]})
            continue
        typed: dict[str, Any] = {}
        for key in row:
            if key not in columns:
                errors.append({"field": f"{where}.{key}", "path": [field.name, index - 1, str(key)],
                               "message": f"« {_label(field)} », ligne {index} : colonne inconnue « {key} »."})
        for column in field.columns:
            value = row.get(column.name)
            if value in _EMPTY:
                if column.required:
                    errors.append({"field": f"{where}.{column.name}", "path": [field.name, index - 1, column.name],
                                   "message": f"« {_label(field)} », ligne {index} : « {_label(column)} » est obligatoire."})
                typed[column.name] = None
                continue
            try:
                typed[column.name] = convert_scalar(column.type, value, column.choices)
            except _Invalid as exc:
                errors.append({"field": f"{where}.{column.name}", "path": [field.name, index - 1, column.name],
                               "message": f"« {_label(field)} », ligne {index}, « {_label(column)} » : {exc}"})
        typed_rows.append(typed)
    if errors:
        raise _RowErrors(errors)
    return typed_rows


def convert_scalar(kind: str, raw: Any, choices: list[str] | None = None) -> Any:
    if kind == "text":
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise _Invalid("un texte est attendu.")
        return _clean_text(str(raw))
    if kind == "date":
        return parse_date(raw)
    if kind == "money":
        return Money(_parse_decimal(raw, "un montant est attendu (par ex. 1234.50).").quantize(Decimal("0.01")))
    if kind == "number":
        number = _parse_decimal(raw, "un nombre est attendu.")
        return Integer(number) if number == number.to_integral_value() and "." not in str(raw) else Number(number)
    if kind == "bool":
        return _parse_bool(raw)
    if kind == "choice":
        if not isinstance(raw, str) or raw not in (choices or []):
            allowed = ", ".join(f"« {c} »" for c in choices or [])
            raise _Invalid(f"choisir parmi {allowed}.")
        return raw
    raise _Invalid(f"type « {kind} » inconnu.")


_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean_text(text: str) -> str:
    """Line ends as \n, and no control character XML cannot hold (it would break the document)."""
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def parse_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        match = _SWISS_DATE.match(text)
        try:
            if match:
                day, month, year = (int(g) for g in match.groups())
                return date(year, month, day)
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return date.fromisoformat(text)
        except ValueError:
            pass
    raise _Invalid("une date est attendue (AAAA-MM-JJ ou JJ.MM.AAAA).")


def _parse_decimal(raw: Any, message: str) -> Decimal:
    if isinstance(raw, bool):
        raise _Invalid(message)
    if isinstance(raw, int | float):
        number = Decimal(str(raw))
        if not number.is_finite():
            raise _Invalid(message)
        return _bounded(number)
    if isinstance(raw, str):
        text = re.sub(r"^\s*(CHF|Fr\.)\s*|\s*(CHF|Fr\.|\.-|\.–)\s*$", "", raw.strip())
        text = re.sub(r"['’\u202f\u00a0 ]", "", text).replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise _Invalid(message) from None
        if number.is_finite():
            return _bounded(number)
    raise _Invalid(message)


MAX_MAGNITUDE = Decimal("1e15")


def _bounded(number: Decimal) -> Decimal:
    """A figure a letter can print: under a million milliards, at most 30 significant digits
    (1e30 or 10**40 would overflow the cents' precision or print as a page of digits)."""
    if abs(number) >= MAX_MAGNITUDE:
        raise _Invalid("nombre trop grand (au plus 15 chiffres avant la virgule).")
    if len(number.as_tuple().digits) > 30:
        raise _Invalid("trop de décimales (au plus 30 chiffres en tout).")
    return number


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise _Invalid("oui ou non (true/false) est attendu.")
