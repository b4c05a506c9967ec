"""Screenshots of both sidebars' main screens, for docs/screenshots/ (run from the repo root).

    .venv/bin/python tools/sidebar_screenshots.py word SUFFIX     # the Word pane at 340 px (Chromium)
    .venv/bin/python tools/sidebar_screenshots.py libreoffice SUFFIX   # Writer + the Plume deck under Xvfb

Both run against a real Plume server with no model (the state of a fresh install), the Word pane
with the test stand-in for Office.js (tests/word/office-standin.js), LibreOffice with the .oxt
installed in a throw-away profile. SUFFIX names the files (before / after).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots"
JARGON = ("Nous accusons réception de votre requête et vous informons que, nonobstant les délais impartis, "
          "le dossier sera traité ultérieurement par le service compétent.")


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
            if pane.page.locator("#tab-clair").count():
                pane.tab("clair")
            else:
                pane.page.select_option("#task", "plain")
            pane.page.click("#plain-run")
            pane.wait_idle()
            pane.page.screenshot(path=str(OUT / f"word-plain-{suffix}.png"), full_page=True)
            if pane.page.locator("#tab-traduire").count():
                pane.tab("traduire")
            else:
                pane.page.select_option("#task", "translate")
            pane.page.screenshot(path=str(OUT / f"word-translate-{suffix}.png"), full_page=True)
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# -- LibreOffice under Xvfb ----------------------------------------------------------------------------


def xwd_to_png(xwd: bytes) -> bytes:
    """Xvfb's framebuffer file (XWD, 24/32-bit TrueColor, as Xvfb writes it) -> PNG, standard library only."""
    header = struct.unpack(">25I", xwd[:100])
    header_size, width, height = header[0], header[4], header[5]
    bits_per_pixel, bytes_per_line, ncolors = header[11], header[12], header[19]
    byte_order = header[7]
    pixels = xwd[header_size + ncolors * 12:]
    step = bits_per_pixel // 8
    rows = []
    for y in range(height):
        line = pixels[y * bytes_per_line:y * bytes_per_line + width * step]
        out = bytearray(b"\x00")
        for x in range(0, width * step, step):
            b, g, r = (line[x], line[x + 1], line[x + 2]) if byte_order == 0 else (line[x + 3], line[x + 2], line[x + 1])
            out += bytes((r, g, b))
        rows.append(bytes(out))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b""))


def libreoffice(suffix: str) -> None:
    from tests.conftest import free_port, plume_cli, start_modelless
    from tests.libreoffice.office import install_extension

    tmp = Path(tempfile.mkdtemp(prefix="plume-shots-"))
    tmp.chmod(0o755)
    server = start_modelless(tmp / "srv")
    display = ":97"
    fb = tmp / "fb"
    fb.mkdir()
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-fbdir", str(fb), "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    office = None
    try:
        oxt = tmp / "plume.oxt"
        plume_cli("addin", "build-oxt", "--output", str(oxt))
        install_extension(oxt, tmp / "profile")
        port = free_port()
        env = {**os.environ, "DISPLAY": display, "HOME": str(tmp / "profile"), "SAL_USE_VCLPLUGIN": "gen"}
        office = subprocess.Popen(["soffice", "--norestore", "--nologo", "--nodefault",
                                   f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
                                   f"--accept=socket,host=127.0.0.1,port={port};urp;"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        scenario = {"ServerURL": server.url, "Token": server.tokens["user"]}
        driver = REPO / "tests" / "libreoffice" / "screens.py"
        done = subprocess.run(["/usr/bin/python3", str(driver), str(port), str(tmp)],
                              input=__import__("json").dumps({"settings": scenario, "text": JARGON}),
                              capture_output=True, text=True, timeout=180, env=env)
        print(done.stdout, done.stderr)
        for name in sorted(p.name for p in tmp.glob("shot-*")):
            step = name[len("shot-"):]
            (OUT / f"libreoffice-{step}-{suffix}.png").write_bytes(xwd_to_png((tmp / name).read_bytes()))
    finally:
        if office is not None:
            os.killpg(office.pid, 15)
            office.wait(20)
        xvfb.terminate()
        xvfb.wait(10)
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    {"word": word, "libreoffice": libreoffice}[sys.argv[1]](sys.argv[2])
