"""« Transcrire un enregistrement »: a recording → its transcript with timestamps in the document →
« Faire le procès-verbal » in the commune's PV template (actions/transcription.py).

The recording is chosen with « Choisir… » (LibreOffice's file dialog, filtered to the formats the
server reads), or its path typed or pasted in the box the dialog fills. Its size is checked before a
byte is sent. Progress shows the percent and the text as it comes; « Arrêter » keeps what is done.
The transcript goes in through the review mode, then the job is deleted from the server. A job the
clerk left (the deck closed, LibreOffice restarted) is found again when the panel opens.
"""

from __future__ import annotations

import uno

from plume_lo import wording
from plume_lo.actions.capabilities import Capabilities
from plume_lo.actions.transcription import (DeleteTranscription, InsertTranscript, ListTranscriptions,
                                            MinutesDocument, Transcribe)
from plume_lo.panels.base import SidebarPanel, View

FILEOPEN_SIMPLE = 0  # com.sun.star.ui.dialogs.TemplateDescription
RESULT_OK = 1  # com.sun.star.ui.dialogs.ExecutableDialogResults


class TranscribeView(View):
    """What the panel shows: what the server offers, the progress, the transcript."""

    def show_capabilities(self, tasks: dict) -> bool:
        transcribe, minutes = tasks.get("transcribe") or {}, tasks.get("minutes") or {}
        transcribing, drafting = bool(transcribe.get("available")), bool(minutes.get("available"))
        self.enable(transcribing, "AudioFile", "Browse", "Transcribe", "Transcript")
        self.enable(drafting, "Minutes")
        formats, limit = transcribe.get("formats") or [], transcribe.get("max_audio_bytes") or 0
        self.model("Formats").Label = self.say("recording_hint", formats=", ".join(formats),
                                               limit=wording.size_words(self.language, limit)) if transcribing else ""
        greyed = [(button, info) for button, info, works in (("Transcribe", transcribe, transcribing),
                                                             ("Minutes", minutes, drafting)) if not works]
        self.model("Notice").Text = "\n".join(
            wording.labelled(self.language, self.model(button).Label, wording.reason_unavailable(self.language, info))
            for button, info in greyed)
        return transcribing

    def following(self, state: dict) -> None:
        """The upload's or the transcription's percent, and the text as the segments come."""
        percent = int(state.get("percent") or 0)
        self.model("Progress").ProgressValue = percent
        phase = state.get("phase")
        if phase != "stopping":
            self.status(self.say("uploading" if phase == "upload" else "transcribing", percent=percent))
        if state.get("text"):
            self.model("Transcript").Text = state["text"]

    def show_transcript(self, ended: dict) -> None:
        """The transcript as the server words it, « [00:01:05] Intervenant : … », and how the job ended."""
        text = ended.get("transcript") or ""
        self.model("Transcript").Text = text
        self.enable(bool(text), "InsertTranscript")
        status = ended.get("status")
        if status == "stopped":
            said = self.say("transcribe_stopped", processed=wording.duration_words(ended.get("processed")),
                            duration=wording.duration_words(ended.get("duration")))
        elif status == "failed":
            said = self.say("transcribe_failed", detail=ended.get("error") or "")
        else:
            said = self.say("transcribe_done" if text else "transcribe_empty")
        self.status(said)

    def clear_transcript(self) -> None:
        self.model("Transcript").Text = ""
        self.enable(False, "InsertTranscript")


class TranscribePanel(SidebarPanel):
    DIALOG = "dialogs/TranscribePanel.xdl"
    VIEW = TranscribeView
    LABELS = {"LabelAudio": "recording", "Browse": "browse", "Transcribe": "transcribe", "Cancel": "cancel",
              "LabelTranscript": "transcript", "InsertTranscript": "insert_transcript", "Minutes": "make_minutes"}

    def __init__(self, ctx, frame, parent):
        super().__init__(ctx, frame, parent)
        self.offer: dict = {}  # the server's « transcribe » capability: formats, size limit
        self.ended = None  # the job that ended, while its transcript may be inserted
        self.inserted = ""  # what the status said when the transcript went in
        self.on("Browse", self.browse)
        self.on("Transcribe", self.transcribe)
        self.on("Cancel", self.stop)
        self.on("InsertTranscript", self.insert_transcript)
        self.on("Minutes", lambda: self.start("minutes", MinutesDocument()))
        self.start("capabilities", Capabilities())

    # -- what the clerk does ------------------------------------------------------------------------

    def browse(self) -> None:
        """LibreOffice's own file dialog, filtered to the recordings the server reads; it fills the box."""
        picker = self.ctx.ServiceManager.createInstanceWithContext("com.sun.star.ui.dialogs.FilePicker", self.ctx)
        picker.initialize((FILEOPEN_SIMPLE,))
        formats = self.offer.get("formats") or []
        if formats:
            picker.appendFilter(self.view.say("recordings"), ";".join(f"*.{f}" for f in formats))
        if picker.execute() == RESULT_OK and picker.getSelectedFiles():
            self.view.model("AudioFile").Text = uno.fileUrlToSystemPath(picker.getSelectedFiles()[0])

    def transcribe(self) -> None:
        self.follow(Transcribe(path=self.view.model("AudioFile").Text.strip().strip('"'),
                               formats=list(self.offer.get("formats") or []),
                               max_bytes=int(self.offer.get("max_audio_bytes") or 0), ui_language=self.language))

    def follow(self, action: Transcribe) -> None:
        if not self.running():
            self.ended = None
            self.view.clear_transcript()
        self.start("transcribe", action)

    def stop(self) -> None:
        """Once the server has the job, Stop asks it to stop and keeps what is done; during the upload,
        Stop abandons it (nothing was transcribed: nothing is kept). Pressed again while the server has
        not answered, Stop stops waiting: the job stays on the server, found again at the next opening."""
        action = self.job.action if self.running() else None
        if isinstance(action, Transcribe) and action.job_id and not action.stopping:
            action.stop()
            self.view.status(self.view.say("stopping"))
        else:
            super().stop()

    def insert_transcript(self) -> None:
        if self.ended and self.ended.get("transcript"):
            self.start("insert", InsertTranscript(content=self.ended["transcript"],
                                                  request_ids=[self.ended.get("request_id") or ""]))

    # -- answers ----------------------------------------------------------------------------------------

    def following(self, state) -> None:
        if not (self.alive and self.pending == "transcribe" and self.running() and isinstance(state, dict)):
            return
        if getattr(self.job.action, "stopping", False):
            state = {**state, "phase": "stopping"}  # « Arrêt demandé… » stays said until the job ends
        self.view.following(state)
        if not self.running() and self.ended is not None:
            # LibreOffice ran the job's end while this progress was being shown (a control's update
            # handles pending events): the end is shown again, over the progress that came before it.
            self.view.busy(False)
            self.view.show_transcript(self.ended)

    def answered(self, pending, ok, message, data):
        if pending == "insert" and ok:  # in the document: the job leaves the server
            self.inserted = message
            self.view.enable(False, "InsertTranscript")
            self.start("delete", DeleteTranscription(job_id=self.ended["job_id"]))
        elif pending == "delete":
            self.ended = None
            self.view.status(f"{self.inserted}\n{self.view.say('transcript_deleted' if ok else 'transcript_kept')}")
        elif not ok:
            return
        elif pending == "capabilities":
            self.view.status("")
            tasks = data.get("capabilities") or {}
            self.offer = tasks.get("transcribe") or {}
            if self.view.show_capabilities(tasks):
                self.start("jobs", ListTranscriptions())
        elif pending == "jobs" and data.get("jobs"):  # the newest job she left: followed again
            self.follow(Transcribe(job_id=data["jobs"][0]["id"]))
            self.view.status(self.view.say("job_found"))
        elif pending == "jobs":
            self.view.status("")
        elif pending == "transcribe":
            self.ended = data
            self.view.show_transcript(data)
