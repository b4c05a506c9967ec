"""Swiss French formatting (Babel) and the sandboxed Jinja environments for the two formats.

The commune writes amounts as `CHF 1'234.50` (apostrophe grouping, decimal point), which is not
Babel's fr_CH output (`1 234,50 CHF`): amounts and numbers are formatted with an explicit pattern
and the apostrophe forced; dates use Babel's fr_CH month names.

A letter's language version (model.de.docx…) is rendered inside `letter_language("de")`: its dates
then read « 1. Dezember 2026 » (de_CH, it_CH, en_CH month names); amounts stay `CHF 1'234.50`,
which all of Switzerland writes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date as _babel_date
from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from jinja2 import ChainableUndefined
from markupsafe import Markup, escape

from plume.documents.budget import BudgetExceeded
from plume.documents.sandbox import BoundedEnvironment, charge_output
from plume.documents.values import Integer, Money, Number, parse_date

LOCALE = "fr_CH"
_LANGUAGE: ContextVar[str] = ContextVar("plume_letter_language", default="fr")
# The long date in each language's letters; other languages use Babel's own long format.
_LONG_DATES = {"fr": "d MMMM y", "de": "d. MMMM y", "it": "d MMMM y", "en": "d MMMM y"}
_YES_NO = {"fr": ("oui", "non"), "de": ("ja", "nein"), "it": ("sì", "no"), "en": ("yes", "no")}


@contextmanager
def letter_language(language: str) -> Iterator[None]:
    """Dates (and yes/no) written in `language` while a language version of a model is filled."""
    token = _LANGUAGE.set(language)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


@functools.lru_cache(maxsize=32)
def locale_of(language: str) -> Locale:
    """The Swiss variant of a language (de_CH…), else the language itself (es), else fr_CH."""
    from babel.core import UnknownLocaleError

    for name in (f"{language}_CH", language, LOCALE):
        try:
            return Locale.parse(name)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(LOCALE)


def _locale() -> Locale:
    return locale_of(_LANGUAGE.get())


def format_date_long(value: date, language: str | None = None) -> str:
    """`25 novembre 2026`, `25. November 2026`, `25 novembre 2026` (it), `25 November 2026`; the
    first of the month is `1er` in French and `1º` in Italian, as their typography wants."""
    language = language or _LANGUAGE.get()
    text = _babel_date(value, _LONG_DATES.get(language, "long"), locale=locale_of(language))
    if value.day == 1 and language in ("fr", "it"):
        return ("1er" if language == "fr" else "1º") + text[1:]
    return text


def format_date(value: Any, style: str = "long") -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, date):
        value = parse_date(value)
    if isinstance(value, datetime):
        value = value.date()
    style = style.strip()
    if style == "long":
        return format_date_long(value)
    if style == "short":
        return value.strftime("%d.%m.%Y")
    if len(style) > 100:
        raise ValueError("date pattern too long")
    try:
        return _babel_date(value, style, locale=_locale())
    except (KeyError, LookupError, AttributeError, TypeError) as exc:  # a pattern Babel cannot apply to a date
        raise ValueError("date pattern") from exc


# Amounts beyond this are refused when formatted (a typing slip, or a template multiplying a value).
MAX_MAGNITUDE = Decimal("1e15")


def _swiss(value: Any, pattern: str) -> str:
    # en_US gives "," grouping and "." decimals; the commune's grouping is the apostrophe.
    number = Decimal(str(value))
    if not number.is_finite() or abs(number) >= MAX_MAGNITUDE:
        raise BudgetExceeded("Le modèle doit afficher un nombre démesuré ou non fini (au plus 15 chiffres avant la "
                             "virgule).")
    if pattern in _PYTHON_FORMATS:  # money, the hot path of a table: Python's own format gives the same
        return format(number, _PYTHON_FORMATS[pattern]).replace(",", "'")  # digits, 3x faster than babel
    # The parsed pattern and locale are kept: format_decimal parses both on every call (most of a
    # table's cost).
    return _pattern(pattern).apply(number, _EN_US).replace(",", "'")


# Babel patterns whose en_US rendering Python's format() reproduces exactly (half-even rounding, ","
# grouping by three): checked against babel on 20,000 values when this was written.
_PYTHON_FORMATS = {"#,##0.00": ",.2f"}


@functools.lru_cache(maxsize=8)
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


_EN_US = Locale.parse("en_US")


def format_chf(value: Any) -> str:
    if value is None or value == "":
        return ""
    return "CHF " + _swiss(value, "#,##0.00")


def format_number(value: Any) -> str:
    if value is None or value == "":
        return ""
    return _swiss(value, "#,##0.###")


def display(value: Any) -> Any:
    """How a bare `{{ value }}` prints: by the field's declared type (money, number, date), else as
    itself. A year or a house number (a plain int) is never grouped: `2026`, `5403`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        yes, no = _YES_NO.get(_LANGUAGE.get(), _YES_NO["fr"])
        return yes if value else no
    if isinstance(value, Money):
        return format_chf(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, Integer | Number):
        return format_number(value)
    return value


def make_environment(line_break: Callable[[str], Markup] | None) -> BoundedEnvironment:
    """A bounded sandbox (plume.documents.sandbox) that escapes values for XML; `line_break` turns a
    multi-line value into markup."""

    def finalize(value: Any) -> Any:
        value = display(value)
        charge_output(value)
        if line_break and isinstance(value, str) and not isinstance(value, Markup) and ("\n" in value or "\t" in value):
            return line_break(value)
        return value

    env = BoundedEnvironment(autoescape=True, finalize=finalize, undefined=ChainableUndefined,
                               keep_trailing_newline=True)
    env.filters.update(date=format_date, chf=format_chf, number=format_number)
    return env


def odt_line_break(value: str) -> Markup:
    text = str(escape(value.replace("\r\n", "\n")))
    return Markup(text.replace("\n", "<text:line-break/>").replace("\t", "<text:tab/>"))


def plain_environment() -> BoundedEnvironment:
    """For file names: no XML escaping, the same bounds."""

    def finalize(value: Any) -> Any:
        value = display(value)
        charge_output(value)
        return value

    env = BoundedEnvironment(autoescape=False, finalize=finalize, undefined=ChainableUndefined)
    env.filters.update(date=format_date, chf=format_chf, number=format_number)
    return env
