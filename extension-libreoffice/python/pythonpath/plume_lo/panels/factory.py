"""Makes the Plume panels for the sidebar deck (registry/Factories.xcu names this factory).

Sidebar.xcu's ImplementationURL ends in the panel's class name, `…/PlumePanelFactory/TextPanel`;
the class lives in the module named by the rest of it (TextPanel -> panels/text.py), imported the
first time the deck shows it. So a new panel needs no change here.
"""

from __future__ import annotations

import importlib
import re

import unohelper
from com.sun.star.lang import XServiceInfo
from com.sun.star.ui import XUIElement, XUIElementFactory
from com.sun.star.ui.UIElementType import TOOLPANEL

IMPLEMENTATION = "ch.lelocle.plume.PanelFactory"
PANEL_NAME = re.compile(r"^([A-Z][a-z]+)Panel$")


def panel_class(name: str):
    """TextPanel -> plume_lo.panels.text.TextPanel; anything else is not one of ours."""
    match = PANEL_NAME.match(name)
    if match is None:
        raise LookupError(f"no Plume panel named {name!r}")
    module = importlib.import_module(f"plume_lo.panels.{match.group(1).lower()}")
    return getattr(module, name)


class PanelElement(unohelper.Base, XUIElement):
    def __init__(self, url, frame, panel):
        self.ResourceURL, self.Frame, self.Type = url, frame, TOOLPANEL
        self.panel = panel

    def getRealInterface(self):
        return self.panel


class PanelFactory(unohelper.Base, XUIElementFactory, XServiceInfo):
    def __init__(self, ctx, *args):
        self.ctx = ctx

    def createUIElement(self, url, args):
        values = {a.Name: a.Value for a in args}
        panel = panel_class(url.rsplit("/", 1)[-1])(self.ctx, values.get("Frame"), values.get("ParentWindow"))
        return PanelElement(url, values.get("Frame"), panel)

    def getImplementationName(self):
        return IMPLEMENTATION

    def supportsService(self, name):
        return name in self.getSupportedServiceNames()

    def getSupportedServiceNames(self):
        return ("com.sun.star.ui.UIElementFactory",)
