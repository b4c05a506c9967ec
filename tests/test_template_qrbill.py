"""The Swiss QR-bill on `relance-facture`, through the real server: the payment part's QR code, read
back by a decoder (zxing-cpp) from the .docx (its SVG and its PNG copy), the .odt (its SVG) and from
LibreOffice's PDF of each, holds the bill built by qrbill from the same values; a bad IBAN or
reference is a French 422 naming the field."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tomllib
import zipfile

import pytest
import zxingcpp  # the test extra (scripts/setup.sh test)
from PIL import Image

from tests.conftest import REPO
from tests.soffice import convert, require_soffice

MANIFEST = tomllib.loads((REPO / "templates" / "relance-facture" / "template.toml").read_text(encoding="utf-8"))
VALUES = {f["name"]: f["example"] for f in MANIFEST["fields"] if "example" in f}
COMMUNE = tomllib.loads((REPO / "templates" / "commune.toml").read_text(encoding="utf-8"))


def expected(**changes) -> str:
    """The QR code's text as qrbill itself builds it from these values (the reference the test trusts)."""
    from qrbill import QRBill

    values = {**VALUES, **changes}
    return QRBill(account=values["iban"].replace(" ", ""),
                  creditor={"name": COMMUNE["nom"], "street": COMMUNE["adresse"], "pcode": "2400", "city": "Le Locle",
                            "country": "CH"},
                  debtor={"name": f"{values['prenom']} {values['nom']}", "street": values["adresse"], "pcode": "2400",
                          "city": "Le Locle", "country": "CH"},
                  amount=f"{values['montant']:.2f}", reference_number=values["reference"].replace(" ", ""),
                  language="fr").qr_data()


def decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def render(server, fmt: str, **changes):
    return server.client().post("/v1/templates/relance-facture/render",
                                json={"values": {**VALUES, **changes}, "format": fmt})


def raster(svg: bytes) -> bytes:
    """An SVG drawn as a PNG by librsvg (pyvips), at 200 dpi, for the decoder."""
    import pyvips

    return pyvips.Image.svgload_buffer(svg, scale=200 / 72).extract_band(0).pngsave_buffer()


def test_docx_holds_the_payment_part_as_word_holds_an_svg_picture(server):
    """The .docx: the SVG drawing, named in the picture the way Word 2016+ names one (`asvg:svgBlip`,
    [MS-ODRAWXML]), beside its PNG copy for readers without SVG; both decode to the bill."""
    archive = zipfile.ZipFile(io.BytesIO(render(server, "docx").content))
    svg, png = archive.read("word/media/plume-qrbill.svg"), archive.read("word/media/plume-qrbill.png")
    assert svg.lstrip().startswith((b"<?xml", b"<svg")) and decode(raster(svg)) == [expected()]
    assert decode(png) == [expected()]
    with Image.open(io.BytesIO(png)) as image:  # 210 mm wide at 200 dpi
        assert image.width == 1654
    body = archive.read("word/document.xml").decode()
    rels = archive.read("word/_rels/document.xml.rels").decode()
    blip = re.search(r'<a:blip r:embed="(\w+)"[^>]*>.*?</a:blip>', body, re.DOTALL)
    svg_rel = re.search(r'<asvg:svgBlip xmlns:asvg="http://schemas.microsoft.com/office/drawing/2016/SVG/main" '
                        r'r:embed="(\w+)"/>', blip.group(0)).group(1)
    assert f'Id="{svg_rel}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" ' \
           f'Target="media/plume-qrbill.svg"' in rels
    assert f'Id="{blip.group(1)}"' in rels and "media/plume-qrbill.png" in rels
    assert 'Extension="svg" ContentType="image/svg+xml"' in archive.read("[Content_Types].xml").decode()


def test_odt_holds_the_payment_part_as_svg(server):
    archive = zipfile.ZipFile(io.BytesIO(render(server, "odt").content))
    assert decode(raster(archive.read("Pictures/plume-qrbill.svg"))) == [expected()]
    assert 'xlink:href="Pictures/plume-qrbill.svg"' in archive.read("content.xml").decode()
    assert 'manifest:full-path="Pictures/plume-qrbill.svg" manifest:media-type="image/svg+xml"' in \
        archive.read("META-INF/manifest.xml").decode()


def test_creditor_reference_with_a_plain_iban(server):
    changes = {"iban": "CH93 0076 2011 6238 5295 7", "reference": "RF18 5390 0754 7034", "montant": 1234.5}
    response = render(server, "docx", **changes)
    assert response.status_code == 200, response.text
    png = zipfile.ZipFile(io.BytesIO(response.content)).read("word/media/plume-qrbill.png")
    assert decode(png) == [expected(**changes)]
    assert "\r\nSCOR\r\nRF18539007547034\r\n" in decode(png)[0]


@pytest.mark.parametrize("source", ["odt", "docx"])
def test_pdf_payment_part_decodes(server, tmp_path, source):
    """The server's PDF (made from the .odt), and the .docx converted by LibreOffice the same way."""
    require_soffice("pdftoppm")  # fails in CI, skips elsewhere
    if source == "odt":
        response = render(server, "pdf")
        assert response.status_code == 200
        (tmp_path / "relance.pdf").write_bytes(response.content)
    else:
        (tmp_path / "relance.docx").write_bytes(render(server, "docx").content)
        convert([tmp_path / "relance.docx"], tmp_path, timeout=180, check=False)
    subprocess.run(["pdftoppm", "-r", "300", "-png", str(tmp_path / "relance.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    found = [text for page in pages for text in decode(page.read_bytes())]
    assert found == [expected()]
    assert decode(pages[-1].read_bytes()) == [expected()]  # on the last page, its own


@pytest.mark.parametrize(("changes", "field", "says"), [
    ({"iban": "CH44 3199 9123 0008 8901 3"}, "iban", "IBAN invalide"),              # wrong check digits
    ({"iban": "DE89 3704 0044 0532 0130 00"}, "iban", "IBAN invalide"),             # not Swiss
    ({"reference": "21 00000 00003 13947 14300 09018"}, "reference", "référence invalide"),
    ({"reference": "RF18 5390 0754 7034"}, "reference", "QR-IBAN"),                 # QR-IBAN needs a QR reference
    ({"iban": "CH93 0076 2011 6238 5295 7"}, "reference", "QR-IBAN"),              # QR reference needs a QR-IBAN
])
def test_bad_iban_or_reference_is_a_french_422_naming_the_field(server, changes, field, says):
    response = render(server, "docx", **changes)
    assert response.status_code == 422
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [field]
    assert says in body["errors"][0]["message"]
    label = next(f["label"] for f in MANIFEST["fields"] if f["name"] == field)
    assert f"« {label} »" in body["detail"] or f"« {field} »" in body["detail"]


@pytest.mark.parametrize(("changes", "field", "says"), [
    ({"adresse": "Rue " + "des Jardins " * 6 + "25"}, "adresse", "70 caractères"),    # street over 70
    ({"npa_localite": "24OO Le Locle"}, "npa_localite", "NPA et localité"),            # letter O, not a postcode
    ({"npa_localite": "Le Locle"}, "npa_localite", "NPA et localité"),                 # no postcode at all
    ({"npa_localite": "2400 Le Locle-" + "Col-des-Roches-" * 2}, "npa_localite", "35 caractères"),  # locality over 35
    ({"nom": "Vuilleumier-" * 6 + "Perret"}, "nom", "70 caractères"),                 # the longer half of the name
    ({"montant": 1_000_000_000.00}, "montant", "999'999'999.99"),                      # over the bill's maximum
    ({"montant": -12.5}, "montant", "999'999'999.99"),
])
def test_debtor_and_amount_errors_name_their_own_field(server, changes, field, says):
    """Each debtor part is refused under the field [qrbill] takes it from, never under « prenom »."""
    response = render(server, "docx", **changes)
    assert response.status_code == 422, response.text
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [field]
    label = next(f["label"] for f in MANIFEST["fields"] if f["name"] == field)
    assert body["errors"][0]["message"].startswith(f"« {label} » : ") and says in body["errors"][0]["message"]
    assert f"« {field} »" in body["detail"]


def test_largest_amount_the_bill_allows_is_accepted(server):
    response = render(server, "docx", montant=999_999_999.99)
    assert response.status_code == 200, response.text
    png = zipfile.ZipFile(io.BytesIO(response.content)).read("word/media/plume-qrbill.png")
    assert "\r\n999999999.99\r\nCHF\r\n" in decode(png)[0]


# -- the bill's language (`[qrbill] language`) -----------------------------------------------------

# Romansh: a Swiss language, not one the QR-bill prints in ([qrbill] is the manifest's last table).
BAD_LANGUAGE = (REPO / "templates" / "relance-facture" / "template.toml").read_text(encoding="utf-8") + \
    'language = "rm"\n'


def test_unknown_bill_language_is_reported_by_the_check_naming_the_key(tmp_path):
    """`plume templates check`: the template.toml, the key and the languages the bill knows."""
    import json

    from tests.conftest import plume_cli

    shutil.copytree(REPO / "templates" / "relance-facture", tmp_path / "relance-facture")
    shutil.copy(REPO / "templates" / "commune.toml", tmp_path / "commune.toml")
    (tmp_path / "relance-facture" / "template.toml").write_text(BAD_LANGUAGE, encoding="utf-8")
    result = plume_cli("templates", "check", str(tmp_path), "--json", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    [finding] = json.loads(result.stdout)
    assert finding["file"].endswith("template.toml")
    assert "[qrbill] language = « rm »" in finding["message"] and "fr, de, it ou en" in finding["message"]
    assert "créancier" not in finding["message"]


def test_unknown_bill_language_upload_is_a_422_naming_the_key(tmp_path):
    from tests.conftest import start_server

    srv = start_server(tmp_path)
    try:
        owner = srv.client("template-owner")
        response = owner.put("/v1/templates/relance-facture",
                             files={"manifest": ("template.toml", BAD_LANGUAGE.encode(), "application/toml")})
        assert response.status_code == 422, response.text
        assert "[qrbill] language = « rm »" in response.json()["detail"]
        assert render(srv, "docx").status_code == 200  # the version in place still makes its letters
    finally:
        srv.stop()


def test_unknown_bill_language_at_render_names_the_key():
    """A manifest that escaped the check (written before it): the 422 names `[qrbill] language` and
    template.toml, not the commune's address."""
    import msgspec

    from plume.documents.manifest import load_manifest
    from plume.documents.qrbill import qrbill_context
    from plume.documents.values import FieldErrors, validate

    manifest = load_manifest(REPO / "templates" / "relance-facture" / "template.toml")
    manifest = msgspec.structs.replace(manifest, qrbill=msgspec.structs.replace(manifest.qrbill, language="rm"))
    context = {**validate(manifest, VALUES), "commune": COMMUNE}
    with pytest.raises(FieldErrors) as refused:
        qrbill_context(manifest, context)
    [error] = refused.value.errors
    assert error["field"] == "[qrbill] language" and "path" not in error  # no value of the form to mark
    assert "« rm »" in error["message"] and "template.toml" in error["message"] and "créancier" not in error["message"]


def test_a_refused_value_says_where_it_is_in_values():
    """A value the bill refuses is located like any bad value (`path`), so the Word pane marks its input."""
    from plume.documents.manifest import load_manifest
    from plume.documents.qrbill import qrbill_context
    from plume.documents.values import FieldErrors, validate

    manifest = load_manifest(REPO / "templates" / "relance-facture" / "template.toml")
    context = {**validate(manifest, {**VALUES, "iban": "CH44 3199 9123 0008 8901 3"}), "commune": COMMUNE}
    with pytest.raises(FieldErrors) as refused:
        qrbill_context(manifest, context)
    assert [(e["field"], e["path"]) for e in refused.value.errors] == [("iban", ["iban"])]
