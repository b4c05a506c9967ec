"""Mutation fuzzing with the repo's own inputs: its letter models and the sample e-mails, damaged the
way a careless program or an attacker would (byte flips, truncations, XML edits inside the zip,
DOCTYPEs, Jinja garbage, huge attributes, dangerous entry names; header and charset garbage,
truncated MIME), posted to template upload, render, triage and acknowledge of a real server.

Bounded in count AND time, and seeded: case N is built from `Random(f"{seed}-{N}")` alone, so a
failure is replayed with PLUME_FUZZ_SEED=<seed> PLUME_FUZZ_ONLY=<N>. No answer may be a 5xx other
than 502/503, every refusal is a French problem+json, /health answers in under a second throughout
(polled from a thread), and the server's log holds neither the inputs' text nor a traceback.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import tomllib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests import zips
from tests.conftest import REPO, SAMPLES, TINY_MODELS, start_server

SEED = int(os.environ.get("PLUME_FUZZ_SEED", "20261201"))
MAX_INPUTS = int(os.environ.get("PLUME_FUZZ_INPUTS", "3000"))
MAX_SECONDS = float(os.environ.get("PLUME_FUZZ_SECONDS", "150"))
ONLY = os.environ.get("PLUME_FUZZ_ONLY")
WORKERS = 4
CANARY = "CANARI-7731"  # put in every e-mail and model: it must never reach the server's log
ENGLISH = ("Validation failed", "Internal Server Error", "Not Found", "Bad Request", "Request Entity")

MODELS = sorted((REPO / "templates").glob("*/model.docx")) + sorted((REPO / "templates").glob("*/model.odt"))
EMAILS = sorted((SAMPLES / "emails").glob("*.eml")) if (SAMPLES / "emails").is_dir() else []


@dataclass
class Case:
    index: int
    kind: str
    method: str
    route: str
    kwargs: dict
    then_render: tuple[str, dict, str] | None = None  # (template id, values, format) when accepted


@dataclass
class Outcome:
    tally: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, case: Case, response: httpx.Response, what: str = "") -> None:
        kind = f"{case.kind}{what}"
        status = response.status_code
        problem = ""
        if status >= 500 and status not in (502, 503):
            problem = f"status {status}"
        elif status >= 400:
            if not response.headers.get("content-type", "").startswith("application/problem+json"):
                problem = f"{status} without problem+json"
            else:
                detail = response.json().get("detail", "")
                if not detail or detail.startswith(ENGLISH):
                    problem = f"{status} without a French detail"
        with self.lock:
            self.tally[f"{case.route.split('/')[2]} {status}"] += 1
            if problem:
                self.failures.append(f"case {case.index} ({kind}, {case.method} {case.route}): {problem}")


# -- the repo's models, mutated ------------------------------------------------------------------

JINJA_GARBAGE = ["{{", "}}", "{%", "%}", "{#", "#}", "{{ nom", "{% if %}", "{% endif %}", "{% for x in %}",
                 "{%p if nom %}", "{%tr for x in y %}", "{{ nom|date('zzzz') }}", "{{ nom|chf }}", "{{ 1/0 }}",
                 "{{ nom.__class__ }}", "{{ ''.__class__.__mro__ }}", "{{ commune.nom|upper }}", "{{ x }",
                 "{% raw %}", "{{ nom|number(99) }}", "{{ today|date }}", "{% set a = 1 %}", "{{ '%s' % nom }}",
                 "{% macro m() %}", "{{ nom ~ nom ~ nom }}", "{{ [1,2][5] }}", "{{ none.x }}", "\u00ab{{ nom }}\u00bb"]


def _main_part(entries: list[tuple[str, bytes]]) -> int:
    names = [name for name, _ in entries]
    for wanted in ("word/document.xml", "content.xml"):
        if wanted in names:
            return names.index(wanted)
    return 0


def _xml_edit(rng: random.Random, xml: bytes) -> tuple[str, bytes]:
    how = rng.choice(["unclosed", "doctype", "doctype-late", "utf16", "jinja", "jinja", "huge-attribute",
                      "entity", "cut", "nul"])
    text = xml.decode("utf-8", "replace")
    at = rng.randrange(max(1, len(text)))
    if how == "unclosed":
        gt = [i for i, ch in enumerate(text) if ch == ">"]
        i = rng.choice(gt) if gt else 0
        text = text[:i] + text[i + 1:] if rng.random() < 0.5 else text[:at] + "<w:p><w:r>" + text[at:]
    elif how in ("doctype", "doctype-late", "utf16"):
        pad = "<!--" + "x" * 4200 + "-->" if how == "doctype-late" else ""
        head_end = text.find("?>") + 2 if text.startswith("<?xml") else 0
        text = text[:head_end] + pad + '<!DOCTYPE d [<!ENTITY e "' + CANARY + '">]>' + text[head_end:]
        if how == "utf16":
            return how, text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    elif how == "jinja":
        # Inside a text run where there is one: that is where a model's placeholders live.
        runs = [i for i in range(len(text)) if text.startswith(("<w:t>", "<w:t ", "<text:span"), i)]
        if runs:
            at = text.find(">", rng.choice(runs)) + 1
        garbage = "".join(rng.choice(JINJA_GARBAGE) for _ in range(rng.randint(1, 4)))
        text = text[:at] + garbage.replace("<", "&lt;") + text[at:]
    elif how == "huge-attribute":
        lt = [i for i in range(len(text) - 2) if text[i] == "<" and text[i + 1].isalpha()]
        i = text.find(" ", rng.choice(lt)) if lt else -1
        if i > 0:
            text = text[:i] + f' x{rng.randint(0, 99)}="{"A" * rng.choice([10_000, 1_000_000, 5_000_000])}"' + text[i:]
    elif how == "entity":
        text = text[:at] + rng.choice(["&e;", "&#0;", "&#xD800;", "&amp", "&lt;&gt;", "<![CDATA[", "]]>"]) + text[at:]
    elif how == "cut":
        text = text[:at]
    else:
        text = text[:at] + "\0" + text[at:]
    return how, text.encode("utf-8", "surrogatepass")


def _zip_edit(rng: random.Random, entries: list[tuple[str, bytes]]) -> tuple[str, list[tuple[str, bytes]]]:
    how = rng.choice(["backslash", "dotdot", "absolute", "duplicate", "drop", "bin-as-xml", "many-zeros"])
    entries = list(entries)
    if how == "backslash":
        entries.append(("..\\..\\" + CANARY, CANARY.encode()))
    elif how == "dotdot":
        entries.append(("word/../../" + CANARY + ".xml", b"<x/>"))
    elif how == "absolute":
        entries.append(("/etc/" + CANARY, b"x"))
    elif how == "duplicate":
        entries.append(rng.choice(entries))
    elif how == "drop":
        entries.pop(rng.randrange(len(entries)))
    elif how == "bin-as-xml":
        entries.append(("word/media/" + CANARY + ".xml", bytes(rng.randrange(256) for _ in range(2000))))
    else:  # many entries of zeros: the total-budget and total-ratio bomb of issue 10
        entries += [(f"word/media/z{i}.bin", b"\0" * 999_999) for i in range(rng.choice([30, 99]))]
    return how, entries


_BOMB: dict[int, bytes] = {}


def template_case(rng: random.Random, index: int, bases: list[tuple[Path, bytes, dict]]) -> Case:
    path, data, manifest = rng.choice(bases)
    template_id = f"fuzz-{index % 6}"
    how = rng.choice(["flip", "truncate", "xml", "xml", "xml", "xml", "zip", "version", "intact"])
    if how == "flip":
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            mutated[rng.randrange(len(mutated))] ^= rng.randint(1, 255)
        data = bytes(mutated)
    elif how == "truncate":
        data = data[: rng.randrange(len(data))]
    elif how == "xml":
        entries = zips.entries(data)
        target = _main_part(entries) if rng.random() < 0.7 else rng.randrange(len(entries))
        name, xml = entries[target]
        edit, xml = _xml_edit(rng, xml)
        entries[target] = (name, xml)
        how, data = f"xml-{edit}", zips.rezip(entries)
    elif how == "zip":
        edit, entries = _zip_edit(rng, zips.entries(data))
        if edit == "many-zeros":  # built once per size class: slow to make, always the same
            data = _BOMB.setdefault(len(entries), zips.rezip(entries))
        else:
            data = zips.rezip(entries)
        how = f"zip-{edit}"
    elif how == "version":  # a central directory asking for a zip version nobody implements
        mutated = bytearray(data)
        central = mutated.find(b"PK\x01\x02")
        mutated[central + 6] = rng.choice([0xFF, 0x3F, 0x64])
        data = bytes(mutated)
    toml = manifest["raw"].replace(f'id = "{manifest["id"]}"', f'id = "{template_id}"')
    files = {"file": (path.name, data, "application/octet-stream"), "manifest": ("template.toml", toml.encode())}
    render = (template_id, manifest["examples"], path.suffix.lstrip("."))
    return Case(index, f"model-{how}", "PUT", f"/v1/templates/{template_id}", {"files": files}, render)


# -- the sample e-mails, mutated ---------------------------------------------------------------

HEADER_GARBAGE = [b"To: a@[", "To: <a@b>,\u2039".encode(), b"To: ,,,<<>>@@[[", b"From: \"\\", b"From:",
                  b"From: =?utf-8?B?////?= <x@y>", b"Subject: =?utf-7?Q?+2D3-?=", b"Subject: =?klingon?Q?x?=",
                  b"Subject: =?iso-8859-1?Q?=E9=?=", b"Cc: =?utf-8?q?=FF?= <@>", b"Date: 99 Foo 2026",
                  b"Date: Mon, 99 Foo 99999 99:99", b"Message-ID: <<<", b"Reply-To: a@[", b"To: " + b"a" * 5000,
                  b"Content-Type: multipart/mixed; boundary=", b"Content-Type: multipart/alternative",
                  b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: x-uuencode",
                  b"Content-Disposition: attachment; filename*=klingon''%ff", b"Subject: \xff\xfe\x00" + CANARY.encode(),
                  b"From: \xe9\xe8 <\xff@\xfe>", b"X-\xff: \xff", b"To: \"a@b\" <a@b>, <c@[d]>, =?utf-8?q?=E2=80?= <e@f>"]
CHARSETS = [b"utf-7", b"klingon", b"utf-16", b"utf-32", b"", b"\"utf-8", b"iso-2022-jp", b"x-unknown", b"cp1252",
            b"utf-8'fr'", b"ascii", b"latin-1;charset=utf-7"]


def email_case(rng: random.Random, index: int, emails: list[bytes]) -> Case:
    raw = rng.choice(emails).replace(b"\n\n", f"\n\n{CANARY} ".encode(), 1)
    head, _, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    how = rng.choice(["headers", "headers", "charset", "charset", "mime", "truncate", "flip", "body-bytes"])
    if how == "headers":
        for _ in range(rng.randint(1, 4)):
            garbage = rng.choice(HEADER_GARBAGE)
            name = garbage.split(b":")[0]
            lines = [line for line in lines if not line.startswith(name + b":")] if rng.random() < 0.7 else lines
            lines.insert(rng.randint(0, len(lines)), garbage)
    elif how == "charset":
        lines = [line for line in lines if not line.lower().startswith(b"content-type")]
        lines.append(b"Content-Type: text/" + rng.choice([b"plain", b"html"]) + b"; charset=\"" + rng.choice(CHARSETS) + b"\"")
        if rng.random() < 0.5:
            body = body.decode("utf-8", "replace").encode(rng.choice(["utf-7", "utf-16", "latin-1"]), "replace")
        body += b"+2D3- +AGE- \xff\xfe\x00"
    elif how == "mime":
        lines = [line for line in lines if not line.lower().startswith(b"content-")]
        boundary = rng.choice([b"b", b"", b"\xff", b"=?x?="])
        lines.append(b'Content-Type: multipart/mixed; boundary="' + boundary + b'"')
        parts = [b"--" + boundary + b"\nContent-Type: text/plain; charset=" + rng.choice(CHARSETS) + b"\n"
                 + rng.choice([b"Content-Transfer-Encoding: base64\n", b"Content-Transfer-Encoding: quoted-printable\n", b""])
                 + b"\n" + body[: rng.randrange(len(body) + 1)] + b"=\xff=ZZ",
                 b"--" + boundary + b"\nContent-Type: message/rfc822\n\nFrom: a@[\n\nx",
                 b"--" + boundary + b"\nContent-Disposition: attachment; filename=\"\xff.zip\"\n\nUEsDB"]
        body = b"\n".join(rng.sample(parts, rng.randint(1, 3))) + rng.choice([b"", b"\n--" + boundary + b"--"])
    elif how == "body-bytes":
        body = bytes(rng.randrange(256) for _ in range(rng.randint(1, 3000)))
    raw = b"\n".join(lines) + b"\n\n" + body
    if how == "truncate":
        raw = raw[: rng.randrange(len(raw))]
    elif how == "flip":
        mutated = bytearray(raw)
        for _ in range(rng.randint(1, 30)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        raw = bytes(mutated)
    decoding = rng.choice(["latin-1"] * 4 + ["replace"] * 4 + ["surrogates"])
    if decoding == "surrogates":  # what a careless client sends: undecodable bytes as lone surrogates
        eml = raw.decode("utf-8", "surrogateescape") + rng.choice(["\ud800", "\udfff", "\ud83d", ""])
    else:
        eml = raw.decode("latin-1") if decoding == "latin-1" else raw.decode("utf-8", "replace")
    route = rng.choice(["/v1/mail/triage", "/v1/mail/triage", "/v1/mail/acknowledge"])
    body_json: dict = {"eml": eml, "engine": "auto" if rng.random() < 0.05 else "rules"}
    if route.endswith("acknowledge") and rng.random() < 0.2:
        body_json["format"] = rng.choice(["docx", "odt"])
    # json.dumps escapes lone surrogates as \udXXX: the server's JSON decoder meets them as such.
    content = json.dumps(body_json).encode("ascii")
    return Case(index, f"mail-{how}", "POST", route, {"content": content,
                                                       "headers": {"Content-Type": "application/json"}})


# -- the run -----------------------------------------------------------------------------------

def build_case(index: int, bases, emails) -> Case:
    rng = random.Random(f"{SEED}-{index}")
    if rng.random() < 0.35:
        return template_case(rng, index, bases)
    return email_case(rng, index, emails)


# Polls /health from its own process: the fuzzer's threads must not delay the measurement (GIL).
POLLER = """
import json, sys, threading, time, httpx
done, worst, worst_at, polls = threading.Event(), 0.0, 0.0, 0
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
with httpx.Client(timeout=10) as client:
    while not done.wait(0.2):
        started = time.time()
        try:
            ok = client.get(sys.argv[1] + "/health").status_code == 200
        except httpx.HTTPError:
            ok = False
        elapsed = time.time() - started if ok else 1e9
        if elapsed > worst:
            worst, worst_at = elapsed, started
        polls += 1
print(json.dumps({"worst": worst, "worst_at": worst_at, "polls": polls}))
"""


class HealthWatch:
    """Polls /health all along, in a separate process; `worst` is the slowest answer (a failed poll
    counts as 1e9 s), `worst_at` when it began (time.time())."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", POLLER, url], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.worst = self.worst_at = 0.0
        self.polls = 0

    def stop(self) -> None:
        out, _ = self.process.communicate("", timeout=30)
        result = json.loads(out)
        self.worst, self.worst_at, self.polls = result["worst"], result["worst_at"], result["polls"]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    extra = ["--models", str(TINY_MODELS)] if TINY_MODELS.exists() else []
    srv = start_server(tmp_path_factory.mktemp("fuzz-inputs"), *extra)
    yield srv
    srv.stop()


def _bases() -> list[tuple[Path, bytes, dict]]:
    bases = []
    for path in MODELS:
        raw = (path.parent / "template.toml").read_text(encoding="utf-8")
        manifest = tomllib.loads(raw)
        examples = {f["name"]: f["example"] for f in manifest.get("fields", []) if "example" in f}
        bases.append((path, path.read_bytes(), {"raw": raw, "id": manifest["id"], "examples": examples}))
    return bases


def test_mutated_models_and_emails_never_get_a_server_error(fuzz_server):
    if not MODELS or not EMAILS:
        pytest.skip("templates or sample e-mails missing")
    bases, emails = _bases(), [p.read_bytes() for p in EMAILS]
    outcome = Outcome()
    owner_token = fuzz_server.tokens["template-owner"]
    deadline = time.monotonic() + MAX_SECONDS
    indices = [int(ONLY)] if ONLY else range(MAX_INPUTS)
    sent = Counter()
    spans: list[tuple[float, float, str]] = []  # (start, end, case): what was in flight when /health was slow
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=fuzz_server.url, timeout=60,
                                        headers={"Authorization": f"Bearer {owner_token}"})
        return local.client

    def run(index: int) -> None:
        if time.monotonic() > deadline:
            return
        case = build_case(index, bases, emails)
        began = time.time()
        response = client().request(case.method, case.route, **case.kwargs)
        spans.append((began, time.time(), f"{case.index} {case.kind}"))
        outcome.record(case, response)
        sent[case.kind.split("-")[0]] += 1
        if response.status_code == 201 and case.then_render:
            template_id, values, fmt = case.then_render
            rendered = client().post(f"/v1/templates/{template_id}/render", json={"values": values, "format": fmt})
            outcome.record(case, rendered, " then render")
            sent["render"] += 1

    watch = HealthWatch(fuzz_server.url)
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(run, indices))
    finally:
        watch.stop()
    elapsed = time.monotonic() - started
    total = sum(sent.values())
    log = fuzz_server.log.read_text(encoding="utf-8", errors="replace")
    print(f"\nfuzz-inputs seed {SEED}: {total} requests in {elapsed:.0f} s ({dict(sent)}); "
          f"/health worst {watch.worst * 1000:.0f} ms over {watch.polls} polls; "
          + ", ".join(f"{k}: {v}" for k, v in sorted(outcome.tally.items())))
    in_flight = [what for start, end, what in spans if start <= watch.worst_at + watch.worst and end >= watch.worst_at]
    slow = [] if watch.worst < 1.0 else [f"/health took {watch.worst:.2f} s, while: {', '.join(in_flight)}"]
    assert not outcome.failures + slow, "\n".join(slow + outcome.failures[:30])
    assert CANARY not in log and "Traceback" not in log and "Duplicate name" not in log
    if not ONLY:
        # A floor, not the goal: an idle 2-core machine sends all 3,000 cases (~3,050 requests) in
        # ~70 s; a loaded one ~16 requests/s. Fewer than 1,500 means the fuzzer lost its reach.
        assert total >= min(MAX_INPUTS, 1500), f"only {total} inputs in {MAX_SECONDS} s"
