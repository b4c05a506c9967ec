"""Filling a served template: the letter in the format and language asked for, and its file name.

A template may carry versions of its model in other languages (`model.de.docx`, `model.it.odt`…,
declared in template.toml's `translations`); a format that has no version in the language asked for
gets the French model and a warning that says so. Renders are bounded by the sandbox and the
library's `TemplateBudgets`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import quote

from plume.documents import FORMATS, FormatUnavailable
from plume.documents.budget import BudgetExceeded, TemplateBudgets, spending
from plume.documents.formatting import letter_language, plain_environment
from plume.documents.library.catalog import Entry
from plume.documents.manifest import BASE_LANGUAGE, LANGUAGE_CODE
from plume.documents.qrbill import qrbill_context
from plume.documents.values import validate

Format = Literal["docx", "odt", "pdf"]
WARNING_HEADER = "X-Plume-Warning"
_PLAIN = plain_environment()


@dataclass
class RenderedDocument:
    content: bytes
    filename: str
    media_type: str
    language: str = BASE_LANGUAGE                       # the language of the model that was filled
    warnings: list[str] = field(default_factory=list)   # e.g. no version in the language asked for

    def content_disposition(self) -> str:
        ascii_name = ascii_filename(self.filename)
        return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(self.filename, safe='')}"

    def headers(self) -> dict[str, str]:
        """Content-Disposition, Content-Language (the letter's language) and, when the letter is not in
        the language asked for, X-Plume-Warning: the French warning, percent-encoded UTF-8 (a header
        carries ASCII only; `decodeURIComponent` / `urllib.parse.unquote` read it back)."""
        headers = {"Content-Disposition": self.content_disposition(), "Content-Language": self.language}
        if self.warnings:
            headers[WARNING_HEADER] = quote(" ".join(self.warnings), safe="")
        return headers


def render_entry(entry: Entry, values: Any, fmt: str, language: str | None, commune: dict[str, Any],
                 budgets: TemplateBudgets, to_pdf: Callable[[bytes, str], bytes]) -> RenderedDocument:
    """The letter in `language` (fr when None): its language version when the template has one in
    that format, else the French model and a warning. `to_pdf(content, source format)` makes a PDF."""
    if fmt not in FORMATS:
        raise FormatUnavailable(f"Format « {fmt} » inconnu : docx, odt ou pdf.")
    language = (language or BASE_LANGUAGE).strip().lower()
    if not LANGUAGE_CODE.match(language):
        raise FormatUnavailable(f"Langue « {language[:20]} » inconnue : indiquez un code de langue comme fr, de, "
                                "it ou en.")
    typed = validate(entry.manifest, values, folder=entry.folder)
    context = {**typed, "today": date.today(), "commune": commune}
    context.update(qrbill_context(entry.manifest, context))  # the Swiss QR-bill, when [qrbill] asks
    source_fmt, used, warnings = _source(entry, fmt, language)
    prepared = entry.prepared.get(source_fmt if used == BASE_LANGUAGE else f"{used}.{source_fmt}")
    if prepared is None:
        raise FormatUnavailable(f"Le modèle « {entry.info.id} » n'existe pas au format {fmt}.")
    # The letter and its file name share one budget; its dates are written in its language.
    with spending(budgets), letter_language(used):
        content = prepared.render(context, budgets)
        name = _filename(entry, context)
    if fmt == "pdf":
        content = to_pdf(content, source_fmt)
    return RenderedDocument(content=content, filename=f"{name}.{fmt}", media_type=FORMATS[fmt], language=used,
                            warnings=warnings)


def ascii_filename(name: str) -> str:
    """`relance-2026-Müller.docx` → `relance-2026-Muller.docx` for the plain `filename=` parameter."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-")
    return ascii_name or "document"


def _source(entry: Entry, fmt: str, language: str) -> tuple[str, str, list[str]]:
    """(the model's format, its language, warnings): the language version when it exists in that
    format (for a PDF, in either), else the French model and a warning in plain French."""
    formats = (fmt,) if fmt != "pdf" else ("odt", "docx")
    if language != BASE_LANGUAGE:
        for source_fmt in formats:
            if f"{language}.{source_fmt}" in entry.prepared:
                return source_fmt, language, []
    source_fmt = next((f for f in formats if f in entry.prepared), formats[-1])
    if language == BASE_LANGUAGE:
        return source_fmt, BASE_LANGUAGE, []
    from babel import Locale

    name = Locale.parse("fr").languages.get(language, language)
    where = f" au format .{fmt}" if fmt != "pdf" else ""
    return source_fmt, BASE_LANGUAGE, [
        f"Le modèle « {entry.info.title} » n'a pas de version en {name} ({language}){where} : la lettre a été "
        "produite avec le modèle en français. Traduisez-la ou demandez au responsable du modèle d'en ajouter une."]


def _filename(entry: Entry, context: dict[str, Any]) -> str:
    name = ""
    if entry.manifest.output:
        try:  # the same bounded sandbox as the letter, within the render's budget
            name = _output_pattern(entry.manifest.output).render(context)
        except BudgetExceeded:
            raise
        except Exception:  # a bad pattern must not cost the letter: fall back to the id
            name = ""
    name = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", "-", name).strip(" .-")
    return name[:150] or entry.info.id


@lru_cache(maxsize=256)
def _output_pattern(pattern: str) -> Any:
    return _PLAIN.from_string(pattern)
