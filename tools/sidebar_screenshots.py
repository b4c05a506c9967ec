"""Screenshots of both sidebars' main screens, for docs/screenshots/ (run from the repo root).

    .venv/bin/python tools/sidebar_screenshots.py word SUFFIX     # the Word pane at 340 px (Chromium)
    .venv/bin/python tools/sidebar_screenshots.py libreoffice SUFFIX [REV]  # the Plume panels, painted by LibreOffice
                                                  # (REV: build the .oxt from that git revision's sources)

Both run against a real Plume server with no model (the state of a fresh install), the Word pane
with the test stand-in for Office.js (tests/word/office-standin.js), LibreOffice with the .oxt
installed in a throw-away profile. SUFFIX names the files (before / after).
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots"
JARGON = ("Nous accusons réception de votre requête et vous informons que, nonobstant les délais impartis, "
          "le dossier sera traité ultérieurement par le service compétent.")


def choose(pane, task: str) -> None:
    """A task: a tab before issue 11, the task menu after."""
    if pane.page.locator(f"#tab-{task}").count():
        pane.page.click(f"#tab-{task}")
    else:
        pane.page.select_option("#task", task)


def word(suffix: str) -> None:
    from playwright.sync_api import sync_playwright

    from tests.conftest import start_modelless
    from tests.word.pane import Pane, launch

    tmp = Path(tempfile.mkdtemp(prefix="plume-shots-"))
    server = start_modelless(tmp)
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            pane = Pane.open(browser, server.url, server.tokens["user"], width=340)
            pane.wait_idle()
            pane.page.screenshot(path=str(OUT / f"word-templates-{suffix}.png"), full_page=True)
            pane.set_document([JARGON])
            pane.select(0)
            choose(pane, "clair")
            pane.page.click("#plain-run")
            pane.wait_idle()
            pane.page.screenshot(path=str(OUT / f"word-plain-{suffix}.png"), full_page=True)
            choose(pane, "traduire")
            pane.page.screenshot(path=str(OUT / f"word-translate-{suffix}.png"), full_page=True)
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# -- LibreOffice panels ----------------------------------------------------------------------------


def _png(width: int, height: int, rows: list) -> bytes:
    """RGB rows (each prefixed by filter byte 0) -> PNG bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b""))


def bmp_to_png(bmp: bytes) -> bytes:
    """An uncompressed 24-bit BMP (what LibreOffice's XBitmap.getDIB gives) -> PNG, standard library only."""
    offset = struct.unpack("<I", bmp[10:14])[0]
    width, height = struct.unpack("<ii", bmp[18:26])
    bits = struct.unpack("<H", bmp[28:30])[0]
    step = bits // 8
    stride = (width * step + 3) // 4 * 4
    rows = []
    for y in range(abs(height)):
        source = y if height < 0 else abs(height) - 1 - y  # BMP rows go bottom-up
        line = bmp[offset + source * stride: offset + source * stride + width * step]
        out = bytearray(b"\x00")
        for x in range(0, width * step, step):
            out += bytes((line[x + 2], line[x + 1], line[x]))
        rows.append(bytes(out))
    return _png(width, abs(height), rows)


def libreoffice(suffix: str, revision: str = "") -> None:
    """The panels as LibreOffice paints them (see tests/libreoffice/screens.py for how, and why no window)."""
    from plume.cli.addin import build_oxt
    from tests.conftest import free_port, start_modelless
    from tests.libreoffice.office import Office, install_extension

    tmp = Path(tempfile.mkdtemp(prefix="plume-shots-"))
    tmp.chmod(0o755)
    for folder in ("srv", "build", "shots"):
        (tmp / folder).mkdir()
    server = start_modelless(tmp / "srv")
    office = None
    try:
        oxt = tmp / "build" / "plume.oxt"
        if revision:  # the extension as it was at that revision (for "before" pictures)
            archive = subprocess.run(["git", "archive", revision, "extension-libreoffice"], cwd=REPO,
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(tmp / "build")], input=archive, check=True)
            build_oxt(oxt, source=tmp / "build" / "extension-libreoffice")
        else:
            build_oxt(oxt)
        install_extension(oxt, tmp / "profile")
        office = Office.start(tmp / "profile", free_port(), tmp / "soffice.log")
        (tmp / "shots").chmod(0o777)
        scenario = {"settings": {"ServerURL": server.url, "Token": server.tokens["user"]}, "text": JARGON}
        done = subprocess.run(["/usr/bin/python3", str(REPO / "tests" / "libreoffice" / "screens.py"),
                               str(office.port), str(tmp / "shots")],
                              input=json.dumps(scenario), capture_output=True, text=True, timeout=180)
        print(done.stdout, done.stderr[-3000:])
        for shot in sorted((tmp / "shots").glob("shot-*.bmp")):
            name = shot.stem[len("shot-"):]
            (OUT / f"libreoffice-{name}-{suffix}.png").write_bytes(bmp_to_png(shot.read_bytes()))
    finally:
        if office is not None:
            office.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    {"word": word, "libreoffice": libreoffice}[sys.argv[1]](*sys.argv[2:])
