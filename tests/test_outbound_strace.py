"""No connection leaves the server, checked where native libraries cannot hide: the system calls.

The real `plume serve` runs under strace (`-f`: every process and thread) with the tiny models
loaded and used (a chat completion on tiny-llm, a translation on tiny-mt, a recording transcribed by
the tiny Whisper through faster-whisper and its voice-activity model, a letter rendered), and
with ORT_DISABLE_TELEMETRY=0 inherited, as a stray setting would be. Any connect/sendto to a
non-loopback address, and any DNS query, fails the test (tests/netguard/detector.py).

The detector is proven able to see what it claims by canaries: bare ONNX Runtime and
onnxruntime-genai sessions on the same tiny models, without the variable, are seen trying to resolve
mobile.events.data.microsoft.com (their 1DS telemetry) within the same observation window (in a
network namespace without interfaces where allowed, so that nothing leaves the test machine), and a
controlled attempt from a grandchild process's thread is seen too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, TINY_MODELS, require_tool, start_server
from tests.netguard.detector import RESOLVER_SOCKETS, attempts, read_attempts, stop_traced, strace_prefix
from tests.speech_audio import TINY_SPEECH_ID, Recording, encode, espeak_available, speak, tiny_speech_catalog

pytestmark = pytest.mark.skipif(not TINY_MODELS.exists(), reason="tiny models not built")


@pytest.fixture
def _strace_installed():
    require_tool(shutil.which("strace") is not None, "strace")  # fails in CI, skips elsewhere


needs_strace = pytest.mark.usefixtures("_strace_installed")

# Measured with onnxruntime 1.32 / onnxruntime-genai 0.18: the first telemetry upload is tried about
# 9 s after a model loads (DNS), then again at about 14 s and 23 s. Every run below observes at
# least this long after the models are ready, so the server test watches the same window in which
# the canaries are seen.
OBSERVE_S = 16
TELEMETRY_HOST = "events.data.microsoft.com"


# ONNX Runtime's telemetry keeps quiet where it sees a CI marker (CI sets CI=true): the traced processes
# run without them, as on the commune's server. Otherwise the canaries would see nothing, and the
# server test would pass whether or not Plume turns telemetry off.
CI_MARKERS = ("CI", "CONTINUOUS_INTEGRATION", "BUILD_ID", "BUILD_NUMBER", "GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD",
              "JENKINS_URL")


def _environment(home: Path, **extra: str) -> dict[str, str]:
    """The test process's environment, without the telemetry switch (conftest sets it for the
    suite's own process), with a HOME of its own where the runtimes would keep their device id."""
    env = {k: v for k, v in os.environ.items() if k not in ("ORT_DISABLE_TELEMETRY", "XDG_CACHE_HOME", *CI_MARKERS)}
    home.mkdir(parents=True, exist_ok=True)
    return {**env, "HOME": str(home), **extra}


def _isolation() -> tuple[str, ...]:
    """A network namespace with no interface (`unshare -rn`), where the canaries' attempts end at the
    system call (ENETUNREACH) instead of leaving the test machine; nothing where it is not allowed."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ("unshare", "-rn")
    return ()


def _run_traced(tmp: Path, code: str, env: dict[str, str], isolate: tuple[str, ...] = ()) -> tuple[list, list[str]]:
    log = tmp / "strace.log"
    subprocess.run([*strace_prefix(log), *isolate, sys.executable, "-c", code], cwd=REPO, env=env, check=True,
                   timeout=120)
    return read_attempts(log)


def _telemetry_store(home: Path) -> Path:
    return home / ".cache" / "Microsoft"


# -- the detector itself -------------------------------------------------------------------------------------------


def test_detector_reads_strace_lines():
    lines = [
        '12 connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0',
        '12 sendto(8, "\\234f\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0\\6mobile\\6events\\4data\\tmicrosoft\\3com\\0\\0\\1\\0\\1", 50, '
        'MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 50',
        '13 connect(9, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "2603:1061::1", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>',
        '14 sendmsg(3, {msg_name={sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("20.42.65.92")}, '
        'msg_namelen=16}, 0) = 1',
        '15 connect(5, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = 0',
        '17 connect(6, {sa_family=AF_UNIX, sun_path="/run/systemd/resolve/io.systemd.Resolve"}, 42 <unfinished ...>',
        '18 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110 <unfinished ...>',
        '17 <... connect resumed>) = 0',
        # No resolver daemon: glibc goes on with the lookup in the process, where a DNS query is seen.
        '19 connect(5, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)',
        '20 connect(5, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110 <unfinished ...>',
        '20 <... connect resumed>) = -1 ECONNREFUSED (Connection refused)',
        # Local traffic is fine: loopback in both families, the IPv4-mapped loopback, other Unix sockets.
        '16 connect(7, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
        '16 connect(7, {sa_family=AF_INET6, sin6_port=htons(8000), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '16 connect(7, {sa_family=AF_UNIX, sun_path="/run/user/0/bus"}, 110) = 0',
        '16 sendto(7, "HTTP/1.1 200 OK", 15, 0, NULL, 0) = 15',
        '16 sendto(4, [{nlmsg_len=20, nlmsg_type=RTM_GETADDR}], 20, 0, {sa_family=AF_NETLINK, nl_pid=0}, 12) = 20',
    ]
    found = attempts(lines)
    assert [(a.pid, a.host, a.port) for a in found] == [
        (12, "10.255.255.53", 53), (12, "127.0.0.53", 53), (13, "2603:1061::1", 443), (14, "20.42.65.92", 443),
        (15, "/var/run/nscd/socket", None), (17, "/run/systemd/resolve/io.systemd.Resolve", None),
        (18, "/var/run/nscd/socket", None)]
    assert found[1].query == "mobile.events.data.microsoft.com"


@needs_strace
def test_canary_a_controlled_attempt_from_a_grandchild_thread_is_seen(tmp_path):
    # UDP connects put nothing on the wire, and 192.0.2.1 / 2001:db8::1 are documentation addresses
    # (RFC 5737, RFC 3849): safe anywhere, yet exactly the system call a connection out starts with.
    grandchild = ("import socket, threading\n"
                  "def go():\n"
                  "    for family, address in ((socket.AF_INET, ('192.0.2.1', 443)), (socket.AF_INET6, ('2001:db8::1', 443))):\n"
                  "        try:\n"
                  "            socket.socket(family, socket.SOCK_DGRAM).connect(address)\n"
                  "        except OSError:\n"
                  "            pass\n"
                  "t = threading.Thread(target=go); t.start(); t.join()\n")
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}], check=True)"
    found, _ = _run_traced(tmp_path, code, os.environ.copy())
    assert {(a.host, a.port) for a in found} == {("192.0.2.1", 443), ("2001:db8::1", 443)}


@needs_strace
@pytest.mark.parametrize("runtime", ["onnxruntime", "onnxruntime-genai"])
def test_canary_bare_runtime_telemetry_is_seen_without_the_variable(tmp_path, runtime):
    """Without ORT_DISABLE_TELEMETRY the runtimes try to reach Microsoft: the detector must see it,
    in the window the server test watches; otherwise that test would prove nothing."""
    load = {
        "onnxruntime": "import onnxruntime as ort\n"
                       f"ort.InferenceSession({str(TINY_MODELS.parent / 'tiny-mt' / 'encoder_model.onnx')!r}, "
                       "providers=['CPUExecutionProvider'])\n",
        "onnxruntime-genai": "import onnxruntime_genai as og\n"
                             f"og.Model({str(TINY_MODELS.parent / 'tiny-llm')!r})\n",
    }[runtime]
    home, isolate = tmp_path / "home", _isolation()
    found, _ = _run_traced(tmp_path, f"{load}import time\ntime.sleep({OBSERVE_S})\n", _environment(home), isolate)
    print(f"\n{runtime} without the variable{' (isolated)' if isolate else ''}: " + "; ".join(map(str, found[:4])))
    assert found, "the runtime made no attempt in the window: the server test would prove nothing"
    if not isolate:  # the query really went out: it names Microsoft's collector
        assert any(TELEMETRY_HOST in a.query for a in found) or any(a.port == 443 for a in found), found
    assert _telemetry_store(home).exists()  # and it keeps a device id in the home folder


# -- Plume ---------------------------------------------------------------------------------------------------------


def _wait_models_ready(srv, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    with srv.client("user") as client:
        while time.monotonic() < deadline:
            status = {m["id"]: m["status"] for m in client.get("/v1/models").json()["data"]}
            if all(s != "loading" for s in status.values()):
                assert status == {"tiny-llm": "ready", "tiny-mt": "ready", TINY_SPEECH_ID: "ready"}, status
                return
            time.sleep(0.2)
    raise AssertionError("models still loading")


@pytest.fixture
def catalog_with_speech(tmp_path) -> Path:
    """The tiny models, the tiny Whisper, and a recording for it (French synthesized by espeak-ng)."""
    require_tool(espeak_available(), "espeak-ng")
    catalog = tiny_speech_catalog(tmp_path / "models", with_text_models=True)
    samples, rate = speak("Le Conseil général du Locle a adopté le budget de la commune.")
    encode(Recording(samples, rate, []), "mp3", catalog.parent / "phrase.mp3")
    return catalog


def _use_every_engine(srv, recording: Path) -> None:
    with srv.client("user") as client:
        chat = client.post("/v1/chat/completions", json={
            "model": "tiny-llm", "messages": [{"role": "user", "content": "Bonjour"}], "max_tokens": 8})
        assert chat.status_code == 200, chat.text
        translation = client.post("/v1/text/translate", json={
            "text": "La séance est ouverte.", "source": "fr", "target": "es", "engine": "model"})
        # The random model may fail its output checks (502): it ran all the same.
        assert translation.status_code in (200, 502), translation.text
        if translation.status_code == 200:
            assert translation.json()["engine"] == "tiny-mt"
        fields = client.get("/v1/templates/attestation-domicile").json()["fields"]
        values = {f["name"]: f["example"] for f in fields if f.get("example") is not None}
        render = client.post("/v1/templates/attestation-domicile/render", json={"values": values, "format": "docx"})
        assert render.status_code == 200, render.text
        transcription = client.post("/v1/audio/transcriptions", files={"file": ("phrase.mp3", recording.read_bytes())})
        assert transcription.status_code == 200, transcription.text


@needs_strace
def test_server_with_models_loaded_and_used_sends_nothing_out(tmp_path, catalog_with_speech):
    log, home = tmp_path / "strace.log", tmp_path / "home"
    env = _environment(home, ORT_DISABLE_TELEMETRY="0")  # a stray setting must not turn telemetry on
    env.update(dict.fromkeys(CI_MARKERS))  # start_server adds the test's environment back: unset them there
    env["HF_HUB_OFFLINE"] = None  # faster-whisper must stay offline by Plume's own doing, not the suite's
    srv = start_server(tmp_path, "--models", str(catalog_with_speech), wrapper=strace_prefix(log), env=env)
    recording = catalog_with_speech.parent / "phrase.mp3"
    try:
        _wait_models_ready(srv)
        ready = time.monotonic()
        _use_every_engine(srv, recording)
        time.sleep(max(0.0, ready + OBSERVE_S - time.monotonic()))
        _use_every_engine(srv, recording)
    finally:
        stop_traced(srv.process)
    found, lines = read_attempts(log)
    print(f"\nstrace: {len(lines)} network system calls traced, {len(found)} to another machine")
    print("\n".join(line for line in lines if any(s in line for s in RESOLVER_SOCKETS)))  # name lookups, if any
    port = srv.url.rsplit(":", 1)[1]
    assert any(line.split()[1].startswith("bind(") and f"htons({port})" in line for line in lines), \
        "the trace did not cover the server (its listening port is not in it)"
    assert not found, "\n".join(map(str, found[:20]))
    assert not _telemetry_store(home).exists()


@needs_strace
def test_cli_loading_models_writes_no_telemetry_state_and_sends_nothing(tmp_path):
    """`plume models check` loads and runs each model: the CLI entry point is covered as well."""
    home = tmp_path / "home"
    log = tmp_path / "strace.log"
    result = subprocess.run([*strace_prefix(log), sys.executable, "-m", "plume", "models", "check",
                             "--models", str(TINY_MODELS)], cwd=REPO, capture_output=True, text=True, timeout=180,
                            env=_environment(home, ORT_DISABLE_TELEMETRY="0"))
    assert result.returncode == 0, result.stdout + result.stderr
    found, _ = read_attempts(log)
    assert not found, "\n".join(map(str, found[:20]))
    assert not _telemetry_store(home).exists()
