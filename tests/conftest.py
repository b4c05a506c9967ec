"""Shared fixtures: a real Plume server in a subprocess, reached over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = Path(os.environ.get("PLUME_SAMPLES", REPO / "tests" / "data" / "samples"))
TINY_MODELS = REPO / "onnx_models" / "tiny" / "models.toml"
SESSION_START = time.time()

# Hub libraries must never try the network, even by accident; nor ONNX Runtime's telemetry in the
# tests' own process (Plume's processes force it off themselves: tests/test_outbound_strace.py).
os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ORT_DISABLE_TELEMETRY="1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plume_cli(*args: str, data: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "plume", *args]
    if data is not None:
        cmd += ["--data", str(data)]
    return subprocess.run(cmd, capture_output=True, text=True, check=check, cwd=REPO)


@dataclass
class PlumeServer:
    url: str
    data: Path
    process: subprocess.Popen
    tokens: dict[str, str] = field(default_factory=dict)
    log: Path | None = None

    def client(self, role: str | None = "user", **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=kwargs.pop("timeout", 120), **kwargs)

    def health(self) -> dict:
        """/health as an administrator sees it: every component's details (the public view has only
        `status` and `queue_depth`)."""
        return httpx.get(f"{self.url}/health", headers={"Authorization": f"Bearer {self.tokens['admin']}"},
                         timeout=10).json()

    def add_user(self, name: str, role: str) -> str:
        out = plume_cli("users", "add", name, "--role", role, data=self.data)
        return out.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_server(tmp: Path, *extra: str, env: dict[str, str] | None = None, users: bool = True,
                 wrapper: tuple[str, ...] = (), scheme: str = "http", verify: str | bool = True) -> PlumeServer:
    """Start `plume serve` on a free port with its own data folder; wait until /health answers.

    The per-user rate limit is off unless `env` sets PLUME_RATE_LIMIT_PER_MINUTE: the suite sends
    far more requests per minute than a person would. The language tools load when a test first uses
    them unless `env` sets PLUME_WARM_UP=1: loading them at each of the suite's ~70 starts would cost
    3–10 s of CPU each. Uploads are not converted by LibreOffice unless `env` sets
    PLUME_PDF_CHECK_AT_UPLOAD=1 (a LibreOffice process of 2–5 s for each of the suite's uploads)."""
    env = {"PLUME_RATE_LIMIT_PER_MINUTE": "0", "PLUME_WARM_UP": "0", "PLUME_PDF_CHECK_AT_UPLOAD": "0", **(env or {})}
    port = free_port()
    data = tmp / "data"
    log = tmp / "server.log"
    cmd = [*wrapper, sys.executable, "-m", "plume", "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(data), *extra]
    process = subprocess.Popen(cmd, cwd=REPO, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                               env={k: v for k, v in {**os.environ, **env}.items() if v is not None})  # None: unset
    server = PlumeServer(url=f"{scheme}://127.0.0.1:{port}", data=data, process=process, log=log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"plume serve exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2, verify=verify).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        server.stop()
        raise RuntimeError(f"plume serve did not answer:\n{log.read_text()}")
    if users:
        for role in ("user", "template-owner", "admin"):
            server.tokens[role] = server.add_user(f"test-{role}", role)
    return server


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[PlumeServer]:
    """The repo's templates and the tiny model catalog (when it exists)."""
    tmp = tmp_path_factory.mktemp("plume")
    extra = ["--models", str(TINY_MODELS)] if TINY_MODELS.exists() else []
    srv = start_server(tmp, *extra)
    yield srv
    srv.stop()


def start_modelless(tmp: Path, **env: str) -> PlumeServer:
    """A server whose model catalog does not exist: every task runs on its rules alone."""
    return start_server(tmp, "--models", str(tmp / "no-catalog.toml"), env=env)


@pytest.fixture(scope="session")
def modelless_server(tmp_path_factory) -> Iterator[PlumeServer]:
    srv = start_modelless(tmp_path_factory.mktemp("modelless"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def samples() -> Path:
    """The repo's own sample texts (tests/data/samples): part of the repository, so never a skip."""
    assert SAMPLES.is_dir(), f"sample folder missing: {SAMPLES}"
    return SAMPLES


@pytest.fixture(scope="session")
def pgvector():
    """A real PostgreSQL + pgvector (tests/pgvector.py), one per session, started on first use."""
    from tests.pgvector import PgVector

    server = PgVector()
    yield server
    server.stop()


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# The only skips CI accepts: a tier turned off on purpose, or a kernel feature the machine lacks.
# Any other skip in CI (a missing file, a model that does not load) is a failure: the repository holds
# its data and scripts/test.sh installs every tool, so a skip there hides a broken setup.
SKIPS_ALLOWED_IN_CI = ("real-model tier disabled", "no mount namespace here", "nothing rendered in this session")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
        if not any(allowed in reason for allowed in SKIPS_ALLOWED_IN_CI):
            report.outcome = "failed"
            report.longrepr = f"CI: a skip that hides a missing file or tool: {reason}"


def require_tool(available: bool, package: str) -> None:
    """A Debian package a test drives for real (scripts/system-packages.sh): without it the test is
    skipped on a developer's machine, but fails in CI (CI set), where scripts/test.sh installs every
    package, so that a missing one is a broken setup and never a silent skip."""
    if available:
        return
    message = f"Debian package {package} is not installed (scripts/system-packages.sh installs it)"
    if in_ci():
        pytest.fail(f"CI: {message}", pytrace=False)
    pytest.skip(message)
