"""A filled letter converted to PDF by LibreOffice, headless, in a profile of its own per conversion.

Each conversion is a whole office process: at most two run at a time per library, each within a
time limit; without LibreOffice, or when it fails, the letter is still there in .docx or .odt.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from plume.documents import FormatUnavailable


class PdfUnavailable(FormatUnavailable):
    """The PDF cannot be made now (no LibreOffice, too slow, failed): the API answers 503."""


class PdfConverter:
    def __init__(self, soffice: str = "soffice", timeout_s: float = 90.0, parallel: int = 2) -> None:
        self.soffice = soffice
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(parallel)

    def convert(self, content: bytes, source_fmt: str) -> bytes:
        """The PDF of a .docx or .odt document (`source_fmt`); PdfUnavailable when it cannot be made."""
        soffice = shutil.which(self.soffice)
        if soffice is None:
            raise PdfUnavailable("La conversion en PDF demande LibreOffice, qui n'est pas installé sur le serveur. "
                                 "Téléchargez le document en .docx ou .odt.")
        with self._slots, tempfile.TemporaryDirectory(prefix="plume-pdf-") as tmp:
            source = Path(tmp) / f"lettre.{source_fmt}"
            source.write_bytes(content)
            try:
                subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
                                "--convert-to", "pdf", "--outdir", tmp, str(source)],
                               capture_output=True, timeout=self.timeout_s, check=False)
            except subprocess.TimeoutExpired:
                raise PdfUnavailable("La conversion en PDF a pris trop de temps. Réessayez ou téléchargez le "
                                     "document en .docx ou .odt.") from None
            pdf = Path(tmp) / "lettre.pdf"
            if not pdf.exists():
                raise PdfUnavailable("La conversion en PDF a échoué. Téléchargez le document en .docx ou .odt.")
            return pdf.read_bytes()
