"""Converting documents with a headless LibreOffice, for the tests that check what a clerk would see
when she opens a letter (the PDF LibreOffice makes of it)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from tests.conftest import require_tool


def require_soffice(*poppler_tools: str) -> None:
    """Headless LibreOffice, and the poppler tools named (pdftotext, pdftoppm…): skipped on a
    developer's machine without them, a failure in CI, where scripts/test.sh installs both."""
    require_tool(shutil.which("soffice") is not None, "libreoffice-writer-nogui")
    for tool in poppler_tools:
        require_tool(shutil.which(tool) is not None, f"poppler-utils ({tool})")


def convert(sources: Iterable[Path], workdir: Path, *, outdir: Path | None = None, to: str = "pdf",
            timeout: float = 300, check: bool = True) -> None:
    """`soffice --convert-to TO` of `sources` into `outdir` (default `workdir`), with a throw-away
    user profile in `workdir`: the converted files are named after their sources."""
    subprocess.run(["soffice", f"-env:UserInstallation=file://{workdir}/profile", "--headless", "--norestore",
                    "--convert-to", to, "--outdir", str(outdir or workdir), *map(str, sources)],
                   check=check, capture_output=True, timeout=timeout)


def assert_converted_to_pdf(files: list[Path], workdir: Path) -> None:
    """Each file becomes, in `workdir`/pdf, a PDF with at least one page."""
    out = workdir / "pdf"
    convert(files, workdir, outdir=out)
    for path in files:
        pdf = out / f"{path.stem}.pdf"
        assert pdf.is_file(), f"LibreOffice n’a pas converti {path.name}"
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and b"/Type /Page" in data.replace(b"/Type/Page", b"/Type /Page")
