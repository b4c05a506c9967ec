"""The parts of transcription that need no server: paragraphs at pauses and the transcript the
minutes task reads, subtitle times, the vocabulary prompt, where a window is cut, retention on disk,
the word error rate, and the catalog's guard against a model folder that would send faster-whisper to
a model hub."""

from __future__ import annotations

import json
import os
import time

import numpy as np

from plume.inference.catalog import ModelEntry, check_files
from plume.inference.speech import clips, pauses
from plume.speech import audio, formats
from plume.speech.evaluation import script_turns, word_error_rate, words
from plume.speech.jobs import DONE, RUNNING, JobRecord, JobStore, TimedSegment
from plume.speech.vocabulary import prompt_for, read
from plume.tasks.minutes import read_notes
from tests.speech_audio import SEANCE


def seg(i: int, start: float, end: float, text: str, paragraph: bool = False) -> TimedSegment:
    return TimedSegment(id=i, start=start, end=end, text=text, paragraph=paragraph)


SEGMENTS = [seg(0, 0.0, 4.0, "Bonsoir, j'ouvre la séance.", True), seg(1, 4.3, 9.0, "Premier point, le procès-verbal."),
            seg(2, 9.0, 15.0, "Merci Madame la Présidente.", True), seg(3, 15.2, 18.0, "Le crédit est nécessaire."),
            seg(4, 3725.0, 3730.5, "La séance est levée à vingt et une heures.", True)]


def test_pauses_found_in_the_audio_place_the_paragraphs_and_only_long_silences_are_left_out():
    speech = ((0.3, 5.0), (5.4, 9.0), (11.0, 15.0), (15.5, 18.0), (40.0, 44.0))
    assert pauses(speech) == [10.0, 29.0]  # 2 s and 22 s of silence; 0.4 s and 0.5 s are not pauses
    assert pauses(speech, silence_before_s=1.3) == [0.15, 10.0, 29.0]  # a pause cut in two by the window's start
    assert clips(speech, 60.0) == [0.0, 18.4, 39.6, 44.4]  # Whisper skips the 22 s silence only


def test_a_paragraph_starts_after_a_pause_and_the_transcript_is_what_the_minutes_task_reads():
    parts = formats.paragraphs(SEGMENTS)
    assert [(p.start, p.end) for p in parts] == [(0.0, 9.0), (9.0, 18.0), (3725.0, 3730.5)]
    assert parts[1].text == "Merci Madame la Présidente. Le crédit est nécessaire."
    transcript = formats.transcript(parts)
    assert transcript.splitlines()[0] == "[00:00:00] Intervenant : Bonsoir, j'ouvre la séance. Premier point, le procès-verbal."
    assert "[01:02:05] Intervenant : La séance est levée" in transcript
    # Once the secretary has put the names in, the minutes task reads it as a transcript.
    named = transcript.replace("[00:00:00] Intervenant", "[00:00:00] Présidente")
    minutes = read_notes(named)
    assert minutes.speakers == ["Présidente", "Intervenant"]
    assert (minutes.items[0].number, minutes.items[0].title) == (1, "Le procès-verbal")


def test_subtitles_count_hours_and_milliseconds():
    srt = formats.srt(SEGMENTS)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:04,000\nBonsoir, j'ouvre la séance.\n")
    assert "5\n01:02:05,000 --> 01:02:10,500\n" in srt
    assert formats.vtt(SEGMENTS).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:04.000\n")
    verbose = formats.render("verbose_json", SEGMENTS, language="fr", duration_s=3731.0)
    assert verbose["language"] == "french" and verbose["usage"] == {"type": "duration", "seconds": 3731}
    assert [p["start"] for p in verbose["paragraphs"]] == [0.0, 9.0, 3725.0]


def test_the_vocabulary_file_becomes_sentences_and_the_request_prompt_comes_last(tmp_path):
    assert read(tmp_path / "absent.txt") == ""
    vocabulary = tmp_path / "vocabulaire.txt"
    vocabulary.write_text("# Les noms de la commune\nSéance du Conseil général de la Ville du Locle.\n\n"
                          "Conseil communal\nPLR, \nrue du Collège  # une rue\nFin de la liste.\n", encoding="utf-8")
    assert read(vocabulary) == ("Séance du Conseil général de la Ville du Locle. Conseil communal, PLR, rue du Collège. "
                                "Fin de la liste.")
    assert prompt_for(vocabulary, "  Madame   Favre ").endswith("Fin de la liste. Madame Favre")
    vocabulary.write_text("Nom très long\n" * 5000, encoding="utf-8")  # bounded: read, and cut to the prompt's room
    assert len(prompt_for(vocabulary, "x" * 100)) <= 600


def test_a_window_is_cut_in_the_latest_silence_before_its_end():
    rate = audio.SAMPLE_RATE
    sound = np.random.default_rng(1).normal(0, 0.3, 130 * rate).astype(np.float32)
    sound[110 * rate:111 * rate] = 0.0  # a pause 10 s before the window's end
    sound[116 * rate:116 * rate + rate // 2] = 0.0  # and a later one, 4 s before it
    cut = audio.quiet_cut(sound, 120.0)
    assert 116 * rate <= cut <= 116 * rate + rate // 2


def test_retention_deletes_the_audio_then_the_job_and_forgotten_uploads_but_never_a_running_job(tmp_path):
    store = JobStore(tmp_path / "transcriptions")
    assert oct(os.stat(store.root).st_mode & 0o777) == "0o700"
    now = time.time()

    def job(status: str, finished_hours_ago: float | None) -> JobRecord:
        job_id, folder = store.new_folder()
        (folder / "audio.mp3").write_bytes(b"ID3")
        finished = now - finished_hours_ago * 3600 if finished_hours_ago is not None else None
        return store.create(JobRecord(id=job_id, user="u", model="m", language="fr", status=status, created_at=now,
                                      finished_at=finished, duration_s=1.0, audio_bytes=3, audio_suffix=".mp3"))

    recent, older, oldest, running = job(DONE, 0.1), job(DONE, 2), job(DONE, 30), job(RUNNING, None)
    _, forgotten = store.new_folder()
    os.utime(forgotten, (now - 7200, now - 7200))
    assert store.purge(audio_hours=1, transcript_hours=24, now=now) == 1
    assert store.audio_path(recent).exists() and not store.audio_path(older).exists()
    assert store.get(older.id) is not None and store.get(oldest.id) is None and not forgotten.exists()
    assert store.audio_path(running).exists()
    store.append(older, [seg(0, 0, 1, "x")])
    assert oct(os.stat(store.root / older.id / "segments.jsonl").st_mode & 0o777) == "0o600"
    assert json.loads((store.root / older.id / "job.json").read_text())["status"] == DONE
    assert store.get("../etc") is None and store.get("tr_x/../../y") is None


def test_word_error_rate_counts_edits_over_the_reference_words():
    assert words("L'ordre du jour — accepté à l’unanimité !") == ["l", "ordre", "du", "jour", "accepté", "à", "l",
                                                                  "unanimité"]
    reference = words("le crédit est accepté")
    assert word_error_rate(reference, reference) == 0.0
    assert word_error_rate(reference, words("le crédit accepté")) == 0.25  # one deletion
    assert word_error_rate(reference, words("le débit est accepté ce soir")) == 0.75  # one substitution, two insertions
    assert word_error_rate([], []) == 0.0


def test_the_meeting_script_has_speakers_and_ten_minutes_of_words():
    turns = script_turns(SEANCE)
    assert turns[0][0] == "Présidente" and not any(text.startswith("#") for _, text in turns)
    assert sum(len(words(text)) for _, text in turns) > 1200  # about 10 minutes at espeak-ng's 120 words a minute


def test_a_speech_model_folder_without_its_tokenizer_is_refused(tmp_path):
    """Without tokenizer.json faster-whisper would fetch one from a model hub: the catalog says the folder
    is incomplete instead, and the model is never loaded."""
    folder = tmp_path / "whisper"
    folder.mkdir()
    for name in ("model.bin", "config.json", "vocabulary.txt"):
        (folder / name).write_bytes(b"x")
    entry = ModelEntry(id="w", kind="speech", tasks=["transcribe"], path=str(folder))
    assert check_files(entry) == ["« w » : fichier manquant : tokenizer.json"]
    (folder / "tokenizer.json").write_text("{}")
    assert check_files(entry) == [] and entry.runtime == "ctranslate2"
