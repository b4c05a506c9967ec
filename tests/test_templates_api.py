"""The template routes over real HTTP: list, fields, render every letter in both formats, bad values,
uploads (versions kept, bad files refused, roles), PDF and LibreOffice opening every rendered file."""

from __future__ import annotations

import hashlib
import io
import shutil
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
from plume.documents.formatting import format_chf, format_date, format_number

from tests.conftest import REPO, start_server
from tests.soffice import convert, require_soffice
from tests.fixtures.documents.reading import all_text, paragraphs

FIXTURES = REPO / "tests" / "fixtures" / "documents" / "templates"
REPO_TEMPLATES = sorted(p.parent.name for p in (REPO / "templates").glob("*/template.toml"))
RENDERED: dict[str, bytes] = {}  # every file rendered here, opened by LibreOffice at the end


def examples(folder: Path) -> tuple[dict, list[dict]]:
    manifest = tomllib.loads((folder / "template.toml").read_text(encoding="utf-8"))
    fields = manifest.get("fields", [])
    return {f["name"]: f["example"] for f in fields if "example" in f}, fields


def expected_strings(fields: list[dict], values: dict) -> list[tuple[str, list[str]]]:
    """For each printed value: the forms it may take in the letter (dates long or short)."""
    wanted = []
    for field in fields:
        value = values.get(field["name"])
        if value in (None, "", []):
            continue
        kind = field.get("type", "text")
        if kind == "text":
            wanted += [(field["name"], [line]) for line in str(value).splitlines() if line.strip()]
        elif kind == "date":
            wanted.append((field["name"], [format_date(value), format_date(value, "short")]))
        elif kind == "money":
            wanted.append((field["name"], [format_chf(value)]))
        elif kind == "list" and not field.get("columns"):
            wanted += [(field["name"], [item]) for item in value]
        elif kind == "list":
            for row in value:
                for column in field["columns"]:
                    cell = row.get(column["name"])
                    if cell in (None, ""):
                        continue
                    kind = column.get("type", "text")
                    forms = ([format_chf(cell)] if kind == "money" else
                             [format_number(cell), str(cell)] if kind == "number" else
                             [format_date(cell), format_date(cell, "short")] if kind == "date" else [str(cell)])
                    wanted.append((f"{field['name']}.{column['name']}", forms))
    return wanted


def render(client, template_id: str, values: dict, fmt: str):
    return client.post(f"/v1/templates/{template_id}/render", json={"values": values, "format": fmt})


@pytest.fixture(scope="module")
def fixture_server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("plume-fixtures"), "--templates", str(FIXTURES))
    yield srv
    srv.stop()


# -- access and listing ------------------------------------------------------------------------

def test_without_token_is_refused(server):
    response = server.client(None).get("/v1/templates")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_list_and_fields(server):
    listing = server.client().get("/v1/templates").json()
    assert {t["id"] for t in listing} >= set(REPO_TEMPLATES) and len(REPO_TEMPLATES) >= 6
    for item in listing:
        assert {"id", "title", "category", "service", "description", "formats"} <= item.keys()
        assert {"docx", "odt"} <= set(item["formats"])
    detail = server.client().get(f"/v1/templates/{REPO_TEMPLATES[0]}").json()
    assert detail["id"] == REPO_TEMPLATES[0] and detail["fields"]
    for field in detail["fields"]:
        assert {"name", "label", "type", "required", "help", "example", "choices", "columns"} <= field.keys()


def test_unknown_template_and_format(server):
    client = server.client()
    missing = render(client, "nexiste-pas", {}, "docx")
    assert missing.status_code == 404 and "nexiste-pas" in missing.json()["detail"]
    assert client.get("/v1/templates/nexiste-pas").status_code == 404
    bad_format = render(client, REPO_TEMPLATES[0], {}, "rtf")
    assert bad_format.status_code == 422


# -- every letter of the library ---------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["docx", "odt"])
@pytest.mark.parametrize("template_id", REPO_TEMPLATES)
def test_every_repo_template_renders_with_its_examples(server, template_id, fmt):
    values, fields = examples(REPO / "templates" / template_id)
    response = render(server.client(), template_id, values, fmt)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats" if fmt == "docx" else "application/vnd.oasis.opendocument.text")
    assert f".{fmt}" in response.headers["content-disposition"]
    RENDERED[f"{template_id}.{fmt}"] = response.content
    text = all_text(response.content, fmt)
    assert "{{" not in text and "{%" not in text and "{#" not in text
    missing = [name for name, forms in expected_strings(fields, values) if not any(f in text for f in forms)]
    assert not missing, f"values not found in {template_id}.{fmt}: {missing}"


# -- the engine's features, on the fixture models ----------------------------------------------

FIXTURE_CASES = [("lettre-test", "docx"), ("lettre-test", "odt"), ("lettre-lo", "docx"), ("lettre-lo", "odt")]


@pytest.mark.parametrize(("template_id", "fmt"), FIXTURE_CASES)
def test_fixture_letter_features(fixture_server, template_id, fmt):
    values, _ = examples(FIXTURES / template_id)
    response = render(fixture_server.client(), template_id, values, fmt)
    assert response.status_code == 200, response.text
    RENDERED[f"fixture-{template_id}.{fmt}"] = response.content
    parts = paragraphs(response.content, fmt)
    body = parts["word/document.xml" if fmt == "docx" else "content.xml"]
    everything = [t for texts in parts.values() for t in texts]
    joined = "\n".join(everything)
    assert "{" not in joined
    # a placeholder split across runs/spans, then a bold one
    assert "Nom : Anaïs Müller-Dupont" in body
    # header and footer (styles.xml holds them in .odt)
    assert any("Ville du Locle — Réf. REF-2026-417" in t for t in everything if t not in body)
    assert any("2400 Le Locle" in t for t in everything if t not in body)
    # typed values: long and short date, amount
    assert "Décision du 25 novembre 2026 (25.11.2026), montant CHF 1'234.50." in body
    # table rows repeated, marker rows gone, total
    assert body.count("Émolument administratif") == 1 and "CHF 20.00" in body and "CHF 5.50" in body
    assert "Total : CHF 25.50" in body
    # condition and loop
    assert "Cette affaire est urgente." in body
    assert body.index("– Plan de situation") < body.index("– Copie du règlement")
    # newline in a value → line break in the same paragraph; XML characters escaped
    assert "Motif : Première ligne\nDeuxième ligne" in body
    assert "Remarque : Tom & Jerry <SA>" in body
    # control characters XML cannot hold are dropped, not left to break the file
    values["remarque"] = "a\x00b\x0bc\r\nd"
    text = all_text(render(fixture_server.client(), template_id, values, fmt).content, fmt)
    assert "Remarque : abc\nd" in text
    if (template_id, fmt) in (("lettre-test", "odt"), ("lettre-lo", "docx")):  # the models with a text box
        assert any("Encadré : décision du 25 novembre 2026" in t for t in everything)


@pytest.mark.parametrize(("template_id", "fmt"), FIXTURE_CASES)
def test_condition_false_and_empty_loop(fixture_server, template_id, fmt):
    values, _ = examples(FIXTURES / template_id)
    values.update(urgent=False, annexes=[], frais=[])
    response = render(fixture_server.client(), template_id, values, fmt)
    assert response.status_code == 200, response.text
    text = all_text(response.content, fmt)
    assert "urgente" not in text and "Plan de situation" not in text and "Frais de port" not in text
    assert "Total : CHF 0.00" in text


@pytest.mark.parametrize(("template_id", "fmt"), [("lettre-test", "docx"), ("lettre-test", "odt"), ("lettre-lo", "odt")])
def test_placeholder_formatting_is_kept(fixture_server, template_id, fmt):
    values, _ = examples(FIXTURES / template_id)
    content = render(fixture_server.client(), template_id, values, fmt).content
    archive = zipfile.ZipFile(io.BytesIO(content))
    if fmt == "docx":
        import docx

        paragraph = next(p for p in docx.Document(io.BytesIO(content)).paragraphs if p.text.startswith("Nom :"))
        bold_runs = [r.text for r in paragraph.runs if r.bold]
        assert "Müller-Dupont" in bold_runs
    else:
        from lxml import etree

        root = etree.fromstring(archive.read("content.xml"))
        ns = {"text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
              "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
              "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"}
        bold_styles = {s.get(f"{{{ns['style']}}}name") for s in root.iterfind(".//style:style", ns)
                       if s.find("style:text-properties[@fo:font-weight='bold']", ns) is not None}
        spans = [s for s in root.iterfind(".//text:span", ns) if (s.text or "").strip() == "Müller-Dupont"]
        assert any(s.get(f"{{{ns['text']}}}style-name") in bold_styles for s in spans)


def test_content_disposition_has_ascii_and_utf8_names(fixture_server):
    values, _ = examples(FIXTURES / "lettre-test")
    response = render(fixture_server.client(), "lettre-test", values, "odt")
    disposition = response.headers["content-disposition"]
    assert 'filename="lettre-REF-2026-417-Muller-Dupont.odt"' in disposition
    assert "filename*=UTF-8''lettre-REF-2026-417-M%C3%BCller-Dupont.odt" in disposition


# -- bad values: 422 naming the field, nothing echoed ------------------------------------------

BAD_VALUES = [
    ("missing", {"nom": None}, "nom", "obligatoire"),
    ("not-a-date", {"date_decision": "SECRET-32.13.2026"}, "date_decision", "date"),
    ("unknown", {"champ_inconnu": "SECRET"}, "champ_inconnu", "inconnu"),
    ("bad-choice", {"civilite": "SECRET-Docteur"}, "civilite", "choisir"),
    ("not-money", {"montant": "SECRET-beaucoup"}, "montant", "montant"),
    ("not-bool", {"urgent": "SECRET-peut-être"}, "urgent", "oui ou non"),
    ("bad-row", {"frais": [{"libelle": "x", "montant": "SECRET"}]}, "frais[1].montant", "montant"),
    ("not-a-list", {"annexes": "SECRET"}, "annexes", "liste"),
    ("not-text", {"nom": {"SECRET": 1}}, "nom", "texte"),
]


@pytest.mark.parametrize(("case", "change", "field", "word"), BAD_VALUES, ids=[c[0] for c in BAD_VALUES])
def test_bad_values_get_a_422_naming_the_field(fixture_server, case, change, field, word):
    values, _ = examples(FIXTURES / "lettre-test")
    values.update(change)
    values = {k: v for k, v in values.items() if v is not None}
    response = render(fixture_server.client(), "lettre-test", values, "docx")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == [field]
    assert word in problem["errors"][0]["message"].lower() and field.split("[")[0] in problem["detail"]
    assert "SECRET" not in response.text


def test_values_not_an_object_and_malformed_body(fixture_server):
    client = fixture_server.client()
    assert client.post("/v1/templates/lettre-test/render", json={"values": [1, 2], "format": "docx"}).status_code == 422
    response = client.post("/v1/templates/lettre-test/render", content=b"{pas du json",
                           headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500


# -- uploads -----------------------------------------------------------------------------------

def _with_header_text(model: Path, new_text: str) -> bytes:
    """The fixture .odt with its header's literal text changed (placeholders unchanged)."""
    source = io.BytesIO(model.read_bytes())
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "styles.xml":
                data = data.replace("— Réf.".encode(), f"— {new_text} Réf.".encode())
            zout.writestr(info, data)
    return out.getvalue()


def _upload(client, template_id: str, name: str, data: bytes, manifest: bytes | None = None):
    files = {"file": (name, data, "application/octet-stream")}
    if manifest is not None:
        files["manifest"] = ("template.toml", manifest, "application/toml")
    return client.put(f"/v1/templates/{template_id}", files=files)


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_upload_requires_template_owner(fixture_server):
    data = (FIXTURES / "lettre-test" / "model.odt").read_bytes()
    assert _upload(fixture_server.client("user"), "lettre-test", "model.odt", data).status_code == 403
    assert _upload(fixture_server.client(None), "lettre-test", "model.odt", data).status_code == 401


def test_upload_keeps_versions_and_refuses_bad_files(tmp_path):
    srv = start_server(tmp_path, "--templates", str(FIXTURES))
    try:
        owner = srv.client("template-owner")
        values, _ = examples(FIXTURES / "lettre-test")
        model = FIXTURES / "lettre-test" / "model.odt"

        first = _upload(owner, "lettre-test", "model.odt", _with_header_text(model, "VERSION-UN"))
        assert first.status_code == 201, first.text
        assert first.json()["revision"] == 1
        v1 = srv.data / "templates" / "lettre-test" / "v1"
        v1_hash = hashlib.sha256((v1 / "model.odt").read_bytes()).hexdigest()
        assert "VERSION-UN" in all_text(render(owner, "lettre-test", values, "odt").content, "odt")
        assert (v1 / "model.docx").exists()  # a version is a full snapshot

        manifest = (FIXTURES / "lettre-test" / "template.toml").read_text(encoding="utf-8")
        undeclared = _with_header_text(model, "{{ champ_fantome }}")
        bomb = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"\0" * 30_000_000})
        with zipfile.ZipFile(io.BytesIO(model.read_bytes())) as zin:
            entries = {i.filename: zin.read(i.filename) for i in zin.infolist()}
        entries["content.xml"] = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
                                  b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>')
        entity_bomb = _zip(entries)
        refused = {
            "lint error": _upload(owner, "lettre-test", "model.odt", undeclared),
            "zip bomb": _upload(owner, "lettre-test", "model.odt", bomb),
            "entity bomb": _upload(owner, "lettre-test", "model.odt", entity_bomb),
            "too many entries": _upload(owner, "lettre-test", "model.odt",
                                        _zip({f"x/{n}.txt": b"" for n in range(2500)})),
            "not a zip": _upload(owner, "lettre-test", "model.odt", b"PK pas un zip du tout"),
            "not a model": _upload(owner, "lettre-test", "lettre.pdf", b"%PDF-1.4"),
            "bad manifest": _upload(owner, "lettre-test", "model.odt", model.read_bytes(),
                                    manifest.replace('type = "date"', 'type = "calendrier"').encode()),
            "id mismatch": _upload(owner, "lettre-test", "model.odt", model.read_bytes(),
                                   manifest.replace('id = "lettre-test"', 'id = "autre"').encode()),
        }
        for what, response in refused.items():
            assert 400 <= response.status_code < 500, f"{what}: {response.status_code}"
            assert response.headers["content-type"].startswith("application/problem+json"), what
        findings = refused["lint error"].json()["findings"]
        assert any("champ_fantome" in f["message"] and f["part"] == "en-tête" for f in findings)

        versions = owner.get("/v1/templates/lettre-test/versions").json()
        assert [(v["revision"], v["current"]) for v in versions] == [(0, False), (1, True)]
        assert hashlib.sha256((v1 / "model.odt").read_bytes()).hexdigest() == v1_hash
        assert "VERSION-UN" in all_text(render(owner, "lettre-test", values, "odt").content, "odt")

        second = _upload(owner, "lettre-test", "model.odt", _with_header_text(model, "VERSION-DEUX"))
        assert second.status_code == 201 and second.json()["revision"] == 2
        assert hashlib.sha256((v1 / "model.odt").read_bytes()).hexdigest() == v1_hash
        assert "VERSION-DEUX" in all_text(render(owner, "lettre-test", values, "odt").content, "odt")
        assert [v["revision"] for v in owner.get("/v1/templates/lettre-test/versions").json()] == [0, 1, 2]

        retitled = owner.put("/v1/templates/lettre-test", files={
            "manifest": ("template.toml", manifest.replace("Lettre de test", "Lettre renommée").encode(), "text/plain")})
        assert retitled.status_code == 201 and retitled.json()["revision"] == 3, retitled.text
        assert owner.get("/v1/templates/lettre-test").json()["title"] == "Lettre renommée"
        assert "VERSION-DEUX" in all_text(render(owner, "lettre-test", values, "odt").content, "odt")
        assert owner.put("/v1/templates/lettre-test", files={"autre": ("x", b"x")}).status_code == 422

        new = _upload(owner, "nouvelle-lettre", "model.odt", model.read_bytes(),
                      manifest.replace('id = "lettre-test"', 'id = "nouvelle-lettre"').encode())
        assert new.status_code == 201, new.text
        assert "nouvelle-lettre" in {t["id"] for t in owner.get("/v1/templates").json()}
        audit = (srv.data / "audit.jsonl").read_text(encoding="utf-8")
        assert '"template":"nouvelle-lettre"' in audit and "Müller" not in audit
    finally:
        srv.stop()


# -- PDF and LibreOffice -----------------------------------------------------------------------

@pytest.mark.libreoffice
def test_pdf_through_libreoffice(fixture_server):
    require_soffice()  # fails in CI, skips elsewhere
    values, _ = examples(FIXTURES / "lettre-lo")
    response = render(fixture_server.client(), "lettre-lo", values, "pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF")


def test_pdf_without_libreoffice_is_a_503(tmp_path):
    srv = start_server(tmp_path, "--templates", str(FIXTURES), env={"PLUME_SOFFICE": "soffice-absent"})
    try:
        values, _ = examples(FIXTURES / "lettre-test")
        response = render(srv.client(), "lettre-test", values, "pdf")
        assert response.status_code == 503 and "LibreOffice" in response.json()["detail"]
    finally:
        srv.stop()


@pytest.mark.libreoffice
def test_libreoffice_opens_every_rendered_file(tmp_path):
    """One soffice run converts every file rendered above; each must give a PDF with pages."""
    require_soffice()  # fails in CI, skips elsewhere
    if not RENDERED:
        pytest.skip("nothing rendered in this session")
    for name, content in RENDERED.items():
        stem, fmt = name.rsplit(".", 1)
        (tmp_path / f"{stem}-{fmt}.{fmt}").write_bytes(content)  # unique stems: one PDF per file
    sources = sorted(p for p in tmp_path.iterdir() if p.suffix in (".docx", ".odt"))
    convert(sources, tmp_path, outdir=tmp_path / "pdf")
    for source in sources:
        pdf = (tmp_path / "pdf" / f"{source.stem}.pdf").read_bytes() if (tmp_path / "pdf" / f"{source.stem}.pdf").exists() else b""
        assert pdf.startswith(b"%PDF"), f"LibreOffice could not open {source.name}"
        assert b"/Type /Page" in pdf or b"/Type/Page" in pdf, source.name


def test_library_reloads_on_change(tmp_path):
    library = tmp_path / "modeles"
    shutil.copytree(FIXTURES, library)
    srv = start_server(tmp_path, "--templates", str(library))
    try:
        client = srv.client()
        assert srv.health()["templates"]["count"] == 2
        manifest = library / "lettre-test" / "template.toml"
        manifest.write_text(manifest.read_text(encoding="utf-8").replace('title = "Lettre de test"',
                                                                         'title = "Lettre modifiée"'), encoding="utf-8")
        shutil.copytree(library / "lettre-lo", library / "copie")
        copy = library / "copie" / "template.toml"
        copy.write_text(copy.read_text(encoding="utf-8").replace('id = "lettre-lo"', 'id = "copie"'), encoding="utf-8")
        shutil.rmtree(library / "lettre-lo")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            titles = {t["id"]: t["title"] for t in client.get("/v1/templates").json()}
            if titles == {"lettre-test": "Lettre modifiée", "copie": "Lettre de test"}:
                break
            time.sleep(0.3)
        assert titles == {"lettre-test": "Lettre modifiée", "copie": "Lettre de test"}
        assert client.get("/v1/templates/lettre-lo").status_code == 404
    finally:
        srv.stop()
