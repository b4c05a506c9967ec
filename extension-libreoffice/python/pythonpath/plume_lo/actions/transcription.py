"""A recording → its transcript with timestamps → the procès-verbal in the commune's PV template
(docs/transcription.md, « What a sidebar calls »).

The recording goes up as a background job (POST /v1/audio/transcriptions, `background=true`); its
progress and segments are then followed as Server-Sent Events, opened again when the connection drops
(the server replays what is done). Stop asks the server to stop, and the job ends with what is done.
The transcript goes in through the review mode; the job (the transcript; the recording is already
gone) is then deleted from the server. « Faire le procès-verbal » sends the document's transcript, the
names put in by the secretary, to POST /v1/text/minutes and inserts the PV the server fills in.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

from plume_lo import wording, writer
from plume_lo.actions.base import Action, Cancelled, Listing, undo_title
from plume_lo.actions.review import review_mode
from plume_lo.actions.search import PutText
from plume_lo.client import Client, PlumeError, problem_of, quote

ROUTE = "/v1/audio/transcriptions"
ACTIVE = ("queued", "running")
RECONNECTS = 5  # a dropped stream is opened again this many times in a row before giving up
QUIET_STREAMS = 20  # streams silent for the client's timeout (3 min) in a row: the queue may be long


def checked_recording(path: str, formats: list, max_bytes: int, language: str = "fr") -> None:
    """Refuse, before a byte is sent, what the server would refuse: not a file, not a format it reads,
    larger than its limit (GET /v1/capabilities says both). `language`: the clerk's, for the sizes."""
    if not path.strip():
        raise PlumeError("no_recording")
    if not os.path.isfile(path):
        raise PlumeError("recording_missing")
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if formats and suffix not in formats:
        raise PlumeError("recording_format", formats=", ".join(formats))
    size = os.path.getsize(path)
    if max_bytes and size > max_bytes:
        raise PlumeError("recording_too_big", size=wording.size_words(language, size),
                         limit=wording.size_words(language, max_bytes))


@dataclass
class Transcribe(Listing):
    """Upload `path` as a background job, or follow the job `job_id` already on the server, until it
    ends. `job.wrote` reports {"phase": "upload" | "transcribe", "percent", "text"} as it goes."""
    path: str = ""
    job_id: str = ""
    formats: list = field(default_factory=list)
    max_bytes: int = 0
    language: str = "fr"  # of the recording
    ui_language: str = "fr"  # of the clerk, for the sizes in a refusal
    request_id = ""
    stopping = False
    client = None

    def capture(self, doc):
        if not self.job_id:
            checked_recording(self.path, self.formats, self.max_bytes, self.ui_language)
        return None

    def work(self, client: Client, snapshot, job):
        self.client = client
        if not self.job_id:
            self.job_id = self._upload(client, job)
        if job is not None and job.cancelled:  # stopped while the upload ended: nothing was done, keep nothing
            _quietly(lambda: client.delete(f"{ROUTE}/{quote(self.job_id)}"))
            raise Cancelled()
        if self.stopping:  # Stop came while the upload ended: the job is known only now
            self._stop_on_server()
        return self._follow(client, job)

    def stop(self) -> None:
        """Stop, keeping what is done: the server ends the job « stopped », and the stream followed ends
        with the transcript so far. From the main thread: the request goes on a thread of its own."""
        self.stopping = True
        if self.job_id and self.client is not None:
            threading.Thread(target=self._stop_on_server, name="plume-stop", daemon=True).start()

    def _stop_on_server(self) -> None:
        fresh = Client(self.client.base_url, self.client.token, timeout=30)  # the worker's client is busy
        _quietly(lambda: fresh.post_json(f"{ROUTE}/{quote(self.job_id)}/stop", {}))

    def _upload(self, client: Client, job) -> str:
        def sent(count, total):
            if job is not None:
                job.wrote({"phase": "upload", "percent": int(100 * count / total) if total else 100, "text": ""})

        fields = {"background": "true", "language": self.language}
        try:
            answer = client.post_recording(ROUTE, self.path, fields, sent, lambda: job is not None and job.cancelled)
        except PlumeError as error:
            raise _upload_refusal(error) from None
        if answer is None:
            raise Cancelled()
        self.request_id = client.last_request_id
        if not isinstance(answer, dict) or not answer.get("id"):
            raise PlumeError("bad_answer")
        return str(answer["id"])

    def _follow(self, client: Client, job) -> dict:
        """The job's events until it ends; a dropped connection is opened again (segments replayed)."""
        path = f"{ROUTE}/{quote(self.job_id)}"
        failures, quiet, processed = 0, 0, 0.0
        while True:
            segments: list = []
            try:
                for event, data in client.events(path, lambda: job is not None and job.cancelled):
                    failures = quiet = 0
                    if event == "segment" and isinstance(data, dict):
                        segments.append(str(data.get("text") or "").strip())
                        self._report(job, None, segments)
                    elif event == "progress" and isinstance(data, dict):
                        processed = max(processed, float(data.get("processed") or 0))
                        self._report(job, data.get("percent"), segments)
                    elif event in ("done", "error") and isinstance(data, dict):
                        return _ended(event, data, processed)
            except PlumeError as error:
                if error.key == "timeout" and error.status is None and quiet < QUIET_STREAMS:
                    quiet += 1
                    continue  # a quiet stream: the job waits its turn in the server's queue
                if error.status is not None or failures >= RECONNECTS:
                    raise  # the server answered (the job is gone, the token refused…): said as it is
                failures += 1
                time.sleep(min(2 ** failures, 10))
                continue
            if job is not None and job.cancelled:
                raise Cancelled()
            failures += 1  # the stream ended without its last event: open it again
            if failures > RECONNECTS:
                raise PlumeError("bad_answer")

    def _report(self, job, percent, segments: list) -> None:
        if job is None:
            return
        if percent is None:
            percent = (job.written or {}).get("percent", 0) if isinstance(job.written, dict) else 0
        job.wrote({"phase": "transcribe", "percent": percent, "text": " ".join(s for s in segments if s)})

    def apply(self, ctx, doc, snapshot, ended):
        return {**ended, "job_id": self.job_id, "request_id": self.request_id}


def _ended(event: str, data: dict, processed: float) -> dict:
    """The last event as what the panel shows: the transcript (« [00:01:05] Intervenant : … »), the
    job's status (done, stopped, failed) and how much was transcribed (`processed`: the last progress
    event's, the job in the last event being the one from before it ended)."""
    job = data.get("job") if isinstance(data.get("job"), dict) else {}
    result = data if event == "done" else (job.get("result") or {})
    return {"transcript": str(result.get("transcript") or "").strip("\n"), "status": job.get("status") or "done",
            "processed": max(processed, float(job.get("processed") or 0)),
            "duration": job.get("duration") or result.get("duration") or 0,
            "error": str(data.get("detail") or "") if event == "error" else ""}


def _upload_refusal(error: PlumeError) -> PlumeError:
    """The server's refusal of a recording in the clerk's words (its 413 would otherwise read as a
    text too long)."""
    if error.status == 413:
        return PlumeError("recording_refused", error.status)
    return error


def _quietly(request) -> None:
    try:
        request()
    except PlumeError:
        pass


@dataclass
class ListTranscriptions(Listing):
    """The clerk's own jobs on the server, newest first (GET /v1/audio/transcriptions)."""

    def work(self, client: Client, snapshot, job):
        answer = client.get_json(ROUTE)
        return answer.get("data") or [] if isinstance(answer, dict) else []

    def apply(self, ctx, doc, snapshot, jobs):
        return {"jobs": [j for j in jobs if isinstance(j, dict) and j.get("id")]}


@dataclass
class DeleteTranscription(Listing):
    """The transcript is in the document: the job goes (DELETE: the transcript, and the recording if it
    were still there). The recording is personal data; the document is now where the text lives."""
    job_id: str = ""

    def work(self, client: Client, snapshot, job):
        client.delete(f"{ROUTE}/{quote(self.job_id)}")
        return None

    def apply(self, ctx, doc, snapshot, result):
        return {"deleted": self.job_id}


@dataclass
class InsertTranscript(PutText):
    """The transcript with its timestamps, one paragraph per pause, in new paragraphs after the cursor's
    (it replaces nothing: a recording's text is new matter), as Plume's tracked changes in tracked mode."""
    undo_key = "undo_transcript"

    def apply(self, ctx, doc, snapshot, result):
        tracked = review_mode(ctx, self.review) == writer.TRACKED
        with writer.undo_step(doc, undo_title(ctx, self.undo_key)), \
                writer.review(ctx, doc, writer.TRACKED if tracked else writer.AFTER):
            writer.insert_text(doc, self.content)
        return {"inserted": True, "tracked": tracked, "usage": list(self.request_ids)}


@dataclass
class MinutesDocument(Action):
    """The procès-verbal from the transcript in the document (the selection, else the whole text) into
    the commune's PV template (POST /v1/text/minutes, `format: odt`), inserted after the transcript:
    as Plume's tracked changes in tracked mode, plainly otherwise. The transcript is never replaced: it
    is what the PV is checked against."""
    review: str = ""
    request_id = ""
    undo_key = "undo_minutes"

    def capture(self, doc):
        if not writer.is_text_document(doc):
            raise PlumeError("no_document")
        selected = writer.selected_text(doc)
        content = selected or writer.document_text(doc)
        if not content.strip():
            raise PlumeError("no_selection")
        return content, writer.selection_range(doc) if selected.strip() else None

    def work(self, client: Client, snapshot, job):
        content, _ = snapshot
        data = client.post_file("/v1/text/minutes", {"text": content, "format": "odt"})
        self.request_id = client.last_request_id
        return data

    def apply(self, ctx, doc, snapshot, data: bytes):
        _, anchor = snapshot
        tracked = review_mode(ctx, self.review) == writer.TRACKED
        with writer.undo_step(doc, undo_title(ctx, self.undo_key)), \
                writer.review(ctx, doc, writer.TRACKED if tracked else writer.AFTER):
            writer.insert_document_after(doc, data, anchor)
        return {"inserted": True, "tracked": tracked, "usage": [self.request_id]}
