"""The action protocol (see the package's docstring) and what several actions share."""

from __future__ import annotations

from plume_lo import i18n, settings, writer
from plume_lo.client import Client, PlumeError


class Cancelled(Exception):
    pass


class Action:
    """capture (main thread) -> work (worker thread) -> apply (main thread)."""

    needs_document = True  # False: runs with no Writer document open (lists, templates, settings)
    undo_key = ""  # the i18n key of its undo step's title, for an action that changes the text

    def capture(self, doc):
        return None

    def work(self, client: Client, snapshot, job):
        return None

    def apply(self, ctx, doc, snapshot, result) -> dict:
        return {}

    def partial(self, written):
        """What Stop keeps of a result written so far, in the shape `apply` takes; None: nothing."""
        return None


def check(job) -> None:
    """Raises Cancelled once the clerk has pressed Stop."""
    if job is not None and job.cancelled:
        raise Cancelled()


def stream(client: Client, path: str, body: dict, job, written=lambda text: text) -> dict:
    """A task's answer, streamed: `job.wrote(written(text so far))` as the model writes; Cancelled
    once the clerk has pressed Stop (the job then keeps what was written)."""
    check(job)
    wrote = job.wrote if job is not None else (lambda _value: None)
    answer = client.stream(path, body, lambda text: wrote(written(text)),
                           lambda: job is not None and job.cancelled)
    if answer is None:
        raise Cancelled()
    return answer


class ByParagraph(Action):
    """Stop keeps the paragraphs already done and the part written of the current one."""

    def partial(self, written):
        done, text = written if isinstance(written, tuple) else ((), "")
        kept = list(done) + ([{"text": text}] if text.strip() else [])
        return kept or None


class OneText(Action):
    """A result written in one stream: Stop keeps the text written so far."""
    request_id = ""

    def _wrote(self, client: Client, text: str) -> str:
        self.request_id = client.last_request_id  # the part kept on Stop is counted like a whole result
        return text

    def partial(self, written):
        return {"text": written} if isinstance(written, str) and written.strip() else None


class OnSelectedParagraphs(Action):
    """An action that rewrites the selected paragraphs in place, in one undo step."""

    def capture(self, doc):
        paragraphs = writer.selected_paragraphs(doc)
        if not paragraphs:
            raise PlumeError("no_selection")
        return paragraphs

    def _title(self, ctx):
        return undo_title(ctx, self.undo_key)


class Listing(Action):
    """A read of the server's lists (GET): no document needed, nothing changed."""
    needs_document = False


def text_of(answer) -> str:
    """The main text of a task's answer, whatever the task calls it."""
    if isinstance(answer, str):
        return answer
    for key in ("text", "summary", "minutes", "factsheet", "letter", "reply", "body", "content"):
        value = answer.get(key)
        if isinstance(value, str):
            return value
    raise PlumeError("bad_answer")


def undo_title(ctx, key: str) -> str:
    return i18n.text(settings.language(ctx), key)
