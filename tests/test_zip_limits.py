"""Zip and XML limits that hold by construction (issue 10), through the real server: the total
inflated size and ratio over all entries, safe entry names, one entry per name, any zip error a 4xx,
DOCTYPE refused in any encoding and at any offset; and memory that returns to its level after
large uploads (RSS of the server process, from /proc)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from plume.security.safezip import (DocumentTooLarge, UnsafeDocument, ZipLimits, is_safe_name, parse_xml,
                                    read_package)
from tests import zips
from tests.conftest import REPO, start_modelless

MODEL = REPO / "templates" / "attestation-domicile" / "model.docx"
MANIFEST = (REPO / "templates" / "attestation-domicile" / "template.toml").read_text(encoding="utf-8")
W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _edit(name: str, change) -> bytes:
    return zips.rezip([(n, change(d) if n == name else d) for n, d in zips.entries(MODEL.read_bytes())])


def zero_bomb(count: int = 99) -> bytes:
    """The bomb of issue 10: 99 entries of 999,999 zero bytes (~109 kB zipped, ~99 MB inflated)."""
    return zips.rezip(zips.entries(MODEL.read_bytes()) + [(f"word/media/z{i}.bin", b"\0" * 999_999) for i in range(count)])


def padded_bomb() -> bytes:
    """The same zeros with enough random bytes to stay under the ratio: only the budget can stop it."""
    noise = random.Random(10).randbytes(600_000)
    return zips.rezip(zips.entries(MODEL.read_bytes()) + [("word/media/noise.bin", noise)]
                + [(f"word/media/z{i}.bin", b"\0" * 999_999) for i in range(99)])


# -- the library, directly ----------------------------------------------------------------------

def test_ratio_and_budget_apply_to_all_entries_together():
    with pytest.raises(UnsafeDocument, match="taux de compression"):
        read_package(zero_bomb())
    with pytest.raises(DocumentTooLarge):
        read_package(padded_bomb(), ZipLimits(max_inflated_bytes=50 * 1024 * 1024))
    assert "word/document.xml" in read_package(MODEL.read_bytes()).entries


def test_declared_sizes_are_not_trusted():
    # A central directory that claims 1 kB per entry: inflating stops at the budget all the same.
    data = bytearray(zips.rezip([("a.bin", os.urandom(200_000)), ("b.bin", os.urandom(200_000))]))
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        data[at + 24:at + 28] = (1000).to_bytes(4, "little")  # uncompressed size in the central directory
        at += 4
    with pytest.raises(UnsafeDocument):
        read_package(bytes(data), ZipLimits(max_inflated_bytes=300_000))


@pytest.mark.parametrize("name", ["..\\..\\x", "/etc/passwd", "a/../../b", "C:/x", "a//b", "./a", "a\0b", "a\\b"])
def test_escaping_entry_names_are_refused(name):
    assert not is_safe_name(name)
    if "\0" in name:
        return  # the zip module itself cuts a name at NUL on reading
    with pytest.raises(UnsafeDocument, match="chemin interne"):
        read_package(zips.rezip(zips.entries(MODEL.read_bytes()) + [(name, b"x")]))


def test_safe_names_pass():
    assert all(is_safe_name(n) for n in ["[Content_Types].xml", "word/_rels/document.xml.rels", "Pictures/", "mimetype"])


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_duplicate_names_are_refused_even_by_case():
    entries = zips.entries(MODEL.read_bytes())
    for duplicate in ("word/styles.xml", "WORD/Styles.xml"):
        with pytest.raises(UnsafeDocument, match="même nom"):
            read_package(zips.rezip(entries + [(duplicate, b"<x/>")]))


@pytest.mark.parametrize("xml", [
    b'<?xml version="1.0"?><!--' + b"x" * 5000 + b'--><!DOCTYPE d [<!ENTITY e "x">]><w:document ' + W + b"/>",
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>'.encode("utf-16"),
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d SYSTEM "file:///etc/passwd"><d/>'.encode("utf-16"),
    '<?xml version="1.0" encoding="UTF-16BE"?><!DOCTYPE d><d/>'.encode("utf-16-be"),
    b'<?xml version="1.0" encoding="ISO-8859-1"?>\n\n<!DoCtYpE d [<!ENTITY e "x">]><d/>',
])
def test_doctype_is_refused_in_any_encoding_and_position(xml):
    with pytest.raises(UnsafeDocument, match="DOCTYPE"):
        parse_xml(xml)


def test_a_zip_module_error_is_a_refusal():
    data = bytearray(MODEL.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 6] = 0xFF  # "version needed to extract": 25.5
    with pytest.raises(UnsafeDocument):
        read_package(bytes(data))


# -- through the real server ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    server = start_modelless(tmp_path_factory.mktemp("ziplimits"))
    yield server
    server.stop()


def _put(client, data: bytes, template_id: str = "zip-essai", name: str = "model.docx"):
    manifest = MANIFEST.replace('id = "attestation-domicile"', f'id = "{template_id}"')
    return client.put(f"/v1/templates/{template_id}", files={"file": (name, data, "application/octet-stream"),
                                                             "manifest": ("template.toml", manifest.encode())})


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_server_refuses_each_case_with_a_french_4xx(srv):
    version_ff = bytearray(MODEL.read_bytes())
    version_ff[version_ff.find(b"PK\x01\x02") + 6] = 0xFF
    late_doctype = _edit("word/document.xml", lambda d: d.replace(
        b"?>", b"?><!--" + b"x" * 4100 + b'--><!DOCTYPE w [<!ENTITY a "b">]>', 1))
    utf16 = _edit("word/document.xml", lambda d: d.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').replace(
        "?>", '?><!DOCTYPE w [<!ENTITY a "b">]>', 1).encode("utf-16"))
    cases = {
        "zero bomb": (zero_bomb(), "taux de compression"),
        "version 0xFF": (bytes(version_ff), "archive zip illisible"),
        "backslash name": (zips.rezip(zips.entries(MODEL.read_bytes()) + [("..\\..\\x", b"hello")]), "chemin interne"),
        "duplicate name": (zips.rezip(zips.entries(MODEL.read_bytes()) + [("word/styles.xml", b"<x/>")]), "même nom"),
        "late doctype": (late_doctype, "DOCTYPE"),
        "utf-16 doctype": (utf16, "DOCTYPE"),
    }
    with srv.client("template-owner") as client:
        for what, (data, words) in cases.items():
            response = _put(client, data)
            assert 400 <= response.status_code < 500, (what, response.status_code)
            assert response.headers["content-type"].startswith("application/problem+json"), what
            assert words in response.json()["detail"], (what, response.json()["detail"])
        # An image declared as a templated part never reaches the XML parser as text.
        image_as_header = _edit("[Content_Types].xml", lambda d: d.replace(
            b"</Types>", b'<Override PartName="/docProps/thumbnail.jpeg" ContentType="application/vnd.'
                         b'openxmlformats-officedocument.wordprocessingml.header+xml"/></Types>'))
        assert _put(client, image_as_header).status_code == 201
    log = srv.log.read_text(encoding="utf-8", errors="replace")
    assert "Duplicate name" not in log and "styles.xml" not in log and "Traceback" not in log


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_memory_returns_to_its_level_after_large_uploads(srv):
    """20 large uploads (the zero bomb, refused, and the padded bomb, inflated to ~99 MB and then
    refused or stored): the server's RSS comes back within 10 % (+ 16 MiB for the allocator)."""
    bombs = [zero_bomb(), padded_bomb()]
    with srv.client("template-owner") as client:
        for data in bombs:  # warm-up: the first use of lxml, docxtpl and the lint loads code once
            _put(client, data, "zip-memoire")
        before = _rss_kib(srv.process.pid)
        # A new template each time: what a stored template keeps must be its compressed bytes, not 99 MB.
        statuses = [_put(client, bombs[i % 2], f"zip-memoire-{i}").status_code for i in range(20)]
        after = _rss_kib(srv.process.pid)
    print(f"\nRSS before {before // 1024} MiB, after 20 large uploads {after // 1024} MiB; statuses {sorted(set(statuses))}")
    assert all(status < 500 for status in statuses)
    assert after <= before * 1.10 + 16 * 1024, f"RSS {before} KiB -> {after} KiB"
