"""The Swiss QR-bill on `relance-facture`, through the real server: the payment part's QR code, read
back by a decoder (zxing-cpp) from the .docx, the .odt and LibreOffice's PDF, holds the bill built
by qrbill from the same values; a bad IBAN or reference is a French 422 naming the field."""

from __future__ import annotations

import io
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


@pytest.mark.parametrize(("fmt", "picture"), [("docx", "word/media/plume-qrbill.png"),
                                              ("odt", "Pictures/plume-qrbill.png")])
def test_payment_part_qr_code_decodes_to_the_bill(server, fmt, picture):
    response = render(server, fmt)
    assert response.status_code == 200, response.text
    png = zipfile.ZipFile(io.BytesIO(response.content)).read(picture)
    assert decode(png) == [expected()]
    with Image.open(io.BytesIO(png)) as image:  # 210 mm wide at 300 dpi: the standard's size
        assert image.width == 2480


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
