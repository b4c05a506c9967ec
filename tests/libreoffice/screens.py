"""Pictures of the Plume sidebar panels, for tools/sidebar_screenshots.py (not a test).

Runs under Debian's /usr/bin/python3 against a headless soffice with the .oxt installed:
    screens.py PORT OUTDIR < {"settings": {...}, "text": "..."}
Debian's LibreOffice here has no X11/GTK plug-in, so no window can be photographed. Instead each
panel is made by the extension's own factory, as the deck makes it, and LibreOffice paints it, control
by control (XView.draw -> VCL's PaintToDevice), into an off-screen device: the same drawing code as on
screen, without the window frame. Writes OUTDIR/shot-<step>.bmp: text-panel (as opened),
text-panel-plain (after pressing « Langage clair » on a selected paragraph, as a clerk would),
templates-panel.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import uno

sys.path.insert(0, str(Path(__file__).resolve().parent))
from driver import build_document, connect, make_panel, select, wait_for, write_settings  # noqa: E402


def paint(ctx, window, path: Path) -> None:
    size = window.getPosSize()
    toolkit = ctx.ServiceManager.createInstanceWithContext("com.sun.star.awt.Toolkit", ctx)
    device = toolkit.createScreenCompatibleDevice(size.Width, size.Height)
    graphics = device.createGraphics()
    view = window.queryInterface(uno.getTypeByName("com.sun.star.awt.XView"))
    view.setGraphics(graphics)
    view.draw(0, 0)  # the panel's background
    for control in window.getControls():  # then every control where it sits
        where = control.getPosSize()
        control.setGraphics(graphics)
        control.draw(where.X, where.Y)
    path.write_bytes(bytes(device.createBitmap(0, 0, size.Width, size.Height).getDIB().value))


def main() -> None:
    ctx = connect(int(sys.argv[1]))
    out = Path(sys.argv[2])
    scenario = json.load(sys.stdin)
    write_settings(ctx, {**scenario["settings"], "Language": "fr"})
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    doc = build_document(desktop, [[{"text": "Objet : votre demande."}], [{"text": scenario["text"]}]])
    frame = doc.getCurrentController().getFrame()
    select(doc, 1)
    _, window = make_panel(ctx, frame, "TextPanel")
    paint(ctx, window, out / "shot-text-panel.bmp")
    window.getControl("Plain").getPeer().getAccessibleContext().doAccessibleAction(0)
    cancel = window.getControl("Cancel").getModel()
    wait_for(lambda: not cancel.Enabled, 120)  # the server answered (Cancel/Arrêter greys out again)
    time.sleep(0.5)
    paint(ctx, window, out / "shot-text-panel-plain.bmp")
    window.dispose()
    _, templates = make_panel(ctx, frame, "TemplatesPanel")
    paint(ctx, templates, out / "shot-templates-panel.bmp")
    templates.dispose()
    doc.close(True)
    print(json.dumps({"ok": True}), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
