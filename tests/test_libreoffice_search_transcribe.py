"""The LibreOffice panels « Rechercher » (issue 21) and « Transcrire un enregistrement » (issue 22), tested
the way a secretary meets them: a headless LibreOffice with the .oxt installed, the panels made by the
extension's own factory, keys and buttons pressed (tests/libreoffice/panel_steps.py), against a real
Plume server over HTTP with the repo's test collections (indexed by the real CLI), a scripted model
for answers (tests/fake_upstream.py), the tiny random Whisper (it proves the pipeline, never quality)
and French speech synthesized by espeak-ng. The recording's path goes into the panel's file box, which
« Choisir… » fills (LibreOffice's file dialog cannot open headless); the upload itself is real.

Pictures of both panels go to artifacts/libreoffice/ (issue 21 asks for them).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port, plume_cli, require_tool, start_modelless, start_server
from tests.fake_upstream import FakeUpstream, wait_model_ready
from tests.libreoffice.office import OFFICE_PACKAGES, Office, available, install_extension
from tests.speech_audio import SEANCE, Recording, encode, espeak_available, speak, synthesize, tiny_speech_catalog
from tests.test_search_answer import DOG_TAX, UNRELATED, good, indexed_corpus

pytestmark = pytest.mark.libreoffice

STEPS = REPO / "tests" / "libreoffice" / "panel_steps.py"
ARTIFACTS = REPO / "artifacts" / "libreoffice"
ROUTE = "/v1/audio/transcriptions"
MAX_AUDIO_BYTES = 600_000  # the short recording as mp3 fits; the long one as wav (2.9 MB) does not
OPENING = "Séance du Conseil général. La présidente ouvre la séance et salue les membres présents."


# -- fixtures -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    """A folder soffice may read and write (recordings, pictures): not under pytest's root-only one."""
    folder = Path(tempfile.mkdtemp(prefix="plume-lo-panels-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The test collections indexed by the CLI; a scripted model for answers; the tiny Whisper."""
    tmp = tmp_path_factory.mktemp("lo-panels")
    collections, config = indexed_corpus(tmp)
    fake = FakeUpstream(good)
    catalog = fake.catalog(tmp / "models.toml", ["answer"])
    # Whisper's fallback ladder makes the random model try each 30-second step six times (about a second
    # each here): slow enough for the clerk's Stop to land between steps.
    speech = tiny_speech_catalog(tmp / "speech").read_text(encoding="utf-8")
    catalog.write_text(catalog.read_text(encoding="utf-8") + "\n" + speech.replace(
        "temperatures = [0.0]", "temperatures = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]"), encoding="utf-8")
    server = start_server(tmp, "--models", str(catalog), "--collections", str(collections), "--config",
                          str(config), env={"PLUME_MAX_AUDIO_BYTES": str(MAX_AUDIO_BYTES)})
    try:
        wait_model_ready(server)
        yield server, fake
    finally:
        server.stop()
        fake.stop()


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    reason = available()
    require_tool(reason is None, f"{OFFICE_PACKAGES} ({reason})")  # fails in CI, skips elsewhere
    tmp = Path(tempfile.mkdtemp(prefix="plume-lo-"))  # not under pytest's root-only folder: see office.py
    (tmp / "build").mkdir()
    oxt = tmp / "build" / "plume.oxt"
    plume_cli("addin", "build-oxt", "--output", str(oxt))
    install_extension(oxt, tmp / "profile")
    instance = Office.start(tmp / "profile", free_port(), tmp / "soffice.log")
    yield instance
    instance.stop()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def recordings(shared) -> dict[str, Path]:
    """A short French recording (~15 s: one 30-second step) and a longer one (65 s: three steps), as mp3;
    the longer one as wav too, over the server's size limit."""
    require_tool(espeak_available(), "espeak-ng")
    samples, rate = speak(OPENING, "fr", 110)
    longer = synthesize(SEANCE, limit=3)
    paths = {"short": encode(Recording(samples, rate, []), "mp3", shared / "séance courte.mp3"),
             "long": encode(longer, "mp3", shared / "seance.mp3"),
             "wav": encode(longer, "wav", shared / "seance.wav")}
    (shared / "notes.txt").write_text("Pas un enregistrement.", encoding="utf-8")
    paths["text"] = shared / "notes.txt"
    for path in paths.values():
        path.chmod(0o644)
    assert paths["short"].stat().st_size < MAX_AUDIO_BYTES < paths["wav"].stat().st_size
    return paths


@pytest.fixture
def panel(office, site, shared):
    """Run a panel scenario (panel_steps.py) as the test user of `site`, results in tracked changes."""

    def go(name: str, steps: list, server=None, **scenario) -> dict:
        server = server or site[0]
        settings = {"ServerURL": server.url, "Token": server.tokens["user"], "Language": "fr",
                    "ReviewMode": "tracked", **scenario.pop("settings", {})}
        return office.run({"settings": settings, "panel": name, "steps": steps, "shots": str(shared), **scenario},
                          timeout=240, script=STEPS)

    return go


@pytest.fixture
def no_jobs_left(site):
    """Each transcription test starts with none of the clerk's jobs on the server (the panel would find it)."""
    server = site[0]
    with server.client() as client:
        for job in client.get(ROUTE).json()["data"]:
            client.delete(f"{ROUTE}/{job['id']}")
    return server


def keep_picture(shared: Path, name: str) -> None:
    """The panel as LibreOffice painted it, as a PNG in artifacts/libreoffice/."""
    from tools.sidebar_screenshots import bmp_to_png

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.png").write_bytes(bmp_to_png((shared / f"shot-{name}.bmp").read_bytes()))


def server_hits(server, query: str) -> list[dict]:
    with server.client() as client:
        return client.post("/v1/search", json={"query": query, "k": 10}).json()["hits"]


def jobs_of(server) -> list[dict]:
    with server.client() as client:
        return client.get(ROUTE).json()["data"]


# -- « Rechercher » -----------------------------------------------------------------------------------------


def test_enter_searches_and_the_citation_goes_in_as_plumes_tracked_change_in_one_undo_step(panel, site, shared):
    server, _ = site
    paragraphs = [[{"text": "Réponse à Mme Favre"}], [{"text": DOG_TAX}], [{"text": ""}]]
    answer = panel("SearchPanel", [{"see": "opened"}, {"key": ["Query", "RETURN"]}, {"see": "hits"},
                                   {"pick": {"Hits": 2}}, {"see": "hit"}, {"shot": "search-hits"},
                                   {"keyboard": True}, {"select": "end"}, {"press": "InsertCitation"}],
                   paragraphs=paragraphs, select=1, undo=True)
    opened, hits, hit = answer["seen"]["opened"], answer["seen"]["hits"], answer["seen"]["hit"]
    assert opened["texts"]["Query"] == DOG_TAX  # the selection is the question
    assert opened["items"]["Collections"] == ["Règlements communaux (7 documents)", "FAQ du guichet (1 document)"]
    assert hits["items"]["Hits"], "Enter did not run the search"
    expected = server_hits(server, DOG_TAX)
    assert len(hits["items"]["Hits"]) == len(expected)
    chosen = expected[2]
    assert hits["items"]["Hits"][2] == f"3. {chosen['locator']} — {chosen['title']}"  # article and title
    assert hit["texts"]["Passage"].startswith(chosen["reference"]) and chosen["text"] in hit["texts"]["Passage"]
    # The server's quotation, word for word, as Plume's tracked insertion, undone in one step.
    assert answer["text"] == "\n".join(["Réponse à Mme Favre", DOG_TAX, chosen["quotation"]])
    assert chosen["quotation"].startswith("« ") and chosen["quotation"].endswith(f"» ({chosen['reference']})")
    assert answer["redlines"] == [{"type": "Insert", "author": "Plume"}]
    assert answer["undo_titles"] == ["Plume : citation"]
    assert answer["after_undo"] == "\n".join(["Réponse à Mme Favre", DOG_TAX, ""])
    assert answer["statuses"][-1].startswith("Terminé. Les changements de Plume sont suivis")
    keyboard = answer["seen"]["keyboard"]  # Tab goes down the panel, through every control she uses
    assert keyboard["tab"] == keyboard["shown"]
    assert {"Query", "Collections", "Search", "Answer", "Hits", "InsertCitation", "InsertAnswer"} <= set(keyboard["tab"])
    keep_picture(shared, "search-hits")


def test_the_answer_is_shown_with_its_numbered_sources_and_inserted_after_the_question(panel, site, shared):
    server, _ = site
    with server.client() as client:
        expected = client.post("/v1/search/answer", json={"query": DOG_TAX}).json()
    assert expected["kind"] == "answer"
    answer = panel("SearchPanel", [{"press": "Answer"}, {"see": "answer"}, {"shot": "search-answer"},
                                   {"press": "InsertAnswer"}],
                   paragraphs=[[{"text": DOG_TAX}]], select=0, undo=True, settings={"ReviewMode": "after"})
    shown = answer["seen"]["answer"]
    assert shown["texts"]["AnswerText"] == expected["insert"]  # the answer, then « Sources : [3] Règlement…, art. 11 »
    assert "\n\nSources :\n[" in expected["insert"] and expected["sources"][0] in shown["texts"]["AnswerText"]
    assert shown["enabled"]["InsertAnswer"] and "chaque phrase cite le passage" in shown["texts"]["Status"]
    # The passages the answer cites, numbered as it cites them: each can be cited in turn.
    assert [line.split(" — ")[0] for line in shown["items"]["Hits"]] == \
        [f"{n}. {hit['locator']}" for n, hit in enumerate(expected["citations"], 1)]
    assert answer["text"] == f"{DOG_TAX}\n{expected['insert']}"  # after the question, which stays
    assert answer["undo_titles"] == ["Plume : réponse"] and answer["after_undo"] == DOG_TAX
    keep_picture(shared, "search-answer")


def test_in_german_nothing_found_and_passages_without_an_answer_are_said_as_the_server_says(panel, site):
    server, fake = site
    uncited = json.dumps({"answered": True, "sentences": [{"text": "La taxe coûte CHF 120.–.", "citations": []}]})
    steps = [{"see": "opened"}, {"press": "Answer"}, {"see": "nothing"},
             {"type": {"Query": DOG_TAX}}, {"press": "Answer"}, {"see": "passages"}]
    fake.replies[:] = []
    asked = len(fake.requests)
    fake.replies[:] = [uncited, uncited]  # the model's answer cites nothing, twice: refused, passages instead
    try:
        answer = panel("SearchPanel", steps, paragraphs=[[{"text": UNRELATED}]], select=0,
                       settings={"Language": "de"})
    finally:
        fake.replies[:] = []
    opened, nothing, passages = (answer["seen"][k] for k in ("opened", "nothing", "passages"))
    assert opened["labels"]["Search"] == "Suchen" and opened["labels"]["Answer"] == "Antworten"
    assert opened["labels"]["InsertCitation"] == "Zitat einfügen" and opened["labels"]["LabelQuery"] == "Frage:"
    assert nothing["texts"]["AnswerText"] == "Ich habe dazu nichts gefunden in: Règlements communaux, FAQ du guichet"
    assert nothing["items"]["Hits"] == [] and not nothing["enabled"]["InsertAnswer"]
    assert len(fake.requests) == asked + 2  # nothing found asked no model; the second question twice
    text = passages["texts"]["AnswerText"]
    assert text.startswith("Gefundene Stellen in den Dokumenten, ohne formulierte Antwort")
    assert "[1] Règlement communal sur la détention et la taxe des chiens" in text
    assert not passages["enabled"]["InsertAnswer"]  # passages are cited one by one, never as an answer
    assert "Keine formulierte Antwort" in passages["texts"]["Status"]
    assert "Réponse du modèle écartée (une phrase sans citation)" in passages["texts"]["Status"]
    assert passages["items"]["Hits"] and passages["items"]["Hits"][0].startswith("1. ")


def test_panels_are_greyed_with_the_servers_reason_and_an_unreachable_server_is_said(panel, tmp_path):
    server = start_modelless(tmp_path)  # no collections, no speech model
    try:
        search = panel("SearchPanel", [], server=server)["opened"]
        german = panel("TranscribePanel", [], server=server, settings={"Language": "de"})["opened"]
    finally:
        server.stop()
    assert not any(search["enabled"][c] for c in ("Query", "Search", "Answer", "Collections"))
    assert search["texts"]["Notice"].startswith("Rechercher : La recherche dans les documents de la commune n'est "
                                                "pas disponible")
    assert not any(german["enabled"][c] for c in ("AudioFile", "Browse", "Transcribe"))
    assert german["texts"]["Notice"] == ("Transkribieren: Die Transkription von Aufnahmen ist auf diesem Server nicht "
                                         "verfügbar: Es ist kein Transkriptionsmodell installiert. Die Informatik kann "
                                         "eines hinzufügen.")
    assert german["labels"]["LabelAudio"] == "Aufnahme:" and german["labels"]["Minutes"] == "Protokoll erstellen"
    assert german["enabled"]["Minutes"]  # the PV from a transcript already in the document still works
    closed = f"http://127.0.0.1:{free_port()}"
    gone = panel("SearchPanel", [], settings={"ServerURL": closed})["opened"]
    assert gone["texts"]["Status"].startswith(f"Le serveur Plume ne répond pas ({closed})")


# -- « Transcrire un enregistrement » -------------------------------------------------------------------


def test_the_transcript_goes_in_with_timestamps_then_the_pv_from_the_template_and_the_job_is_gone(
        panel, recordings, no_jobs_left, shared):
    server = no_jobs_left
    answer = panel("TranscribePanel", [{"see": "opened"}, {"keyboard": True},
                                       {"type": {"AudioFile": str(recordings["short"])}},
                                       {"press": "Transcribe", "timeout": 120}, {"see": "done"},
                                       {"shot": "transcribe-done"}, {"press": "InsertTranscript"}, {"see": "inserted"},
                                       {"press": "Minutes", "timeout": 120}],
                   paragraphs=[[{"text": ""}]], select="end")
    opened, done, inserted = (answer["seen"][k] for k in ("opened", "done", "inserted"))
    assert opened["labels"]["Formats"] == "wav, mp3, m4a, ogg, webm, flac ; 585,9 ko au plus."
    keyboard = answer["seen"]["keyboard"]
    assert keyboard["tab"] == keyboard["shown"]
    assert {"AudioFile", "Browse", "Transcribe", "Cancel", "InsertTranscript", "Minutes"} <= set(keyboard["tab"])
    transcript = done["texts"]["Transcript"]
    assert transcript.startswith("[00:00:00] Intervenant : ") and len(transcript) > len("[00:00:00] Intervenant : ")
    assert done["texts"]["Status"].startswith("Transcription terminée") and done["enabled"]["InsertTranscript"]
    assert "effacés du serveur" in inserted["texts"]["Status"] and not inserted["enabled"]["InsertTranscript"]
    assert jobs_of(server) == [] and not any((server.data / "transcriptions").iterdir())  # the job is gone
    # The transcript, then the PV from the commune's template (its fixed words, no placeholder left).
    text = answer["text"]
    assert text.startswith(f"\n{transcript}\n") and "\nProcès-verbal\n" in text
    assert text.rstrip().endswith("Le président ou la présidente\nLe ou la secrétaire") and "{{" not in text
    assert {(r["type"], r["author"]) for r in answer["redlines"]} == {("Insert", "Plume")}
    assert answer["undo_titles"] == ["Plume : procès-verbal", "Plume : transcription"]
    keep_picture(shared, "transcribe-done")


def test_stop_keeps_what_is_transcribed_so_far(panel, recordings, no_jobs_left, shared):
    answer = panel("TranscribePanel", [{"type": {"AudioFile": str(recordings["long"])}}, {"start": "Transcribe"},
                                       {"until": "Transcript", "timeout": 120}, {"see": "following"},
                                       {"shot": "transcribe-progress"}, {"start": "Cancel"}, {"see": "stopping"},
                                       {"idle": 120}, {"see": "stopped"}, {"press": "InsertTranscript"}],
                   paragraphs=[[{"text": ""}]], select="end")
    following, stopping, stopped = (answer["seen"][k] for k in ("following", "stopping", "stopped"))
    assert following["texts"]["Status"].startswith("Transcription : ") and following["enabled"]["Cancel"]
    assert following["texts"]["Transcript"]  # the text as the segments come
    assert stopping["texts"]["Status"] == "Arrêt demandé : le texte déjà transcrit est gardé…"
    status = stopped["texts"]["Status"]
    assert status.startswith("Transcription arrêtée : le texte transcrit jusqu'ici (") and "sur 1 min 05 s)" in status
    assert "(1 min 05 s sur" not in status  # not the whole recording
    kept = stopped["texts"]["Transcript"]
    assert kept.startswith("[00:00:00] Intervenant : ") and stopped["enabled"]["InsertTranscript"]
    assert answer["text"] == f"\n{kept}" and jobs_of(no_jobs_left) == []
    keep_picture(shared, "transcribe-progress")


def test_a_recording_too_large_or_not_audio_is_refused_before_anything_is_sent(panel, recordings, no_jobs_left):
    steps = [{"type": {"AudioFile": str(recordings["wav"])}}, {"press": "Transcribe"},
             {"type": {"AudioFile": str(recordings["text"])}}, {"press": "Transcribe"}]
    answer = panel("TranscribePanel", steps)
    too_large, not_audio = answer["statuses"]
    assert re.fullmatch(r"L'enregistrement est trop volumineux \(2,\d Mo\) : le serveur accepte 585,9 ko au plus\. "
                        r"Rien n'a été envoyé\. Enregistrez-le en mp3 ou m4a, ou coupez-le en parties\.", too_large)
    assert not_audio == ("Ce fichier n'est pas un enregistrement que Plume sait lire. Formats acceptés : wav, mp3, m4a, "
                         "ogg, webm, flac.")
    folder = no_jobs_left.data / "transcriptions"
    assert not folder.exists() or not any(folder.iterdir())  # nothing was uploaded, not even in part


def test_a_job_the_clerk_left_is_found_again_when_the_panel_opens(panel, recordings, no_jobs_left):
    server = no_jobs_left
    with server.client() as client, open(recordings["short"], "rb") as fh:
        job = client.post(ROUTE, files={"file": ("a.mp3", fh)}, data={"background": "true", "language": "fr"}).json()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and jobs_of(server)[0]["status"] in ("queued", "running"):
        time.sleep(0.5)
    with server.client() as client:
        left = client.get(f"{ROUTE}/{job['id']}").json()["result"]["transcript"]
    answer = panel("TranscribePanel", [{"see": "found"}, {"press": "InsertTranscript"}],
                   paragraphs=[[{"text": ""}]], select="end", open_timeout=120)
    found = answer["seen"]["found"]
    assert found["texts"]["Transcript"] == left.strip("\n") and found["enabled"]["InsertTranscript"]
    assert answer["text"] == "\n" + left.strip("\n") and jobs_of(server) == []


def test_the_extension_logged_no_python_error(office):
    log = office.log.read_text(errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback"):][:3000]
