"""Running the mailbox workers: one pass over each account (`plume mail once`), one watcher thread
per account beside the server (`plume serve` with `[[mail]]`), and triage by the model from those
threads (`plume mail --models`, or the server's own inference service)."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from plume.config import MailAccount, Settings
from plume.mail.parse import MailMessage
from plume.mailbox.worker import Classifier, MailWorker, PassReport
from plume.tasks.acknowledge import ReferenceBook
from plume.tasks.triage import Rules, TriageResult, triage_by_rules


def run_once(settings: Settings, accounts: list[MailAccount] | None = None,
             classify: Classifier | None = None) -> list[PassReport]:
    reports = []
    for account in accounts if accounts is not None else settings.mail:
        worker = MailWorker(settings, account, classify)
        try:
            reports.append(worker.run_pass())
        finally:
            worker.close()
    return reports


def start_watchers(settings: Settings, classify: Classifier | None = None,
                   book: ReferenceBook | None = None) -> tuple[threading.Event, list[threading.Thread]]:
    """One daemon thread per account (used by `plume serve`): the IMAP work stays off the event loop."""
    stop = threading.Event()
    threads = []
    for account in settings.mail:
        worker = MailWorker(settings, account, classify, book)
        thread = threading.Thread(target=worker.watch, args=(stop,), name=f"plume-mail-{account.label}", daemon=True)
        thread.start()
        threads.append(thread)
    return stop, threads


def model_classifier(inference, loop: asyncio.AbstractEventLoop, timeout_s: float = 180.0) -> Classifier:
    """Triage with the model when one is installed for the task (rules otherwise), from a worker
    thread: the coroutine runs on the server's event loop, which owns the inference service."""
    from plume.tasks.triage import triage

    def classify(mail: MailMessage, rules: Rules) -> TriageResult:
        if not inference.has_model("triage"):
            return triage_by_rules(mail, rules)
        future = asyncio.run_coroutine_threadsafe(triage(mail, rules, inference, user="mail"), loop)
        try:
            return future.result(timeout=timeout_s)
        except Exception as exc:  # an invalid answer, a timeout, the model unloaded: the rules decide
            future.cancel()
            result = triage_by_rules(mail, rules)
            result.reasons.insert(0, f"le modèle n'a pas donné de réponse valide ({type(exc).__name__}) : "
                                     "classement par les règles")
            return result

    return classify


@contextlib.asynccontextmanager
async def lifespan(app):
    """`plume serve` with `[[mail]]` accounts: one watcher thread per account beside the server."""
    services = app.state.services  # built with the app (plume.services): no lifespan order to rely on
    settings: Settings = services.settings
    classify = model_classifier(services.inference, asyncio.get_running_loop(), settings.request_timeout_s + 60)
    book = services.reference_book  # the same reference book as POST /v1/mail/acknowledge: one numbering
    stop, threads = start_watchers(settings, classify, book)
    try:
        yield
    finally:
        stop.set()
        await asyncio.to_thread(lambda: [t.join(timeout=10) for t in threads])
