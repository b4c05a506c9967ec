"""Minutes: attendance, votes, times and agenda read from the sample notes and transcript without a
model; the PV as text, .docx and .odt; with a model, each point's discussion, streamed."""

from __future__ import annotations

import io
import json
import zipfile

import docx
import pytest
from httpx_sse import connect_sse

from tests.fake_upstream import (
    MY_TASKS,
    good_answer,
    scripted_server,
)


def minutes_of(client, text: str, **extra):
    response = client.post("/v1/text/minutes", json={"text": text, "engine": "rules", **extra})
    assert response.status_code == 200, response.text
    return response


def test_notes_attendance_votes_times_agenda(server, samples):
    notes = (samples / "notes/01-conseil-general-notes.txt").read_text(encoding="utf-8")
    with server.client() as client:
        body = minutes_of(client, notes).json()
    pv = body["minutes"]
    assert (pv["body"], pv["date"], pv["start_time"], pv["place"]) == (
        "Conseil général", "2026-11-16", "19:30", "salle du Conseil, Hôtel de Ville")
    assert (pv["chair"], pv["secretary"], pv["present_count"], pv["members_total"]) == (
        "R. Jeanneret", "N. Calame", 37, 41)
    assert pv["excused"] == ["M. Dubois", "A. Sandoz", "L. Vuille", "P. Matthey"]
    assert [i["number"] for i in pv["items"]] == [1, 2, 3, 4]
    assert pv["items"][0]["vote"]["unanimous"] is True
    votes = [(i["vote"]["yes"], i["vote"]["no"], i["vote"]["abstentions"], i["vote"]["result"])
             for i in pv["items"][1:3]]
    assert votes == [(31, 4, 2, "accepté"), (29, 6, 2, "accepté")]
    divers = pv["items"][3]
    assert (divers["title"], divers["vote"], divers["decision"]) == ("Divers", None, "CC transmet aux SI")
    assert divers["notes"] == ["B. Perret signale éclairage défectueux passage sous-voie gare"]
    assert (pv["closing_time"], pv["next_meeting"]) == ("22:05", "2026-12-14")
    assert len(pv["items"][1]["notes"]) == 3
    text = body["text"]
    assert "Séance du Conseil général du 16 novembre 2026" in text
    assert "Accepté par 31 oui, 4 non, 2 abstentions." in text and "levée à 22 h 05" in text
    assert body["engine"] == "rules"


def test_transcript_start_time_speakers_and_votes(server, samples):
    transcript = (samples / "notes/02-transcript-extrait.txt").read_text(encoding="utf-8")
    with server.client() as client:
        pv = minutes_of(client, transcript).json()["minutes"]
    assert pv["start_time"] == "19:32"  # "dix-neuf heures trente-deux"
    assert pv["speakers"] == ["Présidente", "M. Huguenin", "Mme Favre (PLR)", "M. Rota (Verts)"]
    assert [i["number"] for i in pv["items"]] == [1, 2]
    assert pv["items"][0]["vote"]["unanimous"] is True
    vote = pv["items"][1]["vote"]
    assert (vote["yes"], vote["no"], vote["abstentions"], vote["result"]) == (31, 4, 2, "accepté")


def test_pv_documents(server, samples):
    notes = (samples / "notes/01-conseil-general-notes.txt").read_text(encoding="utf-8")
    with server.client() as client:
        word = minutes_of(client, notes, format="docx")
        writer = minutes_of(client, notes, format="odt")
    assert word.headers["content-type"].startswith("application/vnd.openxmlformats")
    paragraphs = [p.text.replace("\u00a0", " ") for p in docx.Document(io.BytesIO(word.content)).paragraphs]
    assert "Excusés : M. Dubois, A. Sandoz, L. Vuille, P. Matthey" in paragraphs
    assert "2. Crédit 1'250'000.- réfection rue du Collège" in paragraphs
    assert "Décision : Acceptée par 29 oui, 6 non, 2 abstentions." in paragraphs  # a motion: « acceptée »
    content = zipfile.ZipFile(io.BytesIO(writer.content)).read("content.xml").decode()
    assert "Accepté par 31 oui, 4 non, 2 abstentions." in content and "{{" not in content


def test_errors(server):
    with server.client() as client:
        assert client.post("/v1/text/minutes", json={"text": "x", "format": "pdf2"}).status_code == 422
        assert client.post("/v1/text/minutes", json={"notes": "x"}).status_code == 422
        assert client.post("/v1/text/minutes", json={"text": "x" * 200_001}).status_code == 413
    with server.client(None) as anonymous:
        assert anonymous.post("/v1/text/minutes", json={"text": "x"}).status_code == 401


def test_model_missing_is_503(modelless_server):
    with modelless_server.client() as client:
        got = client.post("/v1/text/minutes", json={"text": "1. PV", "engine": "model"})
    assert got.status_code == 503 and got.json()["type"].endswith("model-unavailable")


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    with scripted_server(tmp_path_factory.mktemp("scripted"), good_answer, MY_TASKS) as pair:
        yield pair


def test_model_discussion_streamed(scripted, samples):
    srv, fake = scripted
    notes = (samples / "notes/01-conseil-general-notes.txt").read_text(encoding="utf-8")
    with srv.client() as client:
        with connect_sse(client, "POST", "/v1/text/minutes", json={"text": notes}) as events:
            frames = [(e.event, json.loads(e.data)) for e in events.iter_sse()]
        fake.replies[:] = ['{"discussion": ""}', "rien"]
        refused = client.post("/v1/text/minutes", json={"text": notes, "engine": "model"})
    kinds = [k for k, _ in frames]
    # Points 2, 3 and "Divers" have notes: progress then delta for each, then the whole PV.
    assert kinds == ["progress", "delta"] * 3 + ["done"]
    done = frames[-1][1]
    assert done["engine"] == "scripted"
    assert done["minutes"]["items"][1]["discussion"].startswith("Le Conseil communal a expliqué")
    assert done["minutes"]["items"][1]["vote"]["yes"] == 31  # the votes stay the rules' counts
    assert "<<<DONNEES-" in fake.requests[0][-1]["content"]
    assert refused.status_code == 502


def test_a_recorded_transcript_with_no_point_recognised_loses_nothing():
    """A recording's transcript (plume.speech: « [hh:mm:ss] Intervenant : … ») where Whisper garbled
    every « Deuxième point »: every turn stays, under « Notes de séance », and the spoken closing
    time is read."""
    from plume.tasks.minutes.notes import read_notes
    from plume.tasks.minutes.text import minutes_text

    transcript = ("[00:00:01] Présidente : Bonsoir à toutes et à tous, il est dix-neuf heures, j'ouvre la séance.\n\n"
                  "[00:00:40] Intervenant : La demande de crédit pour les conduites d'eau de la rue du Collège.\n\n"
                  "[00:09:00] Présidente : L'ordre du jour est épuisé. La séance est levée à vingt et une heures quinze.")
    pv = read_notes(transcript)
    text = minutes_text(pv)
    assert [item.title for item in pv.items] == ["Notes de séance"]
    assert "conduites d'eau de la rue du Collège" in text and "Bonsoir à toutes et à tous" in text
    assert (pv.start_time, pv.closing_time) == ("19:00", "21:15")


def test_a_transcript_under_its_title_line_keeps_the_date_and_names_its_points_plainly():
    """The sidebar inserts the transcript under « Séance du … »: the date counts, and « Deuxième point
    de l'ordre du jour, la demande de crédit » is titled « La demande de crédit »."""
    from plume.tasks.minutes.notes import read_notes

    pv = read_notes("Séance du Conseil général du 16 novembre 2026\n\n"
                    "[00:00:01] Présidente : Bonsoir, il est dix-neuf heures, j'ouvre la séance.\n\n"
                    "[00:00:40] Présidente : Deuxième point de l'ordre du jour, la demande de crédit pour l'eau.")
    assert (pv.date, pv.body, pv.start_time) == ("2026-11-16", "Conseil général", "19:00")
    assert [(item.number, item.title) for item in pv.items] == [(2, "La demande de crédit pour l'eau")]
