"""Word task pane, issue 22 item 6: « Transcrire un enregistrement » — through the real server with the
tiny random Whisper (it proves the pipeline, never quality: its words are gibberish) and French speech
synthesized by espeak-ng (tests/speech_audio.py), headless Chromium and the Word stand-in
(tests/word/office-standin.js); Playwright sets the file input. What the clerk sees and what lands in
her document: the progress and the text as it comes; the transcript with its timestamps, in review
mode, in one undo step; the job deleted from the server afterwards; Stop keeping what is done; a job
she left found again; the PV from the commune's template, made from the transcript as she edited it;
a recording too large or not a recording refused before anything is sent. Screenshots:
artifacts/word/transcrire-*.png.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import numpy as np
import pytest

from tests.conftest import require_tool, start_server
from tests.speech_audio import SEANCE, Recording, encode, espeak_available, synthesize, tiny_speech_catalog
from tests.word.fixtures import browser, open_pane  # noqa: F401 - fixtures
from tests.word.pane import Pane

pytestmark = [pytest.mark.browser]

ROUTE = "/v1/audio/transcriptions"
MAX_AUDIO_BYTES = 8 * 1024 * 1024
LINE = re.compile(r"^\[\d\d:\d\d:\d\d\] Intervenant : \S")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """A server whose only model is the tiny Whisper. Sampling at temperature 1 makes it write longer
    gibberish (about 0.5 s a 30-second step here instead of 0.15 s), so that a 5-minute recording is
    still running when the clerk presses Stop after its first words."""
    tmp = tmp_path_factory.mktemp("word-transcribe")
    catalog = tiny_speech_catalog(tmp / "models")
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("temperatures = [0.0]", "temperatures = [1.0]"),
                       encoding="utf-8")
    server = start_server(tmp, "--models", str(catalog), env={"PLUME_MAX_AUDIO_BYTES": str(MAX_AUDIO_BYTES)})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> dict[str, Path]:
    """The council meeting's first turn (25 s) as a recorder's mp3, and the same turn twelve times
    (5 minutes) as a small 8 kHz wav, for Stop."""
    require_tool(espeak_available(), "espeak-ng")
    folder = tmp_path_factory.mktemp("word-recordings")
    first = synthesize(SEANCE, limit=1)
    long = Recording(np.tile(first.samples, 12), first.rate, [])
    return {"short": encode(first, "mp3", folder / "séance du 16 novembre.mp3"),
            "long": encode(long, "wav", folder / "séance longue.wav", rate=8000)}


def jobs(server) -> list[dict]:
    with server.client() as client:
        return client.get(ROUTE).json()["data"]


def transcribe(pane: Pane, path: Path) -> None:
    pane.tab("transcrire")
    pane.page.set_input_files("#transcribe-file", str(path))
    pane.page.click("#transcribe-run")


def finished(pane: Pane, status: str = "done") -> str:
    pane.page.wait_for_selector(f"#panel-transcrire[data-job-status={status}]", state="attached", timeout=120_000)
    pane.wait_idle()
    return pane.page.inner_text("#transcribe-preview")


def lines_of(transcript: str) -> list[str]:
    return [line for line in transcript.split("\n") if line.strip()]


def test_the_transcript_goes_in_with_its_timestamps_then_the_minutes_from_the_template(srv, recordings, open_pane):
    pane = open_pane(srv, word_api="1.6", review=None)       # tracked changes, the default
    pane.set_document([""])
    pane.caret(0)
    transcribe(pane, recordings["short"])
    transcript = finished(pane)
    assert pane.page.eval_on_selector("#transcribe-progress", "bar => bar.value") == 100
    assert pane.page.inner_text("#transcribe-status").startswith("Transcription terminée")
    (job,) = jobs(srv)
    with srv.client() as client:
        assert client.get(f"{ROUTE}/{job['id']}").json()["result"]["transcript"].strip() == transcript.strip()
    lines = lines_of(transcript)
    assert lines and all(LINE.match(line) for line in lines), lines
    pane.screenshot("transcrire")

    pane.page.click("#transcribe-insert")
    kind, message = pane.message()
    assert kind == "ok" and "Révision" in message and "effacés du serveur" in message, message
    assert pane.text().split("\n") == lines                  # one paragraph per pause, timestamps kept
    assert {c["type"] for c in pane.tracked_changes()} >= {"Added"} and pane.undo_steps() == 1
    assert pane.selected_text() == "\n".join(lines)         # selected, ready for the minutes
    assert jobs(srv) == [] and not (srv.data / "transcriptions" / job["id"]).exists()   # gone from the server

    # The secretary accepts the transcript and names the speaker; the PV is made from what she wrote.
    pane.accept_all()
    named = [line.replace("Intervenant", "Mme Favre (PLR)") for line in lines]
    pane.set_document(named)
    pane.select(0, len(named) - 1)
    with pane.page.expect_request(lambda r: r.url.endswith("/v1/text/minutes")) as asked:
        pane.page.click("#transcribe-minutes")
    kind, message = pane.message()
    assert kind == "ok" and "procès-verbal" in message, message
    assert asked.value.post_data_json == {"text": "\n".join(named), "format": "docx"}
    with srv.client() as client:
        pv = client.post("/v1/text/minutes", json={"text": "\n".join(named), "format": "docx"})
    expected = [p.text for p in docx.Document(io.BytesIO(pv.content)).paragraphs if p.text.strip()]
    assert expected[0] == "Procès-verbal"                    # the commune's PV template
    changes = pane.tracked_changes()
    assert [c["text"] for c in changes if c["type"] == "Deleted"] == named
    assert [c["text"] for c in changes if c["type"] == "Added" and c["text"].strip()] == expected
    assert pane.undo_steps() == 1
    pane.screenshot("transcrire-proces-verbal")


def test_stop_keeps_what_is_already_transcribed(srv, recordings, open_pane):
    pane = open_pane(srv, review="after")
    pane.set_document(["Séance du Conseil général"])
    pane.select(0)
    transcribe(pane, recordings["long"])
    pane.page.wait_for_function("() => document.getElementById('transcribe-preview').textContent.trim().length > 0")
    assert pane.page.inner_text("#cancel") == "Arrêter (garder le texte)"
    pane.page.click("#cancel")
    kind, message = pane.message()
    assert kind == "info" and "gardé" in message, message
    kept = finished(pane, "stopped")
    (job,) = jobs(srv)
    assert job["status"] == "stopped" and job["processed"] < job["duration"], job
    assert lines_of(kept) and all(LINE.match(line) for line in lines_of(kept))
    pane.screenshot("transcrire-arrete")
    pane.page.click("#transcribe-insert")
    assert pane.message()[0] == "ok"
    assert pane.text().split("\n") == ["Séance du Conseil général", *lines_of(kept)]
    assert jobs(srv) == []


def test_a_job_left_when_the_pane_closed_is_found_again(srv, recordings, open_pane):
    first = open_pane(srv)
    transcribe(first, recordings["short"])
    first.page.wait_for_function("() => document.getElementById('transcribe-status').textContent.length > 0")
    first.close()                                            # Word closed mid-way: the job goes on
    pane = open_pane(srv, language="de-CH", review="replace")
    pane.set_document([""])
    pane.caret(0)
    pane.tab("transcrire")
    item = pane.page.locator("#transcribe-job-list li")
    item.wait_for()
    assert item.count() == 1 and item.inner_text().startswith("Transkription vom")
    pane.screenshot("transcrire-reprendre-allemand")
    item.locator("button.resume").click()
    transcript = finished(pane)
    assert pane.page.inner_text("#transcribe-insert") == "Transkription einfügen"
    pane.page.click("#transcribe-insert")
    kind, message = pane.message()
    assert kind == "ok" and "vom Server gelöscht" in message, message
    assert pane.text().split("\n") == lines_of(transcript) and jobs(srv) == []


def test_a_recording_too_large_or_not_a_recording_is_refused_before_sending(srv, open_pane, tmp_path):
    big = tmp_path / "séance complète.wav"
    with open(big, "wb") as fh:
        fh.truncate(MAX_AUDIO_BYTES + 1)
    notes = tmp_path / "notes.txt"
    notes.write_text("Notes de séance", encoding="utf-8")
    pane = open_pane(srv)
    uploads = []
    pane.page.on("request", lambda r: uploads.append(r.url) if r.method == "POST" and ROUTE in r.url else None)
    pane.tab("transcrire")
    assert pane.page.inner_text("#transcribe-limits") == "Formats : wav, mp3, m4a, ogg, webm, flac ; 8 Mo au plus."
    pane.page.set_input_files("#transcribe-file", str(big))
    pane.page.click("#transcribe-run")
    kind, message = pane.message()
    assert kind == "error" and message.startswith("Cet enregistrement dépasse la taille maximale de 8 Mo"), message
    pane.page.set_input_files("#transcribe-file", str(notes))
    pane.page.click("#transcribe-run")
    kind, message = pane.message()
    assert kind == "error" and "n'est pas un enregistrement" in message, message
    assert uploads == []

    # Without collections on this server, « Rechercher » is greyed with the server's reason.
    with srv.client() as client:
        reason = client.get("/v1/capabilities").json()["tasks"]["search"]["reason"]
    pane.tab("rechercher")
    assert pane.page.inner_text("#panel-rechercher [data-availability]") == reason
    assert pane.page.is_disabled("#search-run") and pane.page.is_disabled("#search-answer")
