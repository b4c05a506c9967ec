"""The Swiss QR-bill payment part, for templates whose template.toml has a `[qrbill]` table.

`qrbill` (the maintained library that follows SIX's Swiss Payment Standards) checks the account,
reference, amount and addresses and draws the payment part with its QR code as SVG; CairoSVG turns
it into a PNG at 300 dpi. The picture is the value of `qrbill` in the letter: the model holds a
placeholder picture whose alternative text is `{{ qrbill }}` (see images.py), 21 × 10.5 cm at the
bottom of a page. A field the bill refuses is a French 422 naming that field.

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

import io
import re
from typing import Any

from plume.documents.images import Image
from plume.documents.manifest import QRBILL_LANGUAGES, Manifest, QrBillSpec
from plume.errors import Refusal

QRBILL_FIELD = "qrbill"
QRBILL_LANGUAGE_KEY = "[qrbill] language"
DPI = 300
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
    from qrbill import QRBill

    from plume.documents.formatting import plain_environment

    env = plain_environment()

    def text(pattern: str) -> str:
        return env.from_string(pattern).render(context) if pattern else ""

    account = str(context.get(spec.account) or "").replace(" ", "")
    reference = str(context.get(spec.reference) or "").replace(" ", "") if spec.reference else ""
    amount = context.get(spec.amount) if spec.amount else None
    creditor = _address(text(spec.creditor_name), text(spec.creditor_street), text(spec.creditor_place),
                        _field_of(spec.creditor_place, context))
    debtor = _address(text(spec.debtor_name), text(spec.debtor_street), text(spec.debtor_place),
                      _field_of(spec.debtor_place, context))
    try:
        return QRBill(account=account, creditor=creditor, debtor=debtor,
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


def _field_of(pattern: str, context: dict[str, Any]) -> str:
    """The field a pattern takes its text from; of several ("{{ prenom }} {{ nom }}"), the one with the
    longest value, the likeliest to shorten. "commune" for commune.toml's values or none."""
    names = re.findall(r"\{\{\s*(\w+)", pattern)
    if not names:
        return "commune"
    return max(names, key=lambda name: len(str(context.get(name) or "")))


class DrawingUnavailable(Refusal):
    """The server lacks the Cairo library: IT's to install, not the clerk's to fix (503)."""

    code = "qrbill-unavailable"


def payment_part(spec: QrBillSpec, context: dict[str, Any]) -> Image:
    """The payment part (receipt + payment part, 210 mm wide) drawn by qrbill, as a 300 dpi PNG.

    CairoSVG draws it; the pixels are saved by Pillow in grey levels with light compression (the
    page is black on white): a third faster and half the size of CairoSVG's own colour PNG."""
    try:
        from cairosvg.parser import Tree
        from cairosvg.surface import PNGSurface
    except (ImportError, OSError) as exc:  # cairocffi finds no libcairo on this server
        raise DrawingUnavailable("Le bulletin de versement QR ne peut pas être dessiné : la bibliothèque Cairo "
                                 "manque sur le serveur (paquet Debian libcairo2).") from exc
    from PIL import Image as PILImage

    bill = build(spec, context)
    svg = io.StringIO()
    bill.as_svg(svg)
    surface = PNGSurface(Tree(bytestring=svg.getvalue().encode("utf-8")), None, DPI, background_color="white").cairo
    surface.flush()
    width, height = surface.get_width(), surface.get_height()
    pixels = PILImage.frombuffer("RGBA", (width, height), bytes(surface.get_data()), "raw", "BGRA",
                                 surface.get_stride(), 1)
    png = io.BytesIO()
    pixels.convert("L").save(png, "PNG", compress_level=1, dpi=(DPI, DPI))
    return Image(data=png.getvalue(), format="PNG", width=width, height=height)


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
