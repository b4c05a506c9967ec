"""The commune's letter library in templates/: complete, consistent, and rendered by the real server.

What a template owner or a secretary would notice: a folder without its model, a field without a
label or example, a placeholder the model uses but the form does not ask for, a letter without
letterhead or page number, an example value missing from the rendered letter, a branch (1st/2nd
reminder, upheld complaint…) that prints the wrong paragraphs, a file LibreOffice cannot open.
"""

from __future__ import annotations

import io
import re
import tomllib
import zipfile
from datetime import date
from decimal import Decimal

import docx
import jinja2
import jinja2.meta
import pytest
from babel.dates import format_date
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from odf import teletype
from odf import text as odftext
from odf.opendocument import load as load_odt

from tests.conftest import REPO, plume_cli
from tests.soffice import assert_converted_to_pdf, require_soffice

TEMPLATES = REPO / "templates"
LETTERS = ["accuse-reception", "attestation-domicile", "autorisation-stationnement",
           "confirmation-rendez-vous", "relance-facture", "reponse-reclamation"]
FORMATS = ["docx", "odt"]
TYPES = {"text", "date", "money", "number", "choice", "list", "bool"}
BUILT_INS = {"today", "commune"}
# Field names other parts of Plume rely on (sample case files, /v1/mail/acknowledge).
NAMED_FIELDS = {
    "attestation-domicile": {"civilite", "prenom", "nom", "date_naissance", "adresse", "npa_localite",
                             "domicile_depuis", "motif", "emoluments"},
    "accuse-reception": {"civilite", "prenom", "nom", "adresse", "npa_localite", "date_reception", "objet",
                         "reference", "service", "delai_traitement", "annexes"},
    "confirmation-rendez-vous": {"date_rendez_vous", "heure", "lieu", "documents"},
    "relance-facture": {"civilite", "prenom", "nom", "adresse", "npa_localite", "numero_facture", "date_facture",
                        "objet", "montant", "date_premier_rappel", "delai_jours", "niveau"},
    "autorisation-stationnement": {"emoluments", "date_debut", "date_fin", "emplacement"},
    "reponse-reclamation": {"fondee", "explication", "mesures"},
}


def manifest(letter: str) -> dict:
    return tomllib.loads((TEMPLATES / letter / "template.toml").read_text(encoding="utf-8"))


def examples(letter: str) -> dict:
    return {f["name"]: f["example"] for f in manifest(letter)["fields"]}


COMMUNE = tomllib.loads((TEMPLATES / "commune.toml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------
# Reading documents back (python-docx and odfpy: a file that does not open fails here)
# --------------------------------------------------------------------------------------------------

def docx_parts(data: bytes) -> dict[str, list[str]]:
    """Paragraph texts of the body (tables included), the headers and the footers."""
    document = docx.Document(io.BytesIO(data))

    def texts(element) -> list[str]:
        return [Paragraph(p, None).text for p in element.iter(qn("w:p"))]

    section_parts = [(s.header, s.footer) for s in document.sections]
    return {"body": texts(document.element.body),
            "header": [t for header, _ in section_parts for t in texts(header._element)],
            "footer": [t for _, footer in section_parts for t in texts(footer._element)]}


def odt_parts(data: bytes) -> dict[str, list[str]]:
    document = load_odt(io.BytesIO(data))

    def texts(element, kind: str) -> list[str]:
        return [teletype.extractText(p) for p in element.getElementsByType(odftext.P) + element.getElementsByType(odftext.H)
                if kind in ("body", "any") or _inside(p, kind)]

    return {"body": texts(document.text, "body"),
            "header": texts(document.masterstyles, "header"),
            "footer": texts(document.masterstyles, "footer")}


def _inside(element, tag: str) -> bool:
    while element is not None:
        if getattr(element, "tagName", "") == f"style:{tag}":
            return True
        element = element.parentNode
    return False


def read_parts(data: bytes, fmt: str) -> dict[str, list[str]]:
    return docx_parts(data) if fmt == "docx" else odt_parts(data)


def model_parts(letter: str, fmt: str) -> dict[str, list[str]]:
    return read_parts((TEMPLATES / letter / f"model.{fmt}").read_bytes(), fmt)


def normalized(text: str) -> str:
    """Compare text as a reader does: any space is a space, any apostrophe an apostrophe."""
    text = text.replace("’", "'")
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


# --------------------------------------------------------------------------------------------------
# The library's files and manifests
# --------------------------------------------------------------------------------------------------

def test_library_holds_the_six_letters_and_the_letterhead():
    folders = sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir())
    assert set(LETTERS) <= set(folders)
    assert {"nom", "adresse", "npa_localite", "telephone", "email", "site"} <= set(COMMUNE)
    assert all(isinstance(v, str) and v.strip() for v in COMMUNE.values())


@pytest.mark.parametrize("letter", LETTERS)
def test_each_letter_has_its_models_and_manifest(letter):
    folder = TEMPLATES / letter
    for name in ("model.docx", "model.odt", "template.toml"):
        assert (folder / name).is_file(), f"{letter}: {name} manquant"
    for model in ("model.docx", "model.odt"):
        assert zipfile.is_zipfile(folder / model)


@pytest.mark.parametrize("letter", LETTERS)
def test_manifest_is_complete(letter):
    data = manifest(letter)
    assert data["id"] == letter
    for key in ("title", "category", "service", "owner", "version", "description", "output"):
        assert isinstance(data.get(key), str) and data[key].strip(), f"{letter}: {key} manquant"
    names = [f["name"] for f in data["fields"]]
    assert len(names) == len(set(names)), f"{letter}: champ déclaré deux fois"
    for field in data["fields"]:
        where = f"{letter}.{field.get('name')}"
        for key in ("name", "label", "type", "required", "help", "example"):
            assert key in field, f"{where}: {key} manquant"
        assert field["type"] in TYPES, where
        assert isinstance(field["required"], bool), where
        assert field["label"].strip() and field["help"].strip(), where
        check_example(where, field)
    # The output file name pattern uses declared fields only.
    used = jinja2.meta.find_undeclared_variables(plume_syntax().parse(data["output"]))
    assert used and used <= set(names), f"{letter}: output « {data['output']} »"


def check_example(where: str, field: dict) -> None:
    example, kind = field["example"], field["type"]
    if kind in ("date",):
        date.fromisoformat(example)
    elif kind in ("money", "number"):
        assert isinstance(example, int | float) and not isinstance(example, bool), where
    elif kind == "bool":
        assert isinstance(example, bool), where
    elif kind == "choice":
        assert example in field["choices"], where
    elif kind == "list":
        assert isinstance(example, list) and example, f"{where}: exemple vide"
        columns = {c["name"]: c for c in field.get("columns", [])}
        for row in example:
            if columns:
                assert set(row) == set(columns), where
                for name, column in columns.items():
                    check_example(f"{where}.{name}", {**column, "example": row[name]})
            else:
                assert isinstance(row, str) and row.strip(), where
    else:
        assert isinstance(example, str) and example.strip(), where


@pytest.mark.parametrize("letter", LETTERS)
def test_fields_other_parts_rely_on_are_declared(letter):
    assert NAMED_FIELDS[letter] <= {f["name"] for f in manifest(letter)["fields"]}


def test_sample_cases_name_declared_fields_with_fitting_values(samples):
    """The clerk's expected values for the sample cases fit the fields of their template."""
    cases = sorted((samples / "cases").glob("*.expected.toml"))
    assert cases
    for case in cases:
        expected = tomllib.loads(case.read_text(encoding="utf-8"))
        fields = {f["name"]: f for f in manifest(expected["template"])["fields"]}
        for name, value in expected["values"].items():
            assert name in fields, f"{case.name}: {name}"
            check_example(f"{case.name}.{name}", {**fields[name], "example": value})


# --------------------------------------------------------------------------------------------------
# The models themselves
# --------------------------------------------------------------------------------------------------

def plume_syntax() -> jinja2.Environment:
    """Plain Jinja with Plume's filter names, to read which variables a model uses."""
    env = jinja2.Environment()
    env.filters.update(date=str, chf=str, number=str)
    return env


def jinja_source(parts: dict[str, list[str]]) -> str:
    """The model's text as one Jinja template: `{%p`/`{%tr` become plain tags."""
    text = "\n".join(line for lines in parts.values() for line in lines)
    return re.sub(r"\{%-?\s*(p|tr)\s", "{% ", text)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("letter", LETTERS)
def test_model_uses_exactly_the_declared_fields(letter, fmt):
    """Every field on the form appears in the letter, and the letter asks for nothing else."""
    source = jinja_source(model_parts(letter, fmt))
    used = jinja2.meta.find_undeclared_variables(plume_syntax().parse(source)) - BUILT_INS
    declared = {f["name"] for f in manifest(letter)["fields"]}
    used -= {"qrbill"} if "qrbill" in manifest(letter) else set()  # the QR-bill's picture, not a field
    assert used == declared, f"non déclarés : {used - declared}, inutilisés : {declared - used}"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("letter", LETTERS)
def test_model_has_letterhead_page_number_salutation_and_closing(letter, fmt):
    parts = model_parts(letter, fmt)
    header = " ".join(parts["header"])
    for key in ("nom", "adresse", "npa_localite", "telephone", "email", "site"):
        assert f"{{{{ commune.{key} }}}}" in header, f"{letter}.{fmt}: en-tête sans commune.{key}"
    assert any(t.startswith("Page") for t in parts["footer"]), f"{letter}.{fmt}: pied de page sans « Page »"
    with zipfile.ZipFile(TEMPLATES / letter / f"model.{fmt}") as z:
        if fmt == "docx":
            footers = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("word/footer"))
            assert re.search(r'w:instr="\s*PAGE\s*"|<w:instrText[^>]*>\s*PAGE\s*<', footers)
        else:
            assert "<text:page-number" in z.read("styles.xml").decode()
    body = normalized(" ".join(parts["body"]))
    assert re.search(r"nos salutations distinguées", body)
    assert "Veuillez agréer, {{ civilite" in body


def test_library_exercises_tables_conditions_and_loops():
    sources = {(letter, fmt): jinja_source(model_parts(letter, fmt)) for letter in LETTERS for fmt in FORMATS}
    raw = {key: "\n".join(sum(model_parts(*key).values(), [])) for key in sources}
    for fmt in FORMATS:
        assert any("{%tr for" in raw[(letter, fmt)] for letter in LETTERS)
        assert any("{%p if" in raw[(letter, fmt)] for letter in LETTERS)
        assert any("{%p for" in raw[(letter, fmt)] for letter in LETTERS)
        assert any(re.search(r"\{% if .*%\}.*\{% endif %\}", raw[(letter, fmt)]) for letter in LETTERS)


def test_libreoffice_saved_model_splits_placeholders():
    """relance-facture went through LibreOffice's own save: Writer's runs/spans cut its placeholders."""
    folder = TEMPLATES / "relance-facture"
    with zipfile.ZipFile(folder / "model.docx") as z:
        assert "LibreOffice" in z.read("docProps/app.xml").decode()
        document = z.read("word/document.xml").decode()
    split_runs = [p for p in re.findall(r"<w:p[ >].*?</w:p>", document)
                  if any("{{" in t and "}}" not in t for t in re.findall(r"<w:t[^>]*>([^<]*)</w:t>", p))]
    assert len(split_runs) >= 3
    with zipfile.ZipFile(folder / "model.odt") as z:
        assert "LibreOffice" in z.read("meta.xml").decode()
        content = z.read("content.xml").decode()
    assert re.search(r"\{\{ [a-z_.]*<text:span", content), "aucun placeholder coupé par un span"
    assert re.search(r"\{%p if [^%]*<text:span", content), "aucune balise {%p %} coupée par un span"


# --------------------------------------------------------------------------------------------------
# The lint, the real server, LibreOffice
# --------------------------------------------------------------------------------------------------

def test_templates_check_is_clean_on_the_whole_library():
    result = plume_cli("templates", "check", str(TEMPLATES), check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def render(server, letter: str, values: dict, fmt: str):
    with server.client("user") as client:
        return client.post(f"/v1/templates/{letter}/render", json={"values": values, "format": fmt})


def rendered_text(response, fmt: str) -> tuple[dict[str, list[str]], str]:
    assert response.status_code == 200, response.text[:500]
    parts = read_parts(response.content, fmt)
    return parts, normalized("\n".join(sum(parts.values(), [])))


def shown(field: dict, value) -> list[str]:
    """How a value may appear in the letter (any one of them will do)."""
    kind = field["type"]
    if kind == "date":
        d = date.fromisoformat(value)
        month = format_date(d, "MMMM", locale="fr_CH")
        return [f"{d.day} {month} {d.year}", f"1er {month} {d.year}" if d.day == 1 else "", f"{d:%d.%m.%Y}"]
    if kind == "money":
        return [f"CHF {Decimal(str(value)):,.2f}".replace(",", "'")]
    if kind == "number":
        return [f"{value:,}".replace(",", "'")]
    return [str(value)]


def expected_texts(fields: list[dict], values: dict) -> list[tuple[str, list[str]]]:
    """(what, alternatives) for every value that must be visible in the letter."""
    out = []
    for field in fields:
        value = values.get(field["name"])
        if value in (None, "", []) or field["type"] == "bool":
            continue
        if field["type"] == "list":
            columns = field.get("columns")
            for row in value:
                if columns:
                    out += [(f"{field['name']}.{c['name']}", shown(c, row[c["name"]])) for c in columns]
                else:
                    out.append((field["name"], [row]))
        elif field["type"] == "text":
            out += [(field["name"], [line]) for line in str(value).splitlines() if line.strip()]
        else:
            out.append((field["name"], shown(field, value)))
    return out


def assert_values_shown(text: str, fields: list[dict], values: dict) -> None:
    lowered = text.lower()
    for what, alternatives in expected_texts(fields, values):
        options = [normalized(a).lower() for a in alternatives if a]
        assert any(o in lowered for o in options), f"{what}: aucune de {options} dans la lettre"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("letter", LETTERS)
def test_renders_with_its_examples_through_the_server(server, letter, fmt):
    response = render(server, letter, examples(letter), fmt)
    parts, text = rendered_text(response, fmt)
    assert "{{" not in text and "{%" not in text and "}}" not in text
    assert_values_shown(text, manifest(letter)["fields"], examples(letter))
    header = normalized(" ".join(parts["header"]))
    assert normalized(COMMUNE["nom"]) in header and normalized(COMMUNE["telephone"]) in header
    assert any(normalized(t).startswith("Page") for t in parts["footer"])
    assert f"le {format_date(date.today(), 'd MMMM y', locale='fr_CH')}".replace("le 1 ", "le 1er ") in text
    assert examples(letter)["nom"].lower() in response.headers.get("content-disposition", "").lower()


def test_sample_case_values_render_with_the_remaining_examples(server, samples):
    for case in sorted((samples / "cases").glob("*.expected.toml")):
        expected = tomllib.loads(case.read_text(encoding="utf-8"))
        letter = expected["template"]
        values = {**examples(letter), **expected["values"]}
        _, text = rendered_text(render(server, letter, values, "docx"), "docx")
        assert_values_shown(text, manifest(letter)["fields"], values)


# Each branch of the letters, checked in both formats through the server.
BRANCHES = [
    ("relance-facture", {"niveau": "premier rappel"}, ["Sauf erreur de notre part", "Premier rappel –"],
     ["Malgré notre premier rappel", "procédure de recouvrement"]),
    ("relance-facture", {"niveau": "second rappel"}, ["Malgré notre premier rappel du 15 octobre 2026",
                                                      "procédure de recouvrement"], ["Sauf erreur"]),
    ("reponse-reclamation", {"fondee": False, "mesures": None}, ["pas en mesure de donner une suite favorable"],
     ["Votre réclamation est fondée", "ramassage de rattrapage"]),
    ("reponse-reclamation", {"fondee": True}, ["Votre réclamation est fondée", "ramassage de rattrapage"],
     ["suite favorable"]),
    ("attestation-domicile", {"civilite": "Monsieur", "prenom": "Marco"},
     ["Monsieur Marco Ferreira né le 14 juin 1987, est domicilié", "de l'intéressé,", "Total CHF 22.50"],
     ["née le", "est domiciliée", "de l'intéressée"]),
    ("autorisation-stationnement", {"civilite": "Madame", "nombre_places": 1},
     ["est autorisée à occuper 1 place de stationnement", "de la bénéficiaire", "Total CHF 124.00",
      "Conseil communal", "30 jours"], ["1 places"]),
    # As /v1/mail/acknowledge fills it from an e-mail: no civility, first name or postal address.
    ("accuse-reception", {"civilite": None, "prenom": None, "adresse": None, "npa_localite": None,
                          "annexes": [], "nom": "Jean-Daniel Perrenoud"},
     ["Madame, Monsieur,", "Veuillez agréer, Madame, Monsieur, nos", "Par courriel : jd.perrenoud@bluewin.ch"],
     ["documents suivants", "Rue du Marais"]),
    ("confirmation-rendez-vous", {"remarques": None}, ["Passeport ou carte d'identité valable"], ["Remarques"]),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("letter, changes, present, absent", BRANCHES,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BRANCHES)])
def test_letter_branches(server, letter, changes, present, absent, fmt):
    values = {k: v for k, v in {**examples(letter), **changes}.items() if v is not None}
    _, text = rendered_text(render(server, letter, values, fmt), fmt)
    for phrase in present:
        assert normalized(phrase) in text, phrase
    for phrase in absent:
        assert normalized(phrase) not in text, phrase


def bold_texts(data: bytes, fmt: str) -> list[str]:
    """Texts printed in bold by direct character formatting (a run's w:b, a span's bold style)."""
    if fmt == "docx":
        document = docx.Document(io.BytesIO(data))
        return [run.text for p in document.element.body.iter(qn("w:p")) for run in Paragraph(p, None).runs
                if run.bold]
    document = load_odt(io.BytesIO(data))
    bold = set()
    for style in document.automaticstyles.childNodes + document.styles.childNodes:
        for props in getattr(style, "childNodes", []):
            if props.qname[1] == "text-properties" and props.getAttribute("fontweight") == "bold":
                bold.add(style.getAttribute("name"))
    return [teletype.extractText(span) for span in document.text.getElementsByType(odftext.Span)
            if span.getAttribute("stylename") in bold]


@pytest.mark.parametrize("fmt", FORMATS)
def test_split_placeholder_keeps_its_bold_in_the_libreoffice_saved_model(server, fmt):
    """In relance-facture, `{{ mon¦tant }}` is bold and cut in two by Writer: the amount stays bold."""
    values = {**examples("relance-facture"), "montant": 1234.5}
    response = render(server, "relance-facture", values, fmt)
    assert response.status_code == 200, response.text[:300]
    assert any("1'234.50" in normalized(t) for t in bold_texts(response.content, fmt))
    _, text = rendered_text(response, fmt)
    assert "CHF 1'234.50" in text


@pytest.mark.libreoffice
def test_rendered_letters_convert_to_pdf_with_libreoffice(server, tmp_path):
    require_soffice()  # fails in CI, skips elsewhere
    files = []
    for letter in LETTERS:
        for fmt in FORMATS:
            response = render(server, letter, examples(letter), fmt)
            assert response.status_code == 200, response.text[:300]
            path = tmp_path / f"{letter}-{fmt}.{fmt}"
            path.write_bytes(response.content)
            files.append(path)
    assert_converted_to_pdf(files, tmp_path)


def test_server_lists_the_library_with_its_fields(server):
    with server.client("user") as client:
        listing = client.get("/v1/templates")
        assert listing.status_code == 200
        by_id = {t["id"]: t for t in listing.json()}
        for letter in LETTERS:
            data = manifest(letter)
            assert by_id[letter]["title"] == data["title"] and by_id[letter]["category"] == data["category"]
            detail = client.get(f"/v1/templates/{letter}").json()
            assert [f["name"] for f in detail["fields"]] == [f["name"] for f in data["fields"]]
            assert [f["label"] for f in detail["fields"]] == [f["label"] for f in data["fields"]]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("letter", LETTERS)
def test_models_follow_french_typography(letter, fmt):
    """Typographic apostrophe, no-break space before « : ; ? ! » and inside guillemets."""
    for part, lines in model_parts(letter, fmt).items():
        for line in lines:
            prose = re.sub(r"\{[{%#].*?[}%#]\}", "", line)
            assert "'" not in prose, f"{letter}.{fmt} ({part}) : apostrophe droite dans « {line} »"
            assert not re.search(r" [:;?!»]|« ", prose), f"{letter}.{fmt} ({part}) : espace sécable dans « {line} »"
