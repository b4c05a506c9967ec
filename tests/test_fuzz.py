"""Fuzzing: generated bad inputs against the real server. None may crash it or get a 5xx; every
refusal is a problem+json with a French `detail`. Counts are printed (pytest -s) and kept in
docs/security.md.

Two sources: hypothesis strategies aimed at each input family below, and schemathesis generating
requests from the server's own OpenAPI schema."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO

TALLY: Counter = Counter()
FUZZ_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
TEMPLATE = "attestation-domicile"
ENGLISH_DEFAULTS = ("Validation failed", "Internal Server Error", "Not Found", "Bad Request", "Request Entity",
                    "Method Not Allowed", "Unsupported", "Expected", "Object missing")
HUGE_BODY = json.dumps({"text": "a" * 21 * 1024 * 1024}).encode()


def _check(response: httpx.Response, family: str) -> None:
    TALLY[family] += 1
    TALLY["status 503" if response.status_code == 503 else f"status {response.status_code // 100}xx"] += 1
    # 503 is the one server-side answer allowed: no model for this task, or the queue is full.
    assert response.status_code < 500 or response.status_code == 503, f"{family}: {response.status_code}"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), response.text[:200]
        detail = response.json()["detail"]
        assert detail and not any(detail.startswith(english) for english in ENGLISH_DEFAULTS), detail


@pytest.fixture(scope="module")
def client(server):
    with server.client("template-owner", timeout=60) as c:
        yield c


# -- documents: corrupted, truncated, bombs, entities -------------------------------------
def _real_docx() -> bytes:
    models = sorted((REPO / "templates").glob("*/model.docx"))
    return models[0].read_bytes() if models else _zip({"word/document.xml": b"<w:document/>"})


def _zip(files: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


ENTITY_BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
               + b"".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">'.encode() for i in range(9))
               + b']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol8;</w:t></w:r></w:p></w:body></w:document>')
EXTERNAL_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                   b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>')


@st.composite
def bad_documents(draw) -> tuple[str, bytes, str]:
    real = _real_docx()
    kind = draw(st.sampled_from(["random", "truncated", "flipped", "bomb-ratio", "bomb-entries", "entities",
                                 "external", "wrong-type", "empty"]))
    if kind == "random":
        data = draw(st.binary(max_size=4096))
    elif kind == "truncated":
        data = real[: draw(st.integers(0, max(0, len(real) - 1)))]
    elif kind == "flipped":
        data = bytearray(real)
        for _ in range(draw(st.integers(1, 20))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= draw(st.integers(1, 255))
        data = bytes(data)
    elif kind == "bomb-ratio":
        data = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<" + b"a" * (150 * 1024 * 1024) + b">"})
    elif kind == "bomb-entries":
        data = _zip({f"word/x{i}.xml": b"" for i in range(draw(st.integers(2100, 3000)))}, zipfile.ZIP_STORED)
    elif kind == "entities":
        data = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": ENTITY_BOMB})
    elif kind == "external":
        data = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": EXTERNAL_ENTITY})
    elif kind == "wrong-type":
        data = b"%PDF-1.4 " + draw(st.binary(max_size=200))
    else:
        data = b""
    name = draw(st.sampled_from(["model.docx", "model.odt", "model.pdf", "model", "../../etc/passwd.docx"]))
    return name, data, kind


_BOMBS = {}


@FUZZ_SETTINGS
@given(bad_documents())
def test_fuzz_template_upload(client, document):
    name, data, kind = document
    if kind.startswith("bomb"):  # build each bomb once: they are slow to make and always refused
        data = _BOMBS.setdefault(kind, data)
    response = client.put(f"/v1/templates/{TEMPLATE}", files={"file": (name, data, "application/octet-stream")})
    _check(response, "upload")
    assert response.status_code >= 400, f"a bad document ({kind}) was accepted"


# -- JSON bodies: wrong types, huge fields, unknown fields, deep nesting, invalid UTF-8 ----
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=200),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=20,
)


@st.composite
def raw_bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["json", "nested", "utf8", "huge", "garbage"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "nested":
        depth = draw(st.integers(500, 5000))
        return b"[" * depth + b"]" * depth
    if kind == "utf8":
        return b'{"text": "' + draw(st.binary(min_size=1, max_size=100)).replace(b'"', b"") + b'\xff\xfe"}'
    if kind == "huge":
        return HUGE_BODY
    return draw(st.binary(max_size=2000))


ROUTES_WITH_BODY = [f"/v1/templates/{TEMPLATE}/render", f"/v1/templates/{TEMPLATE}/extract", "/v1/mail/triage",
                    "/v1/chat/completions", "/v1/text/plain-language", "/v1/text/translate"]


@FUZZ_SETTINGS
@given(route=st.sampled_from(ROUTES_WITH_BODY), body=raw_bodies())
def test_fuzz_raw_bodies(client, route, body):
    response = client.post(route, content=body, headers={"Content-Type": "application/json"})
    _check(response, "raw-body")


@FUZZ_SETTINGS
@given(values=st.dictionaries(st.sampled_from(["nom", "prenom", "date_naissance", "domicile_depuis", "civilite",
                                               "motif", "inconnu", "adresse"]), json_values, max_size=8),
       fmt=st.sampled_from(["docx", "odt", "rtf", "", None, 3]))
def test_fuzz_render_values(client, values, fmt):
    response = client.post(f"/v1/templates/{TEMPLATE}/render", json={"values": values, "format": fmt})
    _check(response, "render")


@FUZZ_SETTINGS
@given(messages=st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "system", "assistant", "tool", ""]),
                                                "content": st.text(max_size=300) | st.none() | st.integers()}),
                         max_size=4),
       max_tokens=st.integers(-10, 100_000) | st.none(), temperature=st.floats(-5, 5) | st.none())
def test_fuzz_chat(client, messages, max_tokens, temperature):
    body = {"model": "tiny-llm", "messages": messages, "max_tokens": max_tokens, "temperature": temperature}
    response = client.post("/v1/chat/completions", json={k: v for k, v in body.items() if v is not None})
    _check(response, "chat")


@st.composite
def malformed_emails(draw) -> str:
    headers = draw(st.lists(st.sampled_from([
        "From: =?utf-8?B?////?= <x@y>", "Subject: =?iso-8859-1?Q?=E9=?=", "Content-Type: multipart/mixed; boundary=",
        "Content-Transfer-Encoding: base64", "Date: 99 Foo 2026", "From:", "Content-Type: text/html; charset=klingon",
        "MIME-Version: 1.0", "To: " + "a" * 5000]), max_size=6))
    body = draw(st.text(max_size=2000))
    return "\r\n".join(headers) + "\r\n\r\n" + body


@FUZZ_SETTINGS
@given(eml=malformed_emails())
def test_fuzz_triage_emails(client, eml):
    _check(client.post("/v1/mail/triage", json={"eml": eml}), "triage")
    _check(client.post("/v1/templates/" + TEMPLATE + "/extract", json={"text": eml}), "extract")


def test_fuzz_report(capsys):
    total = sum(v for k, v in TALLY.items() if not k.startswith("status"))
    with capsys.disabled():
        print(f"\nfuzz: {total} generated bad inputs — " + ", ".join(f"{k}: {v}" for k, v in sorted(TALLY.items())))
    assert total >= 1000
    assert TALLY["status 5xx"] == 0
