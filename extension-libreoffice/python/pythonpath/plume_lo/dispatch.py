"""The `vnd.plume:` protocol: every action as a dispatch URL.

Menus, the toolbar, the context menu and scripts (and the tests) call for example
`vnd.plume:translate?target=es` or `vnd.plume:template?id=attestation-domicile&mode=new`.
A caller that uses `dispatchWithNotification` gets the outcome back as a DispatchResultEvent whose
Result is a JSON string {"ok", "message", ...}; a plain dispatch (menu) shows the outcome in the
document's info bar, which never blocks the user.
"""

from __future__ import annotations

import json
import traceback
import urllib.parse

import unohelper
from com.sun.star.beans import PropertyValue
from com.sun.star.frame import DispatchResultEvent, XDispatchProvider, XNotifyingDispatch
from com.sun.star.frame.DispatchResultState import FAILURE, SUCCESS
from com.sun.star.lang import XInitialization, XServiceInfo

from plume_lo import i18n, runner, settings, writer
from plume_lo.actions import commune, drafting, plain_language, proofreading, templates, translation

IMPLEMENTATION = "ch.lelocle.plume.Dispatcher"
PROTOCOL = "vnd.plume:"


def parse(url: str) -> tuple[str, dict]:
    """`vnd.plume:translate?target=es` -> ("translate", {"target": "es"})."""
    rest = url[len(PROTOCOL):] if url.startswith(PROTOCOL) else url
    command, _, query = rest.partition("?")
    return command.strip("/"), dict(urllib.parse.parse_qsl(query))


def action_for(command: str, params: dict):
    """The action object for a dispatch command, or None if the command is unknown."""
    flag = params.get("insert", "").lower() in ("1", "true", "yes", "oui")
    if command == "plain-language":
        return plain_language.PlainLanguage(level=params.get("level", ""), review=params.get("review", ""))
    if command == "translate":
        return translation.Translate(target=params.get("target", "de"), source=params.get("source", ""),
                                     review=params.get("review", ""))
    if command == "proofread":  # lists the errors; with fix=all, applies the unambiguous ones
        return proofreading.Proofread(fix_all=params.get("fix", "") == "all", review=params.get("review", ""))
    if command == "actions":
        return commune.ListActions()
    if command == "action":
        return commune.RunAction(params.get("id", ""), applies_to=params.get("applies_to", "selection"),
                                 review=params.get("review", ""))
    if command in drafting.TEXT_TASKS:
        options = {k: v for k, v in params.items() if k not in ("insert",)}
        return drafting.TextTask(command, insert=flag, options=options)
    if command == "insert-result":
        return drafting.InsertResult(params.get("text", ""))
    if command == "template":
        values = params.get("values") or "{}"
        return templates.InsertTemplate(params.get("id", ""),
                                        json.loads(values) if isinstance(values, str) else values,
                                        mode=params.get("mode", "insert"), language=params.get("language", ""))
    if command == "extract":
        return templates.ExtractFields(params.get("id", ""), params.get("text", ""))
    if command == "templates":
        return templates.ListTemplates()
    if command == "template-fields":
        return templates.GetTemplate(params.get("id", ""))
    return None


class _DispatchReporter(runner.Reporter):
    def __init__(self, frame, listener, source):
        self.frame, self.listener, self.source = frame, listener, source

    def finished(self, ok, message, data):
        if self.listener is not None:
            event = DispatchResultEvent()
            event.Source = self.source
            event.State = SUCCESS if ok else FAILURE
            event.Result = json.dumps({"ok": ok, "message": message, **data}, ensure_ascii=False)
            self.listener.dispatchFinished(event)
        else:
            show_infobar(self.frame, message, ok)


def show_infobar(frame, message: str, ok: bool) -> None:
    """A non-blocking message above the document (LibreOffice ≥ 6.4)."""
    try:
        controller = frame.getController()
        if controller.hasInfobar("plume"):
            controller.removeInfobar("plume")
        controller.appendInfobar("plume", "Plume", message, 1 if ok else 3, (), True)
    except Exception:
        traceback.print_exc()


def _settings_report(ctx) -> dict:
    """The settings in effect (the token itself is never shown) and those IT has locked."""
    values = settings.load(ctx)
    return {"server_url": values.server_url, "language": values.language, "token_set": bool(values.token),
            "locked": sorted(settings.locked(ctx)), "options_page": options_page_url(ctx)}


OPTIONS_LEAF = "/org.openoffice.Office.OptionsDialog/Nodes/ch.lelocle.plume.Options/Leaves/ch.lelocle.plume.Options.Server"


def options_page_url(ctx) -> str:
    """The page URL as the options dialog knows it (OptionsDialog.xcu, with %origin% and macros expanded):
    `.uno:OptionsTreeDialog` opens on the page whose URL matches."""
    provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    arg = PropertyValue()
    arg.Name, arg.Value = "nodepath", OPTIONS_LEAF
    url = provider.createInstanceWithArguments("com.sun.star.configuration.ConfigurationAccess", (arg,)).OptionsPage
    prefix = "vnd.sun.star.expand:"
    if url.startswith(prefix):
        expander = ctx.getValueByName("/singletons/com.sun.star.util.theMacroExpander")
        url = expander.expandMacros(urllib.parse.unquote(url[len(prefix):]))
    return url


class Dispatcher(unohelper.Base, XInitialization, XDispatchProvider, XNotifyingDispatch, XServiceInfo):
    def __init__(self, ctx, *args):
        self.ctx = ctx
        self.frame = None

    # XInitialization: the protocol handler is created per frame.
    def initialize(self, args):
        if args:
            self.frame = args[0]

    # XDispatchProvider
    def queryDispatch(self, url, target, flags):
        return self if url.Complete.startswith(PROTOCOL) else None

    def queryDispatches(self, requests):
        return tuple(self.queryDispatch(r.FeatureURL, r.FrameName, r.SearchFlags) for r in requests)

    # XDispatch / XNotifyingDispatch
    def dispatch(self, url, args):
        self.dispatchWithNotification(url, args, None)

    def dispatchWithNotification(self, url, args, listener):
        try:
            self._dispatch(url, args, listener)
        except Exception:  # a oneway call: an escaping exception would be lost, and so would the caller
            traceback.print_exc()
            _DispatchReporter(self.frame, listener, self).finished(
                False, i18n.text(settings.language(self.ctx), "internal"), {"code": "internal"})

    def _dispatch(self, url, args, listener):
        command, params = parse(url.Complete)
        for arg in args or ():
            params[arg.Name.lower()] = arg.Value
        reporter = _DispatchReporter(self.frame, listener, self)
        if command in ("sidebar", "options"):
            self._open_ui(command)
            reporter.finished(True, "", {})
            return
        if command == "cancel":
            doc = self.frame.getController().getModel() if self.frame is not None else None
            jobs = runner.active_jobs(doc)
            for job in jobs:
                job.cancel()
            reporter.finished(True, "", {"cancelled": len(jobs)})
            return
        if command == "settings":
            reporter.finished(True, "", _settings_report(self.ctx))
            return
        action = action_for(command, params)
        if action is None:
            reporter.finished(False, f"vnd.plume: commande inconnue « {command} »", {"code": "unknown"})
            return
        doc = self.frame.getController().getModel() if self.frame is not None and self.frame.getController() else None
        if action.needs_document and not writer.is_text_document(doc):
            reporter.finished(False, i18n.text(settings.language(self.ctx), "no_document"), {"code": "no_document"})
            return
        runner.start(self.ctx, action, doc, reporter)

    def addStatusListener(self, listener, url):
        pass

    def removeStatusListener(self, listener, url):
        pass

    def _open_ui(self, command: str) -> None:
        helper = self.ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", self.ctx)
        if command == "sidebar":
            helper.executeDispatch(self.frame, ".uno:SidebarDeck.PlumeDeck", "", 0, ())
        else:  # Tools > Options, opened on Plume's own page
            page = PropertyValue()
            page.Name, page.Value = "OptionsPageURL", options_page_url(self.ctx)
            helper.executeDispatch(self.frame, ".uno:OptionsTreeDialog", "", 0, (page,))

    # XServiceInfo
    def getImplementationName(self):
        return IMPLEMENTATION

    def supportsService(self, name):
        return name in self.getSupportedServiceNames()

    def getSupportedServiceNames(self):
        return ("com.sun.star.frame.ProtocolHandler",)
