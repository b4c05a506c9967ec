"""The UNO event plumbing of the panels and the letter form: each listener calls one Python function.

Panels bind their controls with these and nothing else, so what a panel shows (its view) never
depends on how LibreOffice delivers events.
"""

from __future__ import annotations

import unohelper
from com.sun.star.awt import XActionListener, XItemListener, XKeyListener, XWindowListener
from com.sun.star.awt.Key import RETURN
from com.sun.star.lang import XEventListener


class Pressed(unohelper.Base, XActionListener):
    """A button pressed."""

    def __init__(self, fn):
        self.fn = fn

    def actionPerformed(self, event):
        self.fn()

    def disposing(self, event):
        pass


class Chosen(unohelper.Base, XItemListener):
    """An item chosen in a list box."""

    def __init__(self, fn):
        self.fn = fn

    def itemStateChanged(self, event):
        self.fn()

    def disposing(self, event):
        pass


class EnterPressed(unohelper.Base, XKeyListener):
    """Enter pressed in a text box (a question: Enter runs the search)."""

    def __init__(self, fn):
        self.fn = fn

    def keyPressed(self, event):
        if event.KeyCode == RETURN:
            self.fn()

    def keyReleased(self, event):
        pass

    def disposing(self, event):
        pass


class Shown(unohelper.Base, XWindowListener):
    """Calls back each time the panel is shown again (the deck reopened, the panel expanded)."""

    def __init__(self, fn):
        self.fn = fn

    def windowShown(self, event):
        self.fn()

    def windowResized(self, event):
        pass

    def windowMoved(self, event):
        pass

    def windowHidden(self, event):
        pass

    def disposing(self, event):
        pass


class Disposed(unohelper.Base, XEventListener):
    """Tells its owner when a window goes away (deck closed, dialog closed) while a request still runs:
    the answer that arrives later is then dropped."""

    def __init__(self, owner):
        self.owner = owner

    def disposing(self, event):
        self.owner.alive = False
