"""`image` fields (a logo in the header, a signature in the body) through the real server, in .docx,
.odt and PDF: the picture sent (base64 or a file of the template) replaces the placeholder, scaled
to its box; bad pictures are a French 422 naming the field."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
import zipfile

import pytest
from PIL import Image

from tests.conftest import REPO, start_server
from tests.soffice import convert

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


@pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdfimages"), reason="LibreOffice and poppler")
@pytest.mark.parametrize("source", ["odt", "docx"])
def test_pdf_holds_both_pictures(images_server, tmp_path, source):
    """The server's PDF (from the .odt), and the .docx converted by LibreOffice the same way."""
    values = {"signature": as_value(png(300, 100)), "logo": "logo.png"}
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
    # pixels and resolution on the page: the logo 6 cm wide (600 px → 254 ppi), the signature 4 cm (→ 190 ppi)
    assert {(int(r[3]), int(r[4])): int(r[12]) for r in rows} == {(600, 100): 254, (300, 100): 190}


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
