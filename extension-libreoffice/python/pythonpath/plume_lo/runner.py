"""Run an action: HTTP on a worker thread, document and UI changes on LibreOffice's main thread.

The worker never touches the document: it hands its result to `com.sun.star.awt.AsyncCallback`,
which calls back on the main thread, where `apply` runs and the reporter is told the outcome.
LibreOffice keeps answering while the server works. Stop (Cancel) drops the result and leaves the
document as it was, unless the model had already written part of a streamed result: that part is
kept, marked as partial, and goes through the same `apply` as a complete result.
"""

from __future__ import annotations

import threading
import time
import traceback

import unohelper
from com.sun.star.awt import XCallback

from plume_lo import i18n, settings
from plume_lo.actions.base import Cancelled
from plume_lo.client import Client, PlumeError


class Reporter:
    """What the caller hears: `progress(message)`, then exactly one `finished(ok, message, data)`."""

    def progress(self, message: str) -> None:  # pragma: no cover - interface
        pass

    # Optional: `writing(text)`, the text a model has written so far (a few times a second at most);
    # or `following(state)`, the state of a long job as its action reports it (a transcription's
    # percent and text so far), as often.

    def finished(self, ok: bool, message: str, data: dict) -> None:  # pragma: no cover - interface
        pass


class _MainThreadCall(unohelper.Base, XCallback):
    def __init__(self, fn):
        self.fn = fn

    def notify(self, _data):
        try:
            self.fn()
        except Exception:  # an exception here would vanish inside LibreOffice's event loop
            traceback.print_exc()


def on_main_thread(ctx, fn) -> None:
    callback = ctx.ServiceManager.createInstanceWithContext("com.sun.star.awt.AsyncCallback", ctx)
    callback.addCallback(_MainThreadCall(fn), None)


_active: list["Job"] = []  # jobs waiting for the server, so that Cancel can reach them


def active_jobs(doc=None) -> list["Job"]:
    return [job for job in _active if doc is None or job.doc == doc]


class Job:
    def __init__(self, ctx, action, doc, reporter: Reporter):
        self.ctx, self.action, self.doc, self.reporter = ctx, action, doc, reporter
        self.cancelled = False
        self.done = False
        self.language = settings.language(ctx)
        self.snapshot = None
        self.written = None  # what the model has written so far of a streamed result (worker thread)
        self._shown_at = 0.0

    def wrote(self, value) -> None:
        """Called by the worker as a streamed result grows: kept for Stop, and shown to the clerk, who
        can then stop when she has enough."""
        self.written = value
        show = getattr(self.reporter, "following", None)
        if show is None:
            show, value = getattr(self.reporter, "writing", None), _so_far(value)
        if show is None or not value or time.monotonic() - self._shown_at < 0.25:
            return
        self._shown_at = time.monotonic()
        on_main_thread(self.ctx, lambda: None if self.done or self.cancelled else show(value))

    def cancel(self) -> None:
        """Stop: the answer, when it comes, is dropped. What the model already wrote is kept (when the
        action can use part of a result): it goes in like a complete result, marked as partial;
        without any text yet, the document stays as it is."""
        if self.done or self.cancelled:
            return
        self.cancelled = True
        kept = self.action.partial(self.written)
        if kept is None:
            self._finish(False, i18n.text(self.language, "cancelled"), {"cancelled": True})
            return
        snapshot = self.snapshot
        on_main_thread(self.ctx, lambda: self._apply(snapshot, kept, stopped=True))

    def _finish(self, ok: bool, message: str, data: dict) -> None:
        self.done = True
        if self in _active:
            _active.remove(self)
        try:
            self.reporter.finished(ok, message, data)
        except Exception:
            traceback.print_exc()

    def _fail(self, error: PlumeError) -> None:
        data = {"code": error.key, "status": error.status, **{k: str(v) for k, v in error.values.items()}}
        self._finish(False, error.message(self.language), data)

    def start(self) -> "Job":
        """Capture on the calling thread (the main thread for buttons), then work in the background."""
        try:
            snapshot = self.snapshot = self.action.capture(self.doc)
            config = settings.load(self.ctx)
        except PlumeError as error:
            self._fail(error)
            return self
        except Exception:
            traceback.print_exc()
            self._fail(PlumeError("internal"))
            return self
        client = self.client = Client(config.server_url, config.token)
        self.reporter.progress(i18n.text(self.language, "working"))
        _active.append(self)
        threading.Thread(target=self._work, args=(client, snapshot), name="plume-request", daemon=True).start()
        return self

    def _work(self, client: Client, snapshot) -> None:
        try:
            result = self.action.work(client, snapshot, self)
        except Cancelled:
            return
        except PlumeError as error:
            failure = error  # `error` is unbound once the except block ends; the callback runs later
        except Exception:
            traceback.print_exc()
            failure = PlumeError("bad_answer")
        else:
            on_main_thread(self.ctx, lambda: self._apply(snapshot, result))
            return
        on_main_thread(self.ctx, lambda: None if self.cancelled else self._fail(failure))

    def _apply(self, snapshot, result, stopped: bool = False) -> None:
        if self.cancelled and not stopped or self.done:
            return
        try:
            data = self.action.apply(self.ctx, self.doc, snapshot, result)
        except PlumeError as error:
            self._fail(error)
            return
        except Exception:
            traceback.print_exc()
            self._fail(PlumeError("internal"))
            return
        used = [i for i in data.pop("usage", None) or () if i]
        if used:  # the result is in the document now: tell the server, off the main thread
            threading.Thread(target=self.client.report_inserted, args=(used,), name="plume-usage", daemon=True).start()
        undoable = bool(self.action.undo_key) and not data.get("preview") \
            and not data.get("unchanged") or bool(data.get("inserted")) or bool(data.get("replaced"))
        key = "done_tracked" if data.get("tracked") else "done_undo" if undoable else "done"
        message = i18n.text(self.language, key)
        if stopped:  # said first, so that no one takes the part for the whole
            data.update(partial=True, stopped=True)
            more = "stopped_kept" if data.get("inserted") or data.get("replaced") else "stopped_shown"
            # « Terminé. » would say the opposite: only the rest of the sentence (how to review) stays.
            how = message.partition(". ")[2] if more == "stopped_kept" else ""
            message = " ".join(part for part in (i18n.text(self.language, "stopped"), i18n.text(self.language, more),
                                                 how) if part)
        if data.get("warning"):
            message = f"{message} {data['warning']}"
        self._finish(True, message, data)


def _so_far(written) -> str:
    """The text to show of what was written: a streamed text, or the paragraphs done and the one being
    written (nothing while no paragraph is being written: a translation's answers are HTML)."""
    if isinstance(written, str):
        return written
    if isinstance(written, tuple) and written[1]:
        done, current = written
        return "\n".join([str(a.get("text") or "") for a in done if isinstance(a, dict)] + [current])
    return ""


def start(ctx, action, doc, reporter: Reporter) -> Job:
    return Job(ctx, action, doc, reporter).start()
