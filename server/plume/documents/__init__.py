"""Letter models (.docx, .odt): prepare once, render many times; lint; the template library.

`prepare(path)` -> PreparedTemplate, whose `render(context) -> bytes` fills the model.
"""

from __future__ import annotations

from pathlib import Path

from plume.documents.base import PreparedTemplate, RenderFailed, TemplateInvalid
from plume.errors import Refusal
from plume.security.safezip import ZipLimits

FORMATS = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "odt": "application/vnd.oasis.opendocument.text",
           "pdf": "application/pdf"}


class FormatUnavailable(Refusal):
    """A letter asked in a format or a language this server cannot give; `detail` says which, in
    French (the API answers 422; `plume.documents.pdf.PdfUnavailable`, 503)."""

    code = "format-unavailable"


def prepare(path: Path | str, data: bytes | None = None, limits: ZipLimits = ZipLimits()) -> PreparedTemplate:
    """Parse, merge split tags and compile a .docx or .odt model (by its file extension)."""
    path = Path(path)
    data = data if data is not None else path.read_bytes()
    if path.suffix.lower() == ".docx":
        from plume.documents.docx import prepare_docx
        return prepare_docx(data, limits)
    if path.suffix.lower() == ".odt":
        from plume.documents.odt import prepare_odt
        return prepare_odt(data, limits)
    raise ValueError(f"format non pris en charge : {path.suffix}")


__all__ = ["prepare", "PreparedTemplate", "TemplateInvalid", "RenderFailed", "FORMATS", "FormatUnavailable"]
