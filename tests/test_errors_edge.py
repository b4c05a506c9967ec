"""Errors mapped once, at the edge (issue 10): lower layers raise their own refusals, only `api/`
turns them into problem+json, and anything unexpected is a 500 whose error id is both in the answer
and in the log line — with no text from the request."""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import re

from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import TestClient

import plume
from plume.api.problems import EXCEPTION_HANDLERS, STATUS, as_problem
from plume.errors import Refusal
from plume.inference import errors as inference_errors
from plume.inference.errors import InputTooLong, QueueFull
from plume.security import errors as security_errors
from plume.security.errors import RateLimited, Unauthorized

LOWER_LAYERS = ("documents", "mail", "tasks", "inference", "security", "language", "ops")


def test_no_lower_layer_imports_the_api():
    root = plume.__path__[0]
    offenders = []
    for module in pkgutil.walk_packages([root], "plume."):
        if module.name.split(".")[1] not in LOWER_LAYERS:
            continue
        source = inspect.getsource(importlib.import_module(module.name))
        if re.search(r"^\s*(from plume\.api|import plume\.api)", source, re.MULTILINE):
            offenders.append(module.name)
    assert offenders == []


def test_every_refusal_has_its_status_in_the_one_table():
    refusals = [cls for module in (inference_errors, security_errors) for _, cls in inspect.getmembers(module, inspect.isclass)
                if issubclass(cls, Refusal) and cls.__module__ == module.__name__ and cls.__name__ not in (
                    "InferenceRefusal", "SecurityRefusal")]
    assert refusals and all(cls in STATUS for cls in refusals), [c.__name__ for c in refusals if c not in STATUS]


def test_refusals_keep_their_status_headers_and_fields():
    queue = as_problem(QueueFull(7))
    assert (queue.status, queue.code, queue.headers["Retry-After"], queue.extensions["retry_after"]) == (503, "queue-full", "7", 7)
    limited = as_problem(RateLimited("Trop de requêtes.", retry_after=3))
    assert (limited.status, limited.headers["Retry-After"]) == (429, "3")
    assert as_problem(Unauthorized("Jeton manquant.")).headers["WWW-Authenticate"] == 'Bearer realm="plume"'
    long = as_problem(InputTooLong("Trop long.", prompt_tokens=9000, context_length=8192))
    assert (long.status, long.extensions) == (413, {"prompt_tokens": 9000, "context_length": 8192})


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_an_unexpected_error_is_a_500_with_an_error_id_and_no_request_text():
    @get("/boom/{word:str}")
    async def boom(word: FromPath[str]) -> None:
        raise RuntimeError(f"secret {word}")

    app = Litestar([boom], exception_handlers=EXCEPTION_HANDLERS)
    lines = _Lines()
    logging.getLogger("plume").addHandler(lines)
    try:
        with TestClient(app) as client:
            response = client.get("/boom/Ferreira")
    finally:
        logging.getLogger("plume").removeHandler(lines)
    body = response.json()
    assert response.status_code == 500 and response.headers["content-type"].startswith("application/problem+json")
    assert re.fullmatch(r"[0-9a-f]{12}", body["error_id"]) and body["error_id"] in body["detail"]
    logged = "\n".join(lines.lines)
    assert f"error_id={body['error_id']}" in logged and "RuntimeError" in logged
    assert "Ferreira" not in logged and "secret" not in logged and "Ferreira" not in body["detail"]
