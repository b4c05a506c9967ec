"""Transcription through the real server over HTTP, with the tiny random Whisper (it proves the
pipeline, never quality: its text is gibberish) and French speech synthesized by espeak-ng:
the containers a recorder writes, the French 4xx for what is not audio or too large (refused while
the upload streams, before it is buffered), jobs with progress as Server-Sent Events, Stop keeping
what is done, a job resumed after the server was killed, the audio gone once transcribed, and an
audit log with durations and sizes only. The real model (whisper-base) is in test_speech_realmodel.py.
"""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path

import httpx
import pytest
from httpx_sse import connect_sse

from tests.conftest import start_server
from tests.speech_audio import (CONTAINERS, TINY_SPEECH_ID, encode, half_seance, short_recording,  # noqa: F401
                                speech_cache, tiny_speech_catalog)

ROUTE = "/v1/audio/transcriptions"
MAX_AUDIO_BYTES = 8 * 1024 * 1024
MAX_DURATION_S = 900


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    return tiny_speech_catalog(tmp_path_factory.mktemp("tiny-speech"), with_text_models=True)


@pytest.fixture(scope="module")
def speech_only(tmp_path_factory) -> Path:
    return tiny_speech_catalog(tmp_path_factory.mktemp("tiny-speech-only"))


def speech_server(tmp: Path, catalog: Path):
    return start_server(tmp, "--models", str(catalog),
                        env={"PLUME_MAX_AUDIO_BYTES": str(MAX_AUDIO_BYTES), "PLUME_MAX_AUDIO_DURATION_S": str(MAX_DURATION_S)})


@pytest.fixture(scope="module")
def srv(tmp_path_factory, catalog):
    server = speech_server(tmp_path_factory.mktemp("speech"), catalog)
    yield server
    server.stop()


def upload(client: httpx.Client, path: Path, name: str | None = None, **fields) -> httpx.Response:
    with open(path, "rb") as fh:
        return client.post(ROUTE, files={"file": (name or path.name, fh)}, data={k: str(v) for k, v in fields.items()})


def jobs_on_disk(server) -> list[Path]:
    root = server.data / "transcriptions"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def events(client: httpx.Client, job_id: str) -> list[tuple[str, dict]]:
    with connect_sse(client, "GET", f"{ROUTE}/{job_id}") as source:
        return [(e.event, json.loads(e.data)) for e in source.iter_sse()]


def wait_for(server, job_id: str, *statuses: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    with server.client() as client:
        while time.monotonic() < deadline:
            job = client.get(f"{ROUTE}/{job_id}").json()
            if job["status"] in statuses:
                return job
            time.sleep(0.2)
    raise AssertionError(f"job still {job['status']}")


# -- what a recorder writes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", list(CONTAINERS))
def test_each_container_is_transcribed_over_its_whole_length(srv, short_recording, tmp_path, suffix):
    path = encode(short_recording, suffix, tmp_path / f"séance.{suffix}")
    with srv.client() as client:
        answer = upload(client, path, response_format="verbose_json")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["task"] == "transcribe" and body["language"] == "french"
    assert abs(body["duration"] - short_recording.duration_s) < 0.2
    assert body["segments"], "nothing transcribed"
    assert all(0 <= s["start"] <= s["end"] <= body["duration"] + 0.01 for s in body["segments"])
    assert body["usage"] == {"type": "duration", "seconds": round(short_recording.duration_s)}
    assert body["transcript"].startswith("[00:00:0") and " Intervenant : " in body["transcript"]


def test_response_formats_are_openais(srv, short_recording, tmp_path):
    path = encode(short_recording, "wav", tmp_path / "a.wav")
    with srv.client() as client:
        plain = upload(client, path)
        text = upload(client, path, response_format="text")
        srt = upload(client, path, response_format="srt")
        vtt = upload(client, path, response_format="vtt")
    assert set(plain.json()) == {"text", "usage"} and plain.json()["text"]
    assert text.headers["content-type"].startswith("text/plain") and text.text.strip() == plain.json()["text"]
    assert re.match(r"1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\n\S", srt.text), srt.text[:80]
    assert vtt.text.startswith("WEBVTT\n\n") and re.search(r"\d\d:\d\d:\d\d\.\d{3} --> ", vtt.text)
    for answer in (plain, text, srt, vtt):
        assert answer.headers["x-plume-job"].startswith("tr_")


# -- what is refused, and when ------------------------------------------------------------------------------


def test_a_file_that_is_not_audio_gets_a_french_415_that_names_nothing_of_it(srv, tmp_path):
    documents = {"Martin-Dupuis-confidentiel.txt": "Compte rendu de l'entretien avec Mme Martin-Dupuis.".encode(),
                 "photo.png": bytes.fromhex("89504e470d0a1a0a") + b"\0" * 64, "bruit.mp3": bytes(range(256)) * 40}
    with srv.client() as client:
        for name, content in documents.items():
            answer = client.post(ROUTE, files={"file": (name, content)})
            assert answer.status_code == 415, answer.text
            problem = answer.json()
            assert answer.headers["content-type"] == "application/problem+json"
            assert "n'est pas un enregistrement audio" in problem["detail"] or "piste audio" in problem["detail"]
            assert "Martin" not in answer.text and name not in answer.text
    assert jobs_on_disk(srv) == [] or all((p / "job.json").exists() for p in jobs_on_disk(srv))  # nothing left over


def test_wrong_fields_are_french_422s(srv, short_recording, tmp_path):
    path = encode(short_recording, "mp3", tmp_path / "a.mp3")
    with srv.client() as client:
        cases = {"language": ("klingon", 422), "response_format": ("docx", 422), "temperature": ("3", 422),
                 "model": ("inconnu", 404)}
        for field, (value, status) in cases.items():
            answer = upload(client, path, **{field: value})
            assert answer.status_code == status, (field, answer.text)
            assert answer.json()["detail"]
        text_model = upload(client, path, model="tiny-llm")
        assert text_model.status_code == 422 and "n'est pas un modèle de transcription" in text_model.json()["detail"]
        assert client.post(ROUTE, json={"file": "x"}).status_code == 415  # not multipart


def test_too_long_a_recording_is_refused_with_the_limit(srv, tmp_path):
    import numpy as np

    from tests.speech_audio import Recording

    silence = Recording(np.zeros(8000 * (MAX_DURATION_S + 60), np.int16), 8000, [])
    path = encode(silence, "mp3", tmp_path / "longue.mp3", rate=8000)
    with srv.client() as client:
        answer = upload(client, path)
    assert answer.status_code == 413, answer.text
    assert "durée maximale de 15 minutes" in answer.json()["detail"]
    assert "x-plume-job" not in answer.headers  # refused on reading the file, before any job was made


def _raw_request(server, head: str) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(head.encode())
    return sock


def _head(server, length: str | None) -> str:
    size = f"Content-Length: {length}\r\n" if length else "Transfer-Encoding: chunked\r\n"
    return (f"POST {ROUTE} HTTP/1.1\r\nHost: plume\r\nAuthorization: Bearer {server.tokens['user']}\r\n"
            f"Content-Type: multipart/form-data; boundary=B\r\n{size}\r\n")


def _status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _rest_of_answer(sock: socket.socket, answer: bytes) -> bytes:
    """Read on until the answer's body is whole (its Content-Length), or the server closes."""
    sock.settimeout(10)
    while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < int(
            re.search(rb"content-length: (\d+)", answer.lower())[1] if b"content-length" in answer.lower() else 0):
        try:
            more = sock.recv(65536)
        except OSError:
            break
        if not more:
            break
        answer += more
    return answer


def test_a_2_gb_upload_is_refused_from_its_length_before_a_byte_is_read(srv):
    sock = _raw_request(srv, _head(srv, str(2 * 1024 ** 3)))
    try:
        sock.sendall(b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF")
        answer = _rest_of_answer(sock, sock.recv(65536))  # it comes while the client still has 2 GB to send
    finally:
        sock.close()
    assert _status_of(answer) == 413
    assert "taille maximale de 8 Mo" in answer.decode("utf-8", "replace")


def test_an_upload_of_unknown_length_is_refused_while_it_streams(srv):
    """Chunked, no length announced: the server counts and answers 413 soon after the limit, while
    the client is still sending (it would only answer at the end if it buffered the upload first)."""
    sock = _raw_request(srv, _head(srv, None))
    chunk = b"\0" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent, answer = 0, b""
    try:
        part_head = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n"
        sock.sendall(f"{len(part_head):x}\r\n".encode() + part_head + b"\r\n")
        sock.settimeout(0.05)
        while sent < 40 * MAX_AUDIO_BYTES:  # the test gives up long before 2 GB
            try:
                answer = _rest_of_answer(sock, sock.recv(65536))
                break
            except TimeoutError:
                pass
            try:
                sock.sendall(frame)
                sent += len(chunk)
            except OSError:  # the server closed the connection after answering
                answer = _rest_of_answer(sock, b"")
                break
    finally:
        sock.close()
    assert answer, f"no answer after {sent} bytes"
    assert _status_of(answer) == 413 and "taille maximale de 8 Mo" in answer.decode("utf-8", "replace")
    assert sent < MAX_AUDIO_BYTES + 8 * 1024 * 1024, sent  # the limit, plus what the sockets' buffers held
    assert not any((p / "upload").exists() for p in jobs_on_disk(srv))  # the partial upload was deleted


# -- jobs -------------------------------------------------------------------------------------------------------


def test_a_background_job_streams_its_progress_and_segments_then_its_result(srv, short_recording, tmp_path):
    path = encode(short_recording, "m4a", tmp_path / "séance.m4a")
    with srv.client() as client:
        accepted = upload(client, path, background="true")
        assert accepted.status_code == 202, accepted.text
        job = accepted.json()
        assert accepted.headers["location"] == f"{ROUTE}/{job['id']}"
        assert job["status"] in ("queued", "running") and job["duration"] == round(short_recording.duration_s, 1)
        stream = events(client, job["id"])
        kinds = [kind for kind, _ in stream]
        assert kinds[-1] == "done" and "segment" in kinds and "progress" in kinds
        percents = [data["percent"] for kind, data in stream if kind == "progress"]
        assert percents == sorted(percents) and percents[-1] == 100.0
        segments = [data for kind, data in stream if kind == "segment"]
        assert [s["id"] for s in segments] == list(range(len(segments)))
        assert segments[0]["paragraph"] is True and all(s["delta"] == s["text"] for s in segments)
        done = stream[-1][1]
        assert done["type"] == "transcript.text.done" and done["job"]["status"] == "done"
        assert [s["text"] for s in done["segments"]] == [s["text"] for s in segments]
        # The clerk comes back later: the job, its transcript in any format, and the same events again.
        again = client.get(f"{ROUTE}/{job['id']}").json()
        assert again["status"] == "done" and again["result"]["text"] == done["text"]
        assert client.get(f"{ROUTE}/{job['id']}", params={"response_format": "srt"}).text.startswith("1\n")
        assert [k for k, _ in events(client, job["id"])].count("segment") == len(segments)
        assert job["id"] in [j["id"] for j in client.get(ROUTE).json()["data"]]
    folder = srv.data / "transcriptions" / job["id"]
    assert not list(folder.glob("audio*")), "the recording is still on disk after its transcription"


def test_stop_keeps_what_is_done(srv, half_seance):
    recording, path = half_seance
    with srv.client() as client:
        job = upload(client, path, background="true").json()
        with connect_sse(client, "GET", f"{ROUTE}/{job['id']}") as source:
            for event in source.iter_sse():
                if event.event == "segment":
                    stopped = client.post(f"{ROUTE}/{job['id']}/stop")
                    assert stopped.status_code == 200
                    break
        final = wait_for(srv, job["id"], "stopped", "done")
        assert final["status"] == "stopped", final["status"]
        assert final["processed"] < final["duration"]
        assert final["result"]["segments"], "what was transcribed before Stop is kept"
        srt = client.get(f"{ROUTE}/{job['id']}", params={"response_format": "srt"})
        assert srt.status_code == 200 and srt.headers["x-plume-warning"] == "transcription incomplete"
    assert not list((srv.data / "transcriptions" / job["id"]).glob("audio*"))


def test_a_job_is_its_owners_alone_and_delete_removes_everything(srv, short_recording, tmp_path):
    path = encode(short_recording, "ogg", tmp_path / "a.ogg")
    colleague = srv.add_user("collegue", "user")
    with srv.client() as client:
        job = upload(client, path, background="true").json()
        other = httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {colleague}"}, timeout=30)
        with other:
            assert other.get(f"{ROUTE}/{job['id']}").status_code == 404
            assert other.post(f"{ROUTE}/{job['id']}/stop").status_code == 404
            assert other.delete(f"{ROUTE}/{job['id']}").status_code == 404
            assert job["id"] not in [j["id"] for j in other.get(ROUTE).json()["data"]]
        assert client.delete(f"{ROUTE}/{job['id']}").status_code == 204
        assert client.get(f"{ROUTE}/{job['id']}").status_code == 404
    assert not (srv.data / "transcriptions" / job["id"]).exists()


def test_a_job_resumes_after_the_server_was_killed(tmp_path, speech_only, half_seance):
    """The server dies mid-transcription (SIGKILL: no chance to save anything more); started again on
    the same data folder, it picks the job up at its last window and finishes it."""
    recording, path = half_seance
    server = speech_server(tmp_path, speech_only)

    def saved(job: dict) -> dict:  # the job's checkpoint on disk
        return json.loads((server.data / "transcriptions" / job["id"] / "job.json").read_text())

    try:
        with server.client() as client:
            job = upload(client, path, background="true").json()
            with connect_sse(client, "GET", f"{ROUTE}/{job['id']}") as source:
                for event in source.iter_sse():  # mid-window events report segments not yet checkpointed
                    if event.event == "progress" and 0 < (now := saved(job))["processed_s"] < 0.7 * now["duration_s"]:
                        break
        server.process.kill()
        server.process.wait(10)
        checkpoint = saved(job)
        assert checkpoint["status"] == "running" and 0 < checkpoint["processed_s"] < checkpoint["duration_s"]
    finally:
        server.stop()
    tokens = server.tokens
    server = start_server(tmp_path, "--models", str(speech_only), users=False,
                          env={"PLUME_MAX_AUDIO_BYTES": str(MAX_AUDIO_BYTES), "PLUME_MAX_AUDIO_DURATION_S": "900"})
    server.tokens = tokens
    try:
        final = wait_for(server, job["id"], "done", "failed", "stopped", timeout=120)
        assert final["status"] == "done" and final["resumed"] == 1, final
        segments = final["result"]["segments"]
        assert [s["id"] for s in segments] == list(range(len(segments)))
        assert all(a["start"] <= b["start"] for a, b in zip(segments, segments[1:]))  # nothing twice, in order
        assert segments[-1]["end"] > checkpoint["processed_s"]  # the rest was transcribed after the restart
        assert not list((server.data / "transcriptions" / job["id"]).glob("audio*"))
    finally:
        server.stop()


# -- privacy ------------------------------------------------------------------------------------------------


def test_audit_and_log_hold_durations_and_sizes_never_words_or_names(srv, short_recording, tmp_path):
    path = encode(short_recording, "mp3", tmp_path / "Audition-Mme-Favre.mp3")
    with srv.client() as client:
        answer = upload(client, path, name="Audition-Mme-Favre.mp3", response_format="verbose_json",
                        prompt="Madame Favre, Conseil communal")
        assert answer.status_code == 200
        job_id = answer.headers["x-plume-job"]
    words = {w for s in answer.json()["segments"] for w in s["text"].split() if len(w) > 3}
    lines = [json.loads(line) for line in (srv.data / "audit.jsonl").read_text().splitlines()]
    post = next(line for line in lines if line["route"] == ROUTE and line["method"] == "POST"
                and line.get("audio_bytes") == path.stat().st_size)
    assert post["task"] == "transcribe" and post["model"] == TINY_SPEECH_ID and post["status"] == 200
    assert post["audio_seconds"] == round(short_recording.duration_s, 1)
    job_line = next(line for line in lines if line["method"] == "JOB" and line.get("audio_bytes") == path.stat().st_size)
    assert job_line["outcome"] == "done" and job_line["audio_seconds"] == post["audio_seconds"]
    for text in ((srv.data / "audit.jsonl").read_text(), srv.log.read_text()):
        assert "Favre" not in text and "Audition" not in text
        assert not [w for w in words if w in text], "transcript words in the audit log or the server log"
    assert not list((srv.data / "transcriptions" / job_id).glob("audio*"))


def test_the_sidebars_learn_from_the_capabilities_whether_they_can_offer_it(srv, modelless_server):
    with srv.client() as client:
        offered = client.get("/v1/capabilities").json()["tasks"]["transcribe"]
    assert offered["available"] and offered["engines"] == [TINY_SPEECH_ID]
    assert offered["max_audio_bytes"] == MAX_AUDIO_BYTES and "webm" in offered["formats"]
    with modelless_server.client() as client:
        absent = client.get("/v1/capabilities").json()["tasks"]["transcribe"]
    assert not absent["available"] and "transcription" in absent["reason"] and "Transkription" in absent["reason_de"]


def test_without_a_speech_model_the_answer_is_503_with_the_command_that_installs_one(modelless_server):
    with modelless_server.client("admin") as client:
        answer = client.post(ROUTE, files={"file": ("a.wav", b"RIFF")})
    assert answer.status_code == 503
    assert "--kind speech --tasks transcribe" in answer.json()["install_command"]


def test_plume_eval_measures_the_word_error_rate_on_recordings_and_on_synthesized_texts(tmp_path, speech_only,
                                                                                      short_recording):
    import subprocess
    import sys

    from tests.conftest import REPO

    data = tmp_path / "eval" / "speech"
    data.mkdir(parents=True)
    (data / "ouverture.txt").write_text("# enregistrée\n\nPrésidente : " + short_recording.turns[0][2] + "\n",
                                        encoding="utf-8")
    encode(short_recording, "mp3", data / "ouverture.mp3")
    (data / "cloture.txt").write_text("Présidente : La séance est levée.\n", encoding="utf-8")  # spoken by espeak-ng
    done = subprocess.run([sys.executable, "-m", "plume", "eval", "--models", str(speech_only), "--tasks", "transcribe",
                           "--data", str(data.parent), "--json", str(tmp_path / "eval.json"), "--quiet"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    row = next(line.split() for line in done.stdout.splitlines() if line.startswith("transcribe"))
    assert row[:4] == ["transcribe", TINY_SPEECH_ID, "2", "1"]  # two items, one of them synthetic
    measured = json.loads((tmp_path / "eval.json").read_text())["tasks"]["transcribe"][TINY_SPEECH_ID]
    assert measured["wer"] > 0.9 and measured["rtf"] > 0 and measured["errors"] == 0  # a random model: all wrong
