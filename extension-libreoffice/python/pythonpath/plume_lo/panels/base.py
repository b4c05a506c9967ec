"""What every sidebar panel shares: its window and controls (View), and running its actions (SidebarPanel).

A panel module holds two classes: a View subclass, the presenter, which only writes what the clerk
sees (labels, lists, results, which buttons work); and a SidebarPanel subclass, which binds the
controls' events (listeners.py), starts actions (actions/) through runner.start and hands each
answer to its view. While a request runs, the progress bar moves and Stop is enabled; the rest of
LibreOffice stays usable.
"""

from __future__ import annotations

import unohelper
from com.sun.star.ui import LayoutSize, XSidebarPanel, XToolPanel

from plume_lo import i18n, runner, settings
from plume_lo.panels import listeners

EXTENSION_ID = "ch.lelocle.plume"


def extension_url(ctx, relative: str) -> str:
    provider = ctx.getValueByName("/singletons/com.sun.star.deployment.PackageInformationProvider")
    return provider.getPackageLocation(EXTENSION_ID) + "/" + relative


class View:
    """A window's controls by name, in the clerk's language: what every presenter writes with."""

    def __init__(self, window, language: str) -> None:
        self.window, self.language = window, language

    def control(self, name):
        return self.window.getControl(name)

    def model(self, name):
        return self.control(name).getModel()

    def has(self, name: str) -> bool:
        return self.control(name) is not None

    def say(self, key: str, **values) -> str:
        return i18n.text(self.language, key, **values)

    def label(self, labels: dict) -> None:
        """Each control's label (control name -> string key) in French or German."""
        for control, key in labels.items():
            self.model(control).Label = self.say(key)

    def enable(self, on: bool, *names: str) -> None:
        for name in names:
            self.model(name).Enabled = on

    def fill(self, name: str, items, chosen: int | None = 0) -> None:
        """A list box's items, the one at `chosen` selected (None: none)."""
        listbox = self.control(name)
        listbox.removeItems(0, listbox.getItemCount())
        listbox.addItems(tuple(items), 0)
        if chosen is not None and listbox.getItemCount():
            listbox.selectItemPos(chosen, True)

    def chosen(self, name: str) -> int:
        """The position of the item chosen in a list box (-1: none)."""
        return self.control(name).getSelectedItemPos()

    def status(self, message: str) -> None:
        self.model("Status").Text = message  # a read-only text box that wraps and scrolls: never cut off

    def status_text(self) -> str:
        return self.model("Status").Text

    def busy(self, on: bool) -> None:
        if self.has("Progress"):
            self.model("Progress").ProgressValue = 50 if on else 0
        if self.has("Cancel"):
            self.model("Cancel").Enabled = on


class SidebarPanel(unohelper.Base, XToolPanel, XSidebarPanel, runner.Reporter):
    """A panel of the Plume deck, made by the factory from its dialog (DIALOG) and presenter (VIEW)."""
    DIALOG = ""
    VIEW = View
    LABELS: dict = {}

    def __init__(self, ctx, frame, parent):
        self.ctx, self.frame = ctx, frame
        self.job = None
        self.pending = None  # what the running request is for, named by the panel
        self.language = settings.language(ctx)
        provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.awt.ContainerWindowProvider", ctx)
        self.window = provider.createContainerWindow(extension_url(ctx, self.DIALOG), "", parent, None)
        self.window.setVisible(True)
        self.Window = self.window  # XToolPanel's read-only attribute
        self.alive = True
        self.window.addEventListener(listeners.Disposed(self))
        self.view = self.VIEW(self.window, self.language)
        self.view.label(self.LABELS)

    # -- events in ------------------------------------------------------------------------------

    def on(self, name: str, fn) -> None:
        """`fn()` when the button `name` is pressed."""
        self.view.control(name).addActionListener(listeners.Pressed(fn))

    def on_choice(self, name: str, fn) -> None:
        """`fn()` when an item of the list box `name` is chosen."""
        self.view.control(name).addItemListener(listeners.Chosen(fn))

    def on_enter(self, name: str, fn) -> None:
        """`fn()` when Enter is pressed in the text box `name`."""
        self.view.control(name).addKeyListener(listeners.EnterPressed(fn))

    def on_shown(self, fn) -> None:
        """`fn()` each time the panel is shown again."""
        self.window.addWindowListener(listeners.Shown(fn))

    # -- actions out ----------------------------------------------------------------------------

    def document(self):
        controller = self.frame.getController() if self.frame is not None else None
        return controller.getModel() if controller is not None else None

    def running(self) -> bool:
        return self.job is not None and not self.job.done

    def start(self, pending: str, action, quiet: bool = False) -> bool:
        """Run `action`, remembering what it is for; one at a time (`quiet`: skip without a word)."""
        if self.running():
            if not quiet:
                self.view.status(i18n.text(self.language, "busy"))
            return False
        self.pending = pending
        self.job = runner.start(self.ctx, action, self.document(), self)
        return True

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()

    # -- runner.Reporter ------------------------------------------------------------------------

    def progress(self, message):
        if self.alive:
            self.view.status(message)
            self.view.busy(True)

    def finished(self, ok, message, data):
        if not self.alive:  # an answer that arrives after the deck was closed is dropped
            return
        pending, self.pending = self.pending, None
        self.view.busy(False)
        # The status line changes once: to what the panel says of the answer (« Remarques : 3 »), else
        # to `message` (« Terminé. »). Never « Terminé. » first and the real word a moment later.
        working = self.view.status_text()
        self.answered(pending, ok, message, data)
        if self.view.status_text() == working:
            self.view.status(message)

    def answered(self, pending, ok: bool, message: str, data: dict) -> None:
        """What the panel does with an answer; its status line says `message` unless this changes it."""

    # -- XToolPanel, XSidebarPanel --------------------------------------------------------------

    def createAccessible(self, parent):
        return self.window.getAccessibleContext() if hasattr(self.window, "getAccessibleContext") else None

    def getHeightForWidth(self, width):
        height = self.window.getPosSize().Height
        return LayoutSize(height, height, height)

    def getMinimalWidth(self):
        return self.window.getPosSize().Width
