"""`image` fields (a logo in the header, a signature in the body, a stamp in the footer) through
the real server, in .docx, .odt and PDF: the picture sent (base64 or a file of the template)
replaces the placeholder, scaled to its box; bad pictures are a French 422 naming the field."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import zipfile

import pytest
from PIL import Image

from tests.conftest import REPO, start_server
from tests.soffice import convert, require_soffice

FOLDER = REPO / "tests" / "fixtures" / "documents" / "tables"
EMU_PER_CM = 360000


@pytest.fixture(scope="module")
def images_server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("plume-images"), "--templates", str(FOLDER))
    yield srv
    srv.stop()


def png(width: int, height: int, color: str = "green", fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, fmt)
    return out.getvalue()


def as_value(data: bytes, kind: str = "image/png") -> dict:
    return {"data": base64.b64encode(data).decode(), "type": kind}


def post(server, values: dict, fmt: str):
    return server.client().post("/v1/templates/images/render", json={"values": {"nom": "Anaïs", **values},
                                                                      "format": fmt})


def entries(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


def docx_boxes(xml: bytes) -> list[tuple[float, float]]:
    return [(int(cx) / EMU_PER_CM, int(cy) / EMU_PER_CM)
            for cx, cy in re.findall(rb'<wp:extent cx="(\d+)" cy="(\d+)"', xml)]


def odt_boxes(xml: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in re.findall(rb'svg:width="([\d.]+)cm" svg:height="([\d.]+)cm"', xml)]


def test_docx_picture_replaces_placeholder_scaled_to_its_box(images_server):
    signature = png(300, 100)  # 3:1 in a 4 × 2 cm box: 4 cm wide, 1.33 cm high
    response = post(images_server, {"signature": as_value(signature)}, "docx")
    assert response.status_code == 200, response.text
    files = entries(response.content)
    assert files["word/media/plume-signature.png"] == signature
    assert docx_boxes(files["word/document.xml"]) == [(4.0, pytest.approx(4 / 3, abs=0.01))]
    assert b'r:embed="rIdPlumesignature"' in files["word/document.xml"]
    # the logo: the template's own file (its example), 6:1 in a 6 × 2 cm header box
    response = post(images_server, {"logo": "logo.png"}, "docx")
    files = entries(response.content)
    assert files["word/media/plume-logo.png"] == (FOLDER / "images" / "logo.png").read_bytes()
    assert docx_boxes(files["word/header1.xml"]) == [(6.0, 1.0)]
    assert docx_boxes(files["word/document.xml"]) == []  # no signature given: its placeholder is left out


def test_odt_picture_replaces_placeholder_scaled_to_its_box(images_server):
    signature = png(100, 200, fmt="JPEG")  # 1:2 in a 4 × 2 cm box: 1 cm wide, 2 cm high
    response = post(images_server, {"signature": as_value(signature, "image/jpeg"), "logo": "logo.png"}, "odt")
    assert response.status_code == 200, response.text
    files = entries(response.content)
    assert files["Pictures/plume-signature.jpg" if "Pictures/plume-signature.jpg" in files
                 else "Pictures/plume-signature.png"] == signature
    assert odt_boxes(files["content.xml"]) == [(1.0, 2.0)]
    assert odt_boxes(files["styles.xml"]) == [(6.0, 1.0)]
    assert b"Pictures/plume-logo.png" in files["META-INF/manifest.xml"]


@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_footer_picture_replaces_placeholder_scaled_to_its_box(images_server, fmt):
    stamp = png(200, 200, "purple")  # square in the 3 × 1.5 cm footer box: 1.5 × 1.5 cm
    response = post(images_server, {"timbre": as_value(stamp)}, fmt)
    assert response.status_code == 200, response.text
    files = entries(response.content)
    if fmt == "docx":
        assert files["word/media/plume-timbre.png"] == stamp
        assert docx_boxes(files["word/footer1.xml"]) == [(1.5, 1.5)]
        assert b'r:embed="rIdPlumetimbre"' in files["word/footer1.xml"]
        assert b'Id="rIdPlumetimbre"' in files["word/_rels/footer1.xml.rels"]
        assert docx_boxes(files["word/header1.xml"]) == []  # no logo sent: only the footer has a picture
    else:
        assert files["Pictures/plume-timbre.png"] == stamp
        assert odt_boxes(files["styles.xml"]) == [(1.5, 1.5)]
        assert b"Pictures/plume-timbre.png" in files["META-INF/manifest.xml"]
    # without a value, the footer's placeholder is left out and the footer's text stays
    files = entries(post(images_server, {}, fmt).content)
    footer = files["word/footer1.xml" if fmt == "docx" else "styles.xml"]
    assert (docx_boxes if fmt == "docx" else odt_boxes)(footer) == [] and b"Timbre : " in footer


@pytest.mark.parametrize("source", ["odt", "docx"])
def test_pdf_holds_all_three_pictures(images_server, tmp_path, source):
    """The server's PDF (from the .odt), and the .docx converted by LibreOffice the same way."""
    require_soffice("pdfimages")  # fails in CI, skips elsewhere
    values = {"signature": as_value(png(300, 100)), "logo": "logo.png", "timbre": as_value(png(150, 150))}
    response = post(images_server, values, "pdf" if source == "odt" else "docx")
    assert response.status_code == 200, response.text
    if source == "odt":
        (tmp_path / "out.pdf").write_bytes(response.content)
    else:
        (tmp_path / "out.docx").write_bytes(response.content)
        convert([tmp_path / "out.docx"], tmp_path, timeout=180, check=False)
    listing = subprocess.run(["pdfimages", "-list", str(tmp_path / "out.pdf")], capture_output=True, text=True,
                             check=True).stdout
    rows = [line.split() for line in listing.splitlines()[2:]]
    # pixels and resolution on the page: the logo 6 cm wide (600 px → 254 ppi), the signature 4 cm (→ 190 ppi),
    # the footer's stamp 1.5 cm (150 px → 254 ppi; LibreOffice would bring pictures over 300 ppi down to 300)
    assert {(int(r[3]), int(r[4])): int(r[12]) for r in rows} == {(600, 100): 254, (300, 100): 190, (150, 150): 254}


@pytest.mark.parametrize(("value", "says"), [
    (lambda: as_value(b"GIF89a" + b"\0" * 40), "PNG et JPEG"),
    (lambda: as_value(png(10, 10), "image/gif"), "PNG et JPEG"),
    (lambda: as_value(png(10, 10, fmt="JPEG"), "image/png"), "type annoncé"),
    (lambda: {"data": "pas du base64 !", "type": "image/png"}, "base64"),
    (lambda: "../images/logo.png", "nom de fichier"),
    (lambda: "absent.png", "n'existe pas"),
    (lambda: as_value(png(12_000, 10)), "pixels"),
    (lambda: {"data": "A" * (3 * 1024 * 1024), "type": "image/png"}, "dépasse"),
    (lambda: 42, "une image est attendue"),
])
def test_bad_pictures_are_a_french_422_naming_the_field(images_server, value, says):
    response = post(images_server, {"signature": value()}, "docx")
    assert response.status_code == 422
    body = response.json()
    assert [e["field"] for e in body["errors"]] == ["signature"]
    assert says in body["errors"][0]["message"] and "Signature" in body["errors"][0]["message"]


# -- new versions of a template with picture files (PUT /v1/templates/images) ---------------------

def put(client, manifest: bytes | None = None, images: list[tuple[str, bytes]] = ()):
    files = [("image", (name, data, "application/octet-stream")) for name, data in images]
    if manifest is not None:
        files.append(("manifest", ("template.toml", manifest, "application/toml")))
    return client.put("/v1/templates/images", files=files)


@pytest.fixture
def upload_server(tmp_path):
    srv = start_server(tmp_path, "--templates", str(FOLDER))
    yield srv
    srv.stop()


def test_new_version_keeps_and_replaces_the_template_pictures(upload_server):
    owner = upload_server.client("template-owner")
    manifest = (FOLDER / "images" / "template.toml").read_text(encoding="utf-8")
    renamed = manifest.replace("Lettre avec logo et signature", "Lettre avec logo (v2)").encode()
    # a new template.toml alone: the pictures of the repo copy come along (its examples name them)
    response = put(owner, renamed)
    assert response.status_code == 201, response.text
    assert {"logo.png", "signature.jpg"} <= set(response.json()["files"])
    assert response.json()["template"]["title"] == "Lettre avec logo (v2)"
    rendered = post(upload_server, {"logo": "logo.png"}, "docx")
    assert rendered.status_code == 200, rendered.text
    assert entries(rendered.content)["word/media/plume-logo.png"] == (FOLDER / "images" / "logo.png").read_bytes()
    # a new logo (3:1 in the 6 × 2 cm header box: 6 × 2 cm), sent alone: a new version that uses it
    logo = png(300, 100, "red")
    response = put(owner, images=[("logo.png", logo)])
    assert response.status_code == 201, response.text
    assert response.json()["revision"] == 2
    for fmt, path, part, boxes in (("docx", "word/media/plume-logo.png", "word/header1.xml", docx_boxes),
                                   ("odt", "Pictures/plume-logo.png", "styles.xml", odt_boxes)):
        files = entries(post(upload_server, {"logo": "logo.png"}, fmt).content)
        assert files[path] == logo
        assert boxes(files[part]) == [(6.0, 2.0)]
    # the next version without pictures keeps that new logo, and the title it was given
    response = put(owner, renamed)
    assert response.status_code == 201 and response.json()["revision"] == 3
    assert entries(post(upload_server, {"logo": "logo.png"}, "docx").content)["word/media/plume-logo.png"] == logo
    # a new picture a new template.toml names in an example: accepted together
    put_both = put(owner, renamed.replace(b'example = "signature.jpg"', b'example = "visa.jpg"'),
                   images=[("visa.jpg", png(80, 40, fmt="JPEG"))])
    assert put_both.status_code == 201, put_both.text
    assert post(upload_server, {"signature": "visa.jpg"}, "odt").status_code == 200


@pytest.mark.parametrize(("name", "data", "status", "says"), [
    ("logo.png", b"%PDF-1.4 pas une image", 422, "PNG et JPEG"),
    ("logo.png", b"GIF89a" + b"\0" * 40, 422, "PNG et JPEG"),
    ("logo.png", png(10, 10, fmt="JPEG"), 422, "JPEG"),          # content and name disagree
    ("logo.gif", png(10, 10), 422, "nom de fichier invalide"),
    ("../x.png", png(10, 10), 422, "nom de fichier invalide"),
    ("dossier/x.png", png(10, 10), 422, "nom de fichier invalide"),
    ("..\\x.png", png(10, 10), 422, "nom de fichier invalide"),
    (".cache.png", png(10, 10), 422, "nom de fichier invalide"),
    ("template.toml", png(10, 10), 422, "nom de fichier invalide"),
    ("geant.png", png(12_000, 10), 422, "pixels"),
    ("lourd.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024), 413, "2 Mo"),
])
def test_bad_picture_part_is_refused_naming_the_file(images_server, name, data, status, says):
    """One bad part among good ones: the whole version is refused (this server keeps no upload)."""
    owner = images_server.client("template-owner")
    response = put(owner, images=[("bandeau.png", png(30, 10, "blue")), (name, data)])
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    # (httpx sends a backslash in a file name doubled, as its quoting asks: the server names what it got)
    assert f"« {name} »" in detail.replace("\\\\", "\\") and says in detail
    # nothing stored: the repo copy is still the current version, with its own logo
    assert [v["revision"] for v in owner.get("/v1/templates/images/versions").json()] == [0]
    assert not list((images_server.data / "templates").glob("images/*"))
    files = entries(post(images_server, {"logo": "logo.png"}, "docx").content)
    assert files["word/media/plume-logo.png"] == (FOLDER / "images" / "logo.png").read_bytes()


def test_more_pictures_than_a_version_may_hold_are_refused(images_server):
    owner = images_server.client("template-owner")
    response = put(owner, images=[(f"image-{n}.png", png(4, 4)) for n in range(21)])
    assert response.status_code == 422 and "au plus 20 images" in response.json()["detail"]
    assert [v["revision"] for v in owner.get("/v1/templates/images/versions").json()] == [0]
