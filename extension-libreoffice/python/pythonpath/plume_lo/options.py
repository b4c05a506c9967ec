"""Tools > Options > Plume > Serveur: the options page (dialogs/Options.xdl).

Values come from and go to the configuration (settings.py); a value IT has locked is shown
read-only with a note.
"""

from __future__ import annotations

import unohelper
from com.sun.star.awt import XActionListener, XContainerWindowEventHandler
from com.sun.star.lang import XServiceInfo

from plume_lo import i18n, runner, settings
from plume_lo.actions.templates import ListTemplates

IMPLEMENTATION = "ch.lelocle.plume.OptionsHandler"
LANGUAGES = ("fr", "de")


class _TestConnection(unohelper.Base, XActionListener, runner.Reporter):
    """"Tester la connexion": lists the templates with the values typed in (saved first)."""

    def __init__(self, handler, window):
        self.handler, self.window = handler, window

    def actionPerformed(self, event):
        self.handler.save(self.window)
        self._status(i18n.text(settings.language(self.handler.ctx), "working"))
        runner.start(self.handler.ctx, ListTemplates(), None, self)

    def finished(self, ok, message, data):
        language = settings.language(self.handler.ctx)
        self._status(i18n.text(language, "connection_ok", count=len(data.get("templates") or [])) if ok else message)

    def disposing(self, event):
        pass

    def _status(self, message):
        self.window.getControl("Status").getModel().Label = message


class OptionsHandler(unohelper.Base, XContainerWindowEventHandler, XServiceInfo):
    def __init__(self, ctx, *args):
        self.ctx = ctx

    def callHandlerMethod(self, window, event, method):
        if method != "external_event":
            return False
        if event in ("initialize", "back"):
            self.load(window, first=event == "initialize")
        elif event == "ok":
            self.save(window)
        return True

    def getSupportedMethodNames(self):
        return ("external_event",)

    def load(self, window, first: bool) -> None:
        values = settings.load(self.ctx)
        frozen = settings.locked(self.ctx)
        language = values.language
        for key in ("ServerURL", "Token", "Language", "ReviewMode"):
            window.getControl(f"Label{key}").getModel().Label = i18n.text(
                language, {"ServerURL": "server_url", "Token": "token", "Language": "language",
                           "ReviewMode": "review_mode"}[key])
        modes = window.getControl("ReviewMode").getModel()
        modes.StringItemList = tuple(i18n.text(language, f"review_{mode}") for mode in settings.REVIEW_MODES)
        modes.SelectedItems = (settings.REVIEW_MODES.index(values.review_mode),)
        window.getControl("ServerURL").getModel().Text = values.server_url
        window.getControl("Token").getModel().Text = values.token
        window.getControl("Language").getModel().SelectedItems = (LANGUAGES.index(language),)
        for key in frozen:
            window.getControl(key).getModel().Enabled = False
        test = window.getControl("Test")
        test.getModel().Label = i18n.text(language, "test")
        window.getControl("Status").getModel().Label = i18n.text(language, "locked") if frozen else ""
        if first:
            test.addActionListener(_TestConnection(self, window))

    def save(self, window) -> None:
        selected = window.getControl("Language").getModel().SelectedItems
        mode = window.getControl("ReviewMode").getModel().SelectedItems
        settings.save(self.ctx, settings.Settings(
            server_url=window.getControl("ServerURL").getModel().Text.strip(),
            token=window.getControl("Token").getModel().Text.strip(),
            language=LANGUAGES[selected[0]] if selected else "fr",
            review_mode=settings.REVIEW_MODES[mode[0]] if mode else "tracked"))

    def getImplementationName(self):
        return IMPLEMENTATION

    def supportsService(self, name):
        return name in self.getSupportedServiceNames()

    def getSupportedServiceNames(self):
        return ("com.sun.star.awt.ContainerWindowEventHandler",)
