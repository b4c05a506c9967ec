"""A template that LibreOffice cannot open: Plume fills it, but no PDF can be made of its letters.
That is the template's fault, not an outage: a warning when it is uploaded, and a 422 naming the
problem when a PDF is asked (it used to be « service indisponible », 503, for every PDF render).

The broken model is the attestation's own model.docx, as a new template with no .odt (a PDF is made
from the .odt when there is one), whose package relation (`_rels/.rels`) points to a main document
part that does not exist: Plume reads the parts its [Content_Types].xml lists, LibreOffice (and
Word) follow the relation and find nothing ("source file could not be loaded")."""

from __future__ import annotations

import io
import tomllib
import zipfile

import pytest

from tests.conftest import REPO, start_server
from tests.soffice import require_soffice

TEMPLATE = REPO / "templates" / "attestation-domicile"
MANIFEST = (TEMPLATE / "template.toml").read_text(encoding="utf-8").replace(
    'id = "attestation-domicile"', 'id = "attestation-word"')
VALUES = {f["name"]: f["example"] for f in tomllib.loads(MANIFEST)["fields"] if "example" in f}


def unopenable(model: bytes) -> bytes:
    """The model with its package relation pointing to a part that is not in the file."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(model)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for name in source.namelist():
            data = source.read(name)
            if name == "_rels/.rels":
                data = data.replace(b'Target="word/document.xml"', b'Target="word/absent.xml"')
            copy.writestr(name, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def checking_server(tmp_path_factory):
    require_soffice()
    srv = start_server(tmp_path_factory.mktemp("pdf"), env={"PLUME_PDF_CHECK_AT_UPLOAD": "1"})
    yield srv
    srv.stop()


def test_a_model_libreoffice_cannot_open_is_a_warning_at_upload_and_a_422_at_pdf_render(checking_server):
    owner, user = checking_server.client("template-owner"), checking_server.client()
    good = owner.put("/v1/templates/attestation-word", files={
        "file": ("model.docx", (TEMPLATE / "model.docx").read_bytes()), "manifest": ("template.toml", MANIFEST)})
    assert good.status_code == 201, good.text
    assert good.json()["warnings"] == []  # LibreOffice opens the model as it is

    broken = owner.put("/v1/templates/attestation-word",
                       files={"file": ("model.docx", unopenable((TEMPLATE / "model.docx").read_bytes()))})
    assert broken.status_code == 201, broken.text  # Plume can fill it: the owner decides
    [warning] = broken.json()["warnings"]
    assert warning.startswith("model.docx : LibreOffice ne peut pas ouvrir le document .docx de ce modèle")
    versions = user.get("/v1/templates/attestation-word/versions").json()
    assert versions[-1]["warnings"] == [warning]  # kept with the version, for whoever looks later

    letter = {"values": VALUES}
    assert user.post("/v1/templates/attestation-word/render", json={**letter, "format": "docx"}).status_code == 200
    pdf = user.post("/v1/templates/attestation-word/render", json={**letter, "format": "pdf"})
    assert pdf.status_code == 422, pdf.text
    problem = pdf.json()
    assert problem["type"] == "urn:plume:problem:pdf-refused"
    assert "LibreOffice ne peut pas ouvrir le document .docx de ce modèle" in problem["detail"]
    assert "responsable du modèle" in problem["detail"]
