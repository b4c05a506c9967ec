"""The Swiss QR-bill payment part, for templates whose template.toml has a `[qrbill]` table.

`qrbill` (the maintained library that follows SIX's Swiss Payment Standards) checks the account,
reference, amount and addresses and draws the payment part with its QR code as SVG. The letter gets
that drawing itself, as vector graphics: the .odt holds the SVG (LibreOffice draws it, and its PDF
keeps it vector), the .docx holds it as Word 2016+ holds an SVG picture (`asvg:svgBlip`) beside a PNG
copy for the readers that have no SVG (LibreOffice 7 opening a .docx, older Word), drawn by librsvg
(pyvips) at 200 dpi. The picture is the value of `qrbill` in the letter: the model holds a placeholder
picture whose alternative text is `{{ qrbill }}` (see images.py), 21 × 10.5 cm at the bottom of a
page. A field the bill refuses is a French 422 naming that field.

Drawing used to cost 200–600 ms of Python per letter (CairoSVG turning the SVG into a 300 dpi PNG),
holding the interpreter's lock: under 40 clients these letters queued for 20 s and more (issue 24).
Now: the SVG (qrbill's layout; the QR code's modules written as one path of runs, see `_QrPath`) and
the PNG copy in C, which releases the lock (bench/qrbill_drawing.py measures both ways).

    [qrbill]
    account = "iban"            # field names in this template
    reference = "reference"
    amount = "montant"
    debtor_name = "{{ prenom }} {{ nom }}"   # Jinja, like `output`
    debtor_street = "{{ adresse }}"
    debtor_place = "{{ npa_localite }}"      # "2400 Le Locle"
    language = "fr"                          # the payment part's language: fr, de, it or en
The creditor is the commune (commune.toml: nom, adresse, npa_localite) unless creditor_* are given.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
from typing import Any

import qrcode
from qrbill import QRBill

from plume.documents.images import Image
from plume.documents.manifest import QRBILL_LANGUAGES, Manifest, QrBillSpec
from plume.errors import Refusal

QRBILL_FIELD = "qrbill"  # also in images.VECTOR_FIELDS: its placeholder gets the vector drawing
QRBILL_LANGUAGE_KEY = "[qrbill] language"
FALLBACK_DPI = 200  # the PNG copy in a .docx, for readers without SVG: the QR code at 5.6 px per module
_PLACE = re.compile(r"^\s*(\d{4,5})\s+(.+?)\s*$")


class QrBillRefused(ValueError):
    """The bill's data does not fit the standard: `field` names the template field, `message` is French."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _address(name: str, street: str, place: str, field: str) -> dict[str, str] | None:
    if not name.strip():
        return None
    match = _PLACE.match(place)
    if match is None:
        raise QrBillRefused(field, "NPA et localité attendus (par ex. « 2400 Le Locle ») pour le bulletin de "
                                   "versement.")
    return {"name": name.strip(), "street": street.strip(), "pcode": match.group(1), "city": match.group(2),
            "country": "CH"}


def build(spec: QrBillSpec, context: dict[str, Any]) -> Any:
    """The qrbill.QRBill for these values, or QrBillRefused naming the field at fault."""

    def text(pattern: str) -> str:
        return _pattern(pattern).render(context) if pattern else ""

    account = str(context.get(spec.account) or "").replace(" ", "")
    reference = str(context.get(spec.reference) or "").replace(" ", "") if spec.reference else ""
    amount = context.get(spec.amount) if spec.amount else None
    creditor = _address(text(spec.creditor_name), text(spec.creditor_street), text(spec.creditor_place),
                        _field_of(spec.creditor_place, context))
    debtor = _address(text(spec.debtor_name), text(spec.debtor_street), text(spec.debtor_place),
                      _field_of(spec.debtor_place, context))
    try:
        return _Bill(account=account, creditor=creditor, debtor=debtor,
                      amount=None if amount in (None, "") else str(amount),
                      reference_number=reference or None, language=spec.language)
    except ValueError as exc:
        raise _refusal(str(exc), spec, context) from None


# qrbill's address refusals ("The debtor address is invalid: A street cannot have…"): the part of the
# address at fault, and the French reason.
_ADDRESS_PARTS = (
    ("address name", "name", "le nom complet est trop long pour le bulletin de versement (70 caractères au plus)."),
    ("street", "street", "rue et numéro trop longs pour le bulletin de versement (70 caractères au plus)."),
    ("house number", "street", "numéro de maison trop long pour le bulletin de versement (16 caractères au plus)."),
    ("postal code", "place", "NPA invalide pour le bulletin de versement (16 caractères au plus)."),
    ("city", "place", "localité trop longue pour le bulletin de versement (35 caractères au plus)."),
)


def _address_refusal(message: str, spec: QrBillSpec, context: dict[str, Any]) -> QrBillRefused | None:
    """A debtor or creditor address refused by qrbill, pointed at the field its pattern takes that
    part from (debtor_street = "{{ adresse }}" → adresse)."""
    who, _, reason = message.partition(" address is invalid:")
    if who not in ("The debtor", "The creditor"):
        return None
    reason = reason.lower()
    part, french = next(((p, f) for key, p, f in _ADDRESS_PARTS if key in reason),
                        ("name", "adresse incomplète pour le bulletin de versement."))
    pattern = getattr(spec, f"{'debtor' if who == 'The debtor' else 'creditor'}_{part}")
    field = _field_of(pattern, context)
    if field == "commune":
        return QrBillRefused(field, f"adresse du créancier (commune.toml) : {french}")
    return QrBillRefused(field, french)


def _refusal(message: str, spec: QrBillSpec, context: dict[str, Any]) -> QrBillRefused:
    """qrbill's English reasons as French, pointed at the template field."""
    if (address := _address_refusal(message, spec, context)) is not None:
        return address
    if spec.language not in QRBILL_LANGUAGES:  # template.toml's fault, named by its key (not the creditor's)
        return QrBillRefused(QRBILL_LANGUAGE_KEY, f"langue « {spec.language[:20]} » inconnue pour le bulletin de "
                                                  "versement (fr, de, it ou en), à corriger dans template.toml.")
    if "QR-IBAN requires" in message:
        return QrBillRefused(spec.reference, "avec un QR-IBAN, une référence QR (27 chiffres) est obligatoire.")
    if "only allowed for a QR-IBAN" in message:
        return QrBillRefused(spec.reference, "une référence QR (27 chiffres) demande un QR-IBAN ; avec cet IBAN, "
                                             "utilisez une référence créancier (RF…) ou aucune.")
    if "reference" in message.lower():
        return QrBillRefused(spec.reference, "référence invalide : une référence QR (27 chiffres, chiffre de contrôle "
                                             "compris) ou une référence créancier RF… est attendue.")
    if "IBAN" in message or "account" in message:
        return QrBillRefused(spec.account, "IBAN invalide : un IBAN ou QR-IBAN suisse (CH…) ou liechtensteinois "
                                           "(LI…) correct est attendu.")
    if "mount" in message:
        return QrBillRefused(spec.amount, "montant impossible sur un bulletin de versement (0.01 à 999'999'999.99).")
    return QrBillRefused("commune", "adresse du créancier (commune.toml) incomplète pour le bulletin de versement.")


@functools.lru_cache(maxsize=256)
def _pattern(pattern: str) -> Any:
    """A [qrbill] pattern ("{{ prenom }} {{ nom }}"), compiled once (compiling took 4 ms a letter)."""
    from plume.documents.formatting import plain_environment

    return plain_environment().from_string(pattern)


def _field_of(pattern: str, context: dict[str, Any]) -> str:
    """The field a pattern takes its text from; of several ("{{ prenom }} {{ nom }}"), the one with the
    longest value, the likeliest to shorten. "commune" for commune.toml's values or none."""
    names = re.findall(r"\{\{\s*(\w+)", pattern)
    if not names:
        return "commune"
    return max(names, key=lambda name: len(str(context.get(name) or "")))


class DrawingUnavailable(Refusal):
    """The server lacks the drawing library (pyvips): IT's to install, not the clerk's to fix (503)."""

    code = "qrbill-unavailable"


def payment_part(spec: QrBillSpec, context: dict[str, Any]) -> Image:
    """The payment part (receipt + payment part, 210 mm wide): qrbill's SVG, and its PNG copy."""
    bill = build(spec, context)
    svg = io.StringIO()
    bill.as_svg(svg)
    vector = svg.getvalue().encode("utf-8")
    png, width, height = _raster(vector, FALLBACK_DPI)
    return Image(data=png, format="PNG", width=width, height=height, vector=vector)


def _raster(svg: bytes, dpi: int) -> tuple[bytes, int, int]:
    """The SVG as a grey PNG at `dpi`, drawn by librsvg inside libvips (C, outside Python's lock)."""
    try:
        import pyvips
    except (ImportError, OSError) as exc:  # the wheel's libvips does not load on this server
        raise DrawingUnavailable("Le bulletin de versement QR ne peut pas être dessiné : la bibliothèque pyvips "
                                 "manque sur le serveur.") from exc
    # librsvg reads the SVG's millimetres at 72 dpi; `scale` brings them to `dpi`. Band 0 of the
    # grey-on-white drawing is its grey level.
    picture = pyvips.Image.svgload_buffer(svg, scale=dpi / 72).extract_band(0)
    return picture.pngsave_buffer(compression=1), picture.width, picture.height


class _QrPath:
    """The QR code as qrbill's `draw_bill` reads qrcode's SvgPathImage (a `<path d=…>` in module
    units, and `width` in modules), written as one rectangle per run of dark modules in a row: the
    same picture as qrcode's drawer, which draws each of the ~2,000 modules alone (a third of
    qrbill's drawing time)."""

    def __init__(self, modules: list[list[bool]]) -> None:
        self.width = len(modules)
        runs = []
        for y, row in enumerate(modules):
            x = 0
            for dark, run in itertools.groupby(row):
                length = len(list(run))
                if dark:
                    runs.append(f"M{x},{y}H{x + length}V{y + 1}H{x}z")
                x += length
        self._path = "".join(runs)

    def save(self, out: io.BytesIO) -> None:
        out.write(f'<svg xmlns="http://www.w3.org/2000/svg"><path d="{self._path}"/></svg>'.encode("ascii"))


class _Bill(QRBill):
    """qrbill.QRBill whose QR code is qrcode's own (same data, error level M, no border, best mask),
    handed to the layout as `_QrPath`."""

    def qr_image(self) -> _QrPath:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        code.add_data(self.qr_data())
        code.make(fit=True)
        return _QrPath(code.modules)


def qrbill_context(manifest: Manifest, context: dict[str, Any]) -> dict[str, Any]:
    """`{"qrbill": payment part}` for a template with a `[qrbill]` table; FieldErrors (422) naming the
    field the bill refuses."""
    if manifest.qrbill is None:
        return {}
    from plume.documents.values import FieldErrors

    try:
        return {QRBILL_FIELD: payment_part(manifest.qrbill, context)}
    except QrBillRefused as exc:
        declared = next((f for f in manifest.fields if f.name == exc.field), None)
        label = (declared.label or declared.name) if declared else exc.field
        error = {"field": exc.field, "message": f"« {label} » : {exc.message}"}
        if declared:  # a value the clerk typed, not the commune's address or the [qrbill] table
            error["path"] = [exc.field]
        raise FieldErrors([error]) from None
