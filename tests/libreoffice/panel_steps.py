"""Drive one Plume sidebar panel step by step in a running headless LibreOffice, as a clerk would, for
tests/test_libreoffice_search_transcribe.py. Runs under Debian's /usr/bin/python3 (it has `uno`).

Usage: panel_steps.py PORT < scenario.json  ->  prints one JSON object.

The scenario: "settings", "paragraphs" and "select" as in driver.py; "panel", the panel's class
(SearchPanel…), made by the extension's own factory as the deck makes it; "shots", a folder for
pictures; then "steps", each one of:
  {"type": {"Query": "…"}}          text typed into a box (its model's text, as typing leaves it)
  {"key": ["Query", "RETURN"]}      a key pressed in a control: a real VCL key event (XToolkitRobot)
  {"press": "Search"}               a button pressed (accessibility), then wait until the panel is idle
  {"start": "Transcribe"}           a button pressed without waiting
  {"until": "Transcript"}           wait until that control shows some text
  {"idle": 60}                      wait until the panel's request has ended (« Arrêter » greyed again)
  {"keyboard": true}                the controls Tab stops at, in Tab's order and as shown
  {"pick": {"Hits": 2}}             an item chosen in a list
  {"select": 0 | "all" | "end"}     the document's selection changed
  {"see": "name"}                   what the panel shows now, kept under that name
  {"shot": "name"}                  the panel painted into SHOTS/shot-name.bmp (screens.py)
The answer: what was seen, each status line, and the document afterwards (text, tracked changes, undo
steps, and the text after one undo when "undo" is set).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import uno

sys.path.insert(0, str(Path(__file__).resolve().parent))
from driver import (build_document, connect, panel_state, read_runs, redlines, select, wait_for,  # noqa: E402
                    write_settings)
from screens import paint  # noqa: E402

BUSY = ("travaille", "arbeitet")


def open_panel(ctx, frame, name: str):
    factory = ctx.ServiceManager.createInstanceWithContext("ch.lelocle.plume.PanelFactory", ctx)
    from driver import prop
    element = factory.createUIElement(f"private:resource/toolpanel/PlumePanelFactory/{name}",
                                      (prop("Frame", frame), prop("ParentWindow", frame.getContainerWindow())))
    return element.getRealInterface().Window


def idle(window, seconds: float, calm: float = 0.6) -> bool:
    """The panel's requests have ended: « Arrêter » greyed and the status no longer « travaille », for
    `calm` seconds on end. Read over the bridge, a panel that ends one request and starts the next
    (insert, then delete the job) can look idle for an instant in between."""
    cancel, status = window.getControl("Cancel").getModel(), window.getControl("Status").getModel()
    deadline, since = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        if not cancel.Enabled and not any(b in status.Text for b in BUSY):
            since = since or time.monotonic()
            if time.monotonic() - since >= calm:
                return True
        else:
            since = None
        time.sleep(0.1)
    return False


def press_key(ctx, control, key: str) -> None:
    """A key as the keyboard gives it: focus on the control, then a key event posted to LibreOffice's
    event loop, which hands it to the focused window and its key listeners."""
    control.setFocus()
    toolkit = ctx.ServiceManager.createInstanceWithContext("com.sun.star.awt.Toolkit", ctx)
    event = uno.createUnoStruct("com.sun.star.awt.KeyEvent")
    event.Source = control.getPeer()
    event.KeyCode = uno.getConstantByName(f"com.sun.star.awt.Key.{key}")
    event.KeyChar = "\r" if key == "RETURN" else ""
    toolkit.keyPress(event)
    toolkit.keyRelease(event)


def keyboard_order(window) -> dict:
    """The controls Tab stops at, in Tab's order, and the same controls as they are shown: row by row
    (a row by the controls' middles), left to right.
    (Headless LibreOffice gives no window the keyboard focus, so Tab itself cannot be followed.)"""
    stops = []
    for control in window.getControls():
        model = control.getModel()
        info = model.getPropertySetInfo()
        label = model.supportsService("com.sun.star.awt.UnoControlFixedTextModel")  # never takes the focus
        if not label and info.hasPropertyByName("Tabstop") and model.Tabstop is not False:
            stops.append(model)
    return {"tab": [m.Name for m in sorted(stops, key=lambda m: m.TabIndex)],
            "shown": [m.Name for m in sorted(stops, key=lambda m: (m.PositionY + m.Height / 2, m.PositionX))]}


def press(window, name: str) -> None:
    window.getControl(name).getPeer().getAccessibleContext().doAccessibleAction(0)


def run_steps(ctx, doc, window, scenario: dict) -> dict:
    seen, statuses = {}, []
    status = window.getControl("Status").getModel()
    for step in scenario["steps"]:
        kind, value = next(iter(step.items()))
        if kind == "type":
            for name, text in value.items():
                window.getControl(name).getModel().Text = text
        elif kind == "key":
            press_key(ctx, window.getControl(value[0]), value[1])
            time.sleep(0.3)  # the key event is handled by LibreOffice's loop: let it start the request
            idle(window, step.get("timeout", 60))
            statuses.append(status.Text)
        elif kind == "press":
            status.Text = ""
            press(window, value)
            wait_for(lambda: status.Text, 10)
            idle(window, step.get("timeout", 60))
            statuses.append(status.Text)
        elif kind == "keyboard":
            seen["keyboard"] = keyboard_order(window)
        elif kind == "start":
            press(window, value)
        elif kind == "until":
            text = window.getControl(value).getModel()
            wait_for(lambda: text.Text, step.get("timeout", 60))
        elif kind == "idle":
            idle(window, value)
            statuses.append(status.Text)
        elif kind == "pick":
            for name, index in value.items():
                window.getControl(name).selectItemPos(index, True)
        elif kind == "select":
            select(doc, value)
        elif kind == "see":
            seen[value] = panel_state(window)
        elif kind == "shot":
            time.sleep(0.3)
            paint(ctx, window, Path(scenario["shots"]) / f"shot-{value}.bmp")
    return {"seen": seen, "statuses": statuses}


def document_state(doc, undo: bool) -> dict:
    out = {"text": doc.getText().getString(), "after": read_runs(doc), "redlines": redlines(doc)}
    manager = doc.getUndoManager()
    out["undo_titles"] = list(manager.getAllUndoActionTitles())
    if undo and manager.isUndoPossible():
        manager.undo()
        out["after_undo"] = doc.getText().getString()
    return out


def main() -> None:
    ctx = connect(int(sys.argv[1]))
    scenario = json.load(sys.stdin)
    write_settings(ctx, scenario["settings"])
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    doc = build_document(desktop, scenario.get("paragraphs", [[{"text": ""}]]))
    try:
        if "select" in scenario:
            select(doc, scenario["select"])
        window = open_panel(ctx, doc.getCurrentController().getFrame(), scenario["panel"])
        idle(window, scenario.get("open_timeout", 60))
        out = {"opened": panel_state(window), **run_steps(ctx, doc, window, scenario)}
        window.dispose()
        out.update(document_state(doc, scenario.get("undo", False)))
    finally:
        doc.close(True)
    print(json.dumps(out, ensure_ascii=False, default=str), flush=True)
    os._exit(0)  # skip interpreter teardown: tearing down a remote UNO bridge can crash


if __name__ == "__main__":
    main()
