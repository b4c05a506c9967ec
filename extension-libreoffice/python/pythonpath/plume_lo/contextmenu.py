"""A "Plume" entry in Writer's context menu when text is selected.

LibreOffice 7.4 offers extensions no declarative way to extend a context menu, so a job bound to
OnViewCreated (registry/Jobs.xcu) registers an XContextMenuInterceptor on each Writer view; the
interceptor adds a submenu whose entries are `vnd.plume:` dispatch URLs.
"""

from __future__ import annotations

import unohelper
from com.sun.star.task import XJob
from com.sun.star.ui import XContextMenuInterceptor
from com.sun.star.ui.ContextMenuInterceptorAction import EXECUTE_MODIFIED, IGNORED

from plume_lo import i18n, settings
from plume_lo.actions.capabilities import KNOWN

IMPLEMENTATION = "ch.lelocle.plume.ContextMenuJob"

ENTRIES = (
    ("plain", "vnd.plume:sidebar"),  # the sidebar shows the proposal and the remarks before any change
    ("translate", None),  # submenu of the target languages the server offers
    ("summarize", "vnd.plume:summarize?insert=true"),
)


def _has_selected_text(selection) -> bool:
    try:
        return selection.getCount() > 0 and any(selection.getByIndex(i).getString()
                                                for i in range(selection.getCount()))
    except Exception:
        return False


class Interceptor(unohelper.Base, XContextMenuInterceptor):
    def __init__(self, ctx):
        self.ctx = ctx

    def notifyContextMenuExecute(self, event):
        try:
            selection = event.Selection.getSelection()
        except Exception:
            return IGNORED
        if not _has_selected_text(selection):
            return IGNORED
        language = settings.language(self.ctx)
        menu = event.ActionTriggerContainer
        submenu = menu.createInstance("com.sun.star.ui.ActionTriggerContainer")
        for key, url in ENTRIES:
            if url:
                submenu.insertByIndex(submenu.getCount(), _trigger(menu, i18n.text(language, key), url))
                continue
            offered = KNOWN.get("translate")
            if offered is None:  # the server was not asked yet: the sidebar will ask it
                submenu.insertByIndex(submenu.getCount(),
                                      _trigger(menu, i18n.text(language, "translate") + "…", "vnd.plume:sidebar"))
                continue
            codes = offered.get("targets") or [] if offered.get("available") else []
            if not codes:
                continue  # no working target language: no entry that would only fail
            targets = menu.createInstance("com.sun.star.ui.ActionTriggerContainer")
            for lang in codes:
                targets.insertByIndex(targets.getCount(),
                                      _trigger(menu, i18n.language_name(language, lang), f"vnd.plume:translate?target={lang}"))
            entry = _trigger(menu, i18n.text(language, "translate"), "")
            entry.setPropertyValue("SubContainer", targets)
            submenu.insertByIndex(submenu.getCount(), entry)
        root = _trigger(menu, "Plume", "")
        root.setPropertyValue("SubContainer", submenu)
        menu.insertByIndex(0, root)
        menu.insertByIndex(1, menu.createInstance("com.sun.star.ui.ActionTriggerSeparator"))
        return EXECUTE_MODIFIED


def _trigger(menu, label: str, url: str):
    trigger = menu.createInstance("com.sun.star.ui.ActionTrigger")
    trigger.setPropertyValue("Text", label)
    if url:
        trigger.setPropertyValue("CommandURL", url)
    return trigger


class ContextMenuJob(unohelper.Base, XJob):
    """Runs on OnViewCreated: registers the interceptor on Writer views (once per controller)."""

    def __init__(self, ctx, *args):
        self.ctx = ctx

    def execute(self, args):
        environment = {}
        for arg in args:
            if arg.Name == "Environment":
                environment = {p.Name: p.Value for p in arg.Value}
        model = environment.get("Model")
        frame = environment.get("Frame")
        controller = frame.getController() if frame is not None else (
            model.getCurrentController() if model is not None else None)
        if controller is None:
            return None
        doc = controller.getModel()
        if doc is not None and doc.supportsService("com.sun.star.text.TextDocument"):
            controller.registerContextMenuInterceptor(Interceptor(self.ctx))
        return None
