"""template.toml: the letter's identity and its fields, decoded into msgspec structs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

FieldType = Literal["text", "date", "money", "number", "choice", "list", "bool", "image"]
TEMPLATE_ID = re.compile(r"\A[a-z0-9][a-z0-9-]{0,63}\Z")  # \Z, not $: "id\n" must not pass
# A language version's code (ISO 639-1, e.g. de, it, en): the model it names is model.<code>.docx/.odt.
LANGUAGE_CODE = re.compile(r"\A[a-z]{2,3}\Z")
BASE_LANGUAGE = "fr"  # model.docx / model.odt are in the commune's language
# model.docx, model.odt and the language versions model.de.docx, model.it.odt…
MODEL_FILE = re.compile(r"\Amodel(?:\.([a-z]{2,3}))?\.(docx|odt)\Z")


def model_key(name: str) -> str | None:
    """`model.docx` -> "docx", `model.de.odt` -> "de.odt"; None for any other file name."""
    match = MODEL_FILE.match(name)
    if match is None:
        return None
    language, fmt = match.groups()
    return f"{language}.{fmt}" if language else fmt


class Column(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    label: str = ""
    type: FieldType = "text"
    required: bool = False
    help: str = ""
    example: Any = None
    choices: list[str] = msgspec.field(default_factory=list)


class Field(Column, kw_only=True, forbid_unknown_fields=True):
    """A template field: a column's attributes, plus `columns` when it is a list of rows."""

    columns: list[Column] = msgspec.field(default_factory=list)


# The languages the QR-bill's payment part is printed in (SIX's standard; qrbill refuses any other).
QRBILL_LANGUAGES = ("fr", "de", "it", "en")


class QrBillSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`[qrbill]`: which fields make the Swiss QR-bill payment part (see documents/qrbill.py)."""

    account: str
    reference: str = ""
    amount: str = ""
    debtor_name: str = ""
    debtor_street: str = ""
    debtor_place: str = ""
    creditor_name: str = "{{ commune.nom }}"
    creditor_street: str = "{{ commune.adresse }}"
    creditor_place: str = "{{ commune.npa_localite }}"
    language: str = "fr"


class Manifest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    title: str
    category: str = ""
    service: str = ""
    owner: str = ""
    version: str = ""
    description: str = ""
    output: str = ""
    fields: list[Field] = msgspec.field(default_factory=list)
    qrbill: QrBillSpec | None = None
    # Other languages the letter exists in, each as model.<code>.docx and/or model.<code>.odt beside
    # model.docx (French): e.g. ["de", "it", "en"].
    translations: list[str] = msgspec.field(default_factory=list)

    def examples(self) -> dict[str, Any]:
        return {f.name: f.example for f in self.fields if f.example is not None}


class ManifestError(ValueError):
    """template.toml cannot be read; the message is French and names the problem."""


def parse_manifest(data: bytes) -> Manifest:
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"template.toml illisible : {exc}") from None
    try:
        manifest = msgspec.convert(raw, Manifest)
    except msgspec.ValidationError as exc:
        raise ManifestError(f"template.toml invalide : {exc}") from None
    problems = manifest_problems(manifest)
    if problems:
        raise ManifestError("template.toml invalide : " + " ; ".join(problems))
    return manifest


def load_manifest(path: Path) -> Manifest:
    return parse_manifest(path.read_bytes())


def manifest_problems(manifest: Manifest) -> list[str]:
    problems = []
    if not TEMPLATE_ID.match(manifest.id):
        problems.append(f"identifiant « {manifest.id} » : lettres minuscules, chiffres et tirets seulement")
    seen: set[str] = set()
    for field in manifest.fields:
        if not field.name.isidentifier():
            problems.append(f"nom de champ « {field.name} » : lettres, chiffres et _ seulement")
        if field.name in seen:
            problems.append(f"champ « {field.name} » déclaré deux fois")
        seen.add(field.name)
        if field.type == "choice" and not field.choices:
            problems.append(f"champ « {field.name} » de type choice sans « choices »")
        if field.columns and field.type != "list":
            problems.append(f"champ « {field.name} » : « columns » seulement pour le type list")
        for column in field.columns:
            if column.type == "list":
                problems.append(f"champ « {field.name} » : une colonne ne peut pas être une liste")
    for code in manifest.translations:
        if not LANGUAGE_CODE.match(code) or code == BASE_LANGUAGE:
            problems.append(f"translations : « {code} » n'est pas un code de langue (de, it, en…) ; le français "
                            "est le modèle de base (model.docx / model.odt)")
    if len(set(manifest.translations)) != len(manifest.translations):
        problems.append("translations : une langue figure deux fois")
    if manifest.qrbill is not None:
        for key in ("account", "reference", "amount"):
            name = getattr(manifest.qrbill, key)
            if name and name not in seen:
                problems.append(f"[qrbill] {key} = « {name} » : ce champ n'est pas déclaré dans [[fields]]")
        if manifest.qrbill.language not in QRBILL_LANGUAGES:
            problems.append(f"[qrbill] language = « {manifest.qrbill.language[:20]} » : langue du bulletin de "
                            "versement inconnue (fr, de, it ou en)")
    return problems
