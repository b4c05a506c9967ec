"""A filled letter converted to PDF by LibreOffice, headless, in a profile of its own per conversion.

Each conversion is a whole office process: at most two run at a time per library, each within a
time limit; without LibreOffice, or when it fails, the letter is still there in .docx or .odt.

Two kinds of failure, two answers: LibreOffice missing, too slow or failing for its own reasons is
the server's problem (PdfUnavailable, 503: try again, or take the .docx); LibreOffice saying it
cannot open the document ("source file could not be loaded") is the template's (PdfRefused, 422, and
a warning when the template is uploaded: `check`). Seen with a .docx whose package relations are
missing or point to no part: Plume fills it, Word and LibreOffice cannot open it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from plume.documents import FormatUnavailable

# What LibreOffice prints (in English, whatever the locale) when it cannot open the document it is given.
_CANNOT_LOAD = b"source file could not be loaded"


class PdfUnavailable(FormatUnavailable):
    """The PDF cannot be made now (no LibreOffice, too slow, failed): the API answers 503."""


class PdfRefused(FormatUnavailable):
    """LibreOffice cannot open what this template makes: the template's fault (422)."""

    code = "pdf-refused"


def refused_detail(source_fmt: str) -> str:
    return (f"LibreOffice ne peut pas ouvrir le document .{source_fmt} de ce modèle : il n'en fait donc pas de PDF. "
            "Le fichier du modèle est défectueux (par exemple des parties du paquet manquantes). Téléchargez la "
            f"lettre en .{source_fmt} si votre traitement de texte l'ouvre, et signalez-le au responsable du modèle.")


class PdfConverter:
    def __init__(self, soffice: str = "soffice", timeout_s: float = 90.0, parallel: int = 2) -> None:
        self.soffice = soffice
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(parallel)

    def convert(self, content: bytes, source_fmt: str) -> bytes:
        """The PDF of a .docx or .odt document (`source_fmt`); PdfRefused when LibreOffice cannot open
        the document, PdfUnavailable when the PDF cannot be made now."""
        soffice = shutil.which(self.soffice)
        if soffice is None:
            raise PdfUnavailable("La conversion en PDF demande LibreOffice, qui n'est pas installé sur le serveur. "
                                 "Téléchargez le document en .docx ou .odt.")
        with self._slots, tempfile.TemporaryDirectory(prefix="plume-pdf-") as tmp:
            source = Path(tmp) / f"lettre.{source_fmt}"
            source.write_bytes(content)
            try:
                done = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                                       "--norestore", "--convert-to", "pdf", "--outdir", tmp, str(source)],
                                      capture_output=True, timeout=self.timeout_s, check=False)
            except subprocess.TimeoutExpired:
                raise PdfUnavailable("La conversion en PDF a pris trop de temps. Réessayez ou téléchargez le "
                                     "document en .docx ou .odt.") from None
            pdf = Path(tmp) / "lettre.pdf"
            if pdf.exists():
                return pdf.read_bytes()
            if _CANNOT_LOAD in done.stdout + done.stderr:
                raise PdfRefused(refused_detail(source_fmt))
            raise PdfUnavailable("La conversion en PDF a échoué. Téléchargez le document en .docx ou .odt.")

    def check(self, model: bytes, source_fmt: str) -> str | None:
        """Whether LibreOffice opens a model as it is (its placeholders unfilled: a letter has the same
        parts): the French warning when it cannot, None when it can or when that cannot be known now."""
        try:
            self.convert(model, source_fmt)
        except PdfRefused as exc:
            return exc.detail
        except PdfUnavailable:
            return None
        return None
