"""Transcription benchmark: real-time factor of the speech model on this machine, and Plume's overhead.

Prints, measured in the same run on the same recording (the repo's 10-minute meeting spoken by
espeak-ng, as an mp3, or --audio FILE):
  - faster-whisper's own transcription of the file (WhisperModel.transcribe on the whole file, same
    model, threads, compute type and beam as Plume's catalog entry): the baseline;
  - Plume's: the real server (`plume serve`, a subprocess) over HTTP, POST /v1/audio/transcriptions
    and the answer — upload, probe, windows, voice-activity detection for the paragraphs, the
    scheduler and the job on disk included;
  - for each, the real-time factor (seconds of computing per second of audio; below 1 is faster
    than the recording), and Plume / faster-whisper.

    .venv/bin/python bench/speech.py [--models CATALOG] [--model whisper-base] [--threads 2] [--audio FILE]

Default catalog: $PLUME_REFERENCE_SPEECH_CATALOG, else scripts/reference-speech.sh's.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
sys.path.insert(0, str(REPO))


def reference_catalog() -> Path:
    given = os.environ.get("PLUME_REFERENCE_SPEECH_CATALOG")
    if given:
        return Path(given)
    done = subprocess.run(["bash", str(REPO / "scripts" / "reference-speech.sh")], capture_output=True, text=True,
                          check=True)
    return Path(done.stdout.strip().splitlines()[-1])


def meeting(work: Path) -> Path:
    from tests.speech_audio import SEANCE, encode, synthesize

    return encode(synthesize(SEANCE), "mp3", work / "seance.mp3")


def baseline(entry, audio: Path, threads: int, beam: int) -> float:
    """faster-whisper alone, as its README runs it: the seconds it takes."""
    from faster_whisper import WhisperModel

    model = WhisperModel(str(entry.folder), device="cpu", compute_type="int8", cpu_threads=threads)
    started = time.perf_counter()
    segments, _ = model.transcribe(str(audio), language=(entry.languages or ["fr"])[0], beam_size=beam)
    list(segments)
    return time.perf_counter() - started


def plume(catalog: Path, model_id: str, audio: Path, work: Path) -> float:
    """The real server, one transcription over HTTP: the seconds from the upload to the answer."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = work / "data"
    env = {**os.environ, "PYTHONPATH": str(REPO / "server"), "PLUME_RATE_LIMIT_PER_MINUTE": "0",
           "PLUME_TRANSCRIPTION_TIMEOUT_S": "3600"}
    server = subprocess.Popen([sys.executable, "-m", "plume", "serve", "--port", str(port), "--data", str(data),
                               "--models", str(catalog)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        token = subprocess.run([sys.executable, "-m", "plume", "users", "add", "bench", "--role", "user", "--data",
                                str(data)], cwd=REPO, env=env, capture_output=True, text=True,
                               check=True).stdout.strip().splitlines()[-1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                          timeout=3600) as client:
            while True:  # until the model is loaded
                try:
                    models = client.get("/v1/models").json()["data"]
                    if all(m["status"] != "loading" for m in models):
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.3)
            started = time.perf_counter()
            with open(audio, "rb") as fh:
                answer = client.post("/v1/audio/transcriptions", files={"file": (audio.name, fh)},
                                     data={"model": model_id, "response_format": "verbose_json"})
            elapsed = time.perf_counter() - started
            answer.raise_for_status()
        return elapsed
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, help="catalog with the speech model (default: the reference one)")
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads, both sides (default 2)")
    parser.add_argument("--audio", type=Path, help="a recording (default: the synthetic 10-minute meeting)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds, each side in turn; the best of each is kept")
    args = parser.parse_args()

    from plume.inference.catalog import load_catalog
    from plume.speech.audio import probe

    source = args.models or reference_catalog()
    entry = load_catalog(source).get(args.model)
    if entry is None or entry.kind != "speech":
        sys.exit(f"no speech model « {args.model} » in {source}")
    beam = entry.speech.beam_size or 1  # as the engine on the CPU
    with tempfile.TemporaryDirectory(prefix="plume-bench-speech-") as tmp:
        work = Path(tmp)
        audio = args.audio or meeting(work)
        duration = probe(audio, float("inf")).duration_s
        catalog = work / "models.toml"  # the same model, threads and beam as the baseline, on the CPU
        catalog.write_text(f'[[models]]\nid = "{entry.id}"\npath = "{entry.path}"\nkind = "speech"\n'
                           f'tasks = ["transcribe"]\nlanguages = {json.dumps(entry.languages)}\nproviders = ["cpu"]\n'
                           f'[models.speech]\ncpu_threads = {args.threads}\nbeam_size = {beam}\n', encoding="utf-8")
        print(f"model {entry.id}, {args.threads} CPU threads, int8, beam {beam}; audio {duration:.0f} s")
        fws, pls = [], []
        for _ in range(max(1, args.rounds)):  # in turn, so that a busy moment of the machine hits both sides
            fws.append(baseline(entry, audio, args.threads, beam))
            pls.append(plume(catalog, entry.id, audio, work))
        fw, pl = min(fws), min(pls)
        print(f"faster-whisper alone:  {fw:7.1f} s   real-time factor {fw / duration:.3f}")
        print(f"Plume over HTTP:       {pl:7.1f} s   real-time factor {pl / duration:.3f}")
        print(f"Plume / faster-whisper: {pl / fw:.2f}")


if __name__ == "__main__":
    main()
