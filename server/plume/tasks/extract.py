"""Case notes → values for a letter template's declared fields, with what is missing or uncertain.

Without a model, deterministic extractors read civility and names (spaCy fr_core_news_sm helps with
names), dates (written French dates too) chosen by the words before them, amounts in francs, postal
code + locality, street address, invoice numbers, delays in days and the purpose ("pour …").
With a model, the model answers JSON constrained to the template's fields; it only fills what the
rules left missing or uncertain, and its values are checked like any user input.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from datetime import date
from typing import Any, Literal

import anyio
import msgspec

from plume import workers
from plume.errors import InvalidRequest
from plume.inference.base import Inference, Message
from plume.language import breaks
from plume.tasks.base import Call, Engine, Event, Job, Offer, TaskBase, capability
from plume.tasks.common import complete_structured, fence
from plume.search.service import Hit
from plume.tasks.letters import TemplatesUnavailable
from plume.tasks.sources import applicable, applicable_line
from plume.tasks.facts import NUMBER_WORD, find_amounts, find_dates, number_from_words

TASK = "extract"


@dataclass
class FieldSpec:
    """What extraction needs to know of a template field (the library's field objects fit)."""

    name: str
    type: str = "text"
    label: str = ""
    required: bool = False
    choices: list[str] = field(default_factory=list)


class Extraction(msgspec.Struct, kw_only=True):
    values: dict[str, Any]
    missing: list[str]
    uncertain: list[str]
    engine: str


@dataclass
class _Found:
    value: Any
    certain: bool = True


# ------------------------------------------------------------------------------ single extractors
CIVILITY = re.compile(r"\b(?P<civ>Mme|Madame|Mlle|Mademoiselle|M\.|Monsieur|Mr\.?|Frau|Herr)\s+"
                      r"(?P<name>[A-ZÀ-Ý][\w'’-]+(?:\s+(?:de |van |von |da |di |dos |du |le |la )?[A-ZÀ-Ý][\w'’-]+){0,3})")
_FEMALE = {"mme", "madame", "mlle", "mademoiselle", "frau"}
STREET_TYPES = (r"rue|route|chemin|ch\.|avenue|av\.|place|impasse|allée|quai|boulevard|bd|sentier|passage|"
                r"ruelle|faubourg|promenade|crêt|crêts|esplanade|rampe|montée|Strasse|Weg|Gasse")
STREET = re.compile(rf"\b(?P<street>(?:{STREET_TYPES})\b[\s\w'’.-]{{1,40}}?\s\d{{1,4}}[a-zA-Z]?)\b(?=\s*[,;)\n]|\s*$|\s+\d{{4}}\s)",
                    re.IGNORECASE)
NPA_LOCALITY = re.compile(r"\b(?:CH-)?(?P<npa>[1-9]\d{3})\s+(?P<loc>[A-ZÀ-Ý][\w'’-]+(?:[ -](?:[A-ZÀ-Ý][\w'’-]+|le|la|"
                          r"les|de|du|des|sur|sous|en|près|am|im|bei)){0,4})")
# "Crêt-Vaillant 25, 2400 Le Locle": a capitalised name and a number right before the postal code.
ADDRESS_BEFORE_NPA = re.compile(r"(?P<street>[A-ZÀ-Ý][\w'’.-]+(?:\s+[\w'’.-]+){0,4}?\s+\d{1,4}[a-zA-Z]?)\s*,\s*"
                                r"(?:CH-)?[1-9]\d{3}\s+[A-ZÀ-Ý]")
INVOICE = re.compile(r"\bfacture\s+(?:n[°o]\.?\s*|numéro\s+)?(?P<num>[A-Z]{0,4}[-/]?\d[\w/.-]*\d)\b", re.IGNORECASE)
DELAY_DAYS = re.compile(rf"(?:délai|dans|sous|d'ici)\s*(?::|de)?\s*(?P<n>\d+|{NUMBER_WORD})\s*jours", re.IGNORECASE)
PURPOSE = re.compile(r"\bpour\s+(?:(?:la|le|les|l['’]|son|sa|ses|leur|leurs|un|une|des|mon|ma|mes)\s*)?"
                     r"(?P<what>[^,;.:()\n]{2,80})")

# Words that, before a date, tell which date it is ("née le" → date of birth).
DATE_CUES = {
    "naissance": ("née", "né", "naissance", "geboren"),
    "depuis": ("depuis", "dès", "arrivée", "seit"),
    "facture": ("facture", "du"),
    "rappel": ("rappel",),
    "reception": ("reçu", "reçue", "réception"),
    "rendez": ("rendez-vous", "le"),
    "debut": ("dès", "à partir", "du"),
    "fin": ("jusqu", "au"),
    "echeance": ("échéance", "avant", "d'ici"),
}


def civility_and_name(text: str, nlp=None) -> tuple[_Found | None, _Found | None, _Found | None]:
    """(civilité, prénom, nom). The civility comes from 'Mme'/'M.'; without it, spaCy's person names
    (`nlp` is a function returning the pipeline, so it loads only when needed)."""
    m = CIVILITY.search(text)
    if m:
        civility = "Madame" if m["civ"].lower().rstrip(".") in _FEMALE else "Monsieur"
        first, last = _split_name(m["name"])
        return _Found(civility), (_Found(first) if first else None), _Found(last)
    if nlp is None:
        return None, None, None
    for ent in nlp()(text[:5000]).ents:
        if ent.label_ == "PER":
            words = [t.text for t in ent if t.text[:1].isupper() and t.pos_ in ("PROPN", "NOUN", "X")]
            if len(words) >= 2:
                return None, _Found(" ".join(words[:-1]), False), _Found(words[-1], False)
    return None, None, None


def _split_name(name: str) -> tuple[str, str]:
    words = name.split()
    if len(words) == 1:
        return "", words[0]
    # Particles stay with the family name: "Jean de Montmollin" → ("Jean", "de Montmollin").
    for i, w in enumerate(words[1:], start=1):
        if w in ("de", "van", "von", "da", "di", "dos", "du", "le", "la"):
            return " ".join(words[:i]), " ".join(words[i:])
    return " ".join(words[:-1]), words[-1]


def street_address(text: str) -> _Found | None:
    m = STREET.search(text) or ADDRESS_BEFORE_NPA.search(text)
    if not m:
        return None
    street = " ".join(m["street"].split())
    street = re.sub(r"^(?:domicilié|domiciliée|habite|habitant|sis|sise|à|au)\s+", "", street, flags=re.I)
    return _Found(street[0].upper() + street[1:])


def npa_locality(text: str) -> _Found | None:
    m = NPA_LOCALITY.search(text)
    return _Found(f"{m['npa']} {m['loc']}") if m else None


def invoice_number(text: str) -> _Found | None:
    m = INVOICE.search(text)
    return _Found(m["num"]) if m else None


def delay_days(text: str) -> _Found | None:
    m = DELAY_DAYS.search(text)
    if not m:
        return None
    n = number_from_words(m["n"])
    return _Found(n) if n is not None else None


def purpose(text: str) -> _Found | None:
    m = PURPOSE.search(text)
    return _Found(m["what"].strip(), False) if m else None


def assign_dates(text: str, fields: list[FieldSpec], reference: date) -> dict[str, _Found]:
    """Give each date field the date whose preceding words best match the field's name and label."""
    dates = find_dates(text, reference)
    result: dict[str, _Found] = {}
    used: set[int] = set()
    for spec in fields:
        cues = _cues(spec)
        best, best_score = None, 0
        for i, d in enumerate(dates):
            if i in used:
                continue
            before = text[max(0, d.start - 35):d.start].lower()
            # The nearest cue word counts most: "facture 2026-1187 du 3 septembre" vs "rappel envoyé le 15 octobre".
            score = sum(3 if cue in before[-15:] else 1 for cue in cues if cue in before)
            if score > best_score:
                best, best_score = i, score
        if best is not None:
            used.add(best)
            result[spec.name] = _Found(dates[best].value.isoformat())
    remaining = [d for i, d in enumerate(dates) if i not in used]
    for spec in fields:
        if spec.name not in result and remaining:
            result[spec.name] = _Found(remaining.pop(0).value.isoformat(), False)
    return result


def _cues(spec: FieldSpec) -> set[str]:
    words = set(re.split(r"[_\s'’-]+", f"{spec.name} {spec.label}".lower())) - {"date", "de", "du", "la", "le", "d", ""}
    cues = set()
    for word in words:
        for key, found in DATE_CUES.items():
            if word.startswith(key[:5]):
                cues.update(found)
        if len(word) > 3:
            cues.add(word)
    return cues - {"du", "le", "au"} if len(cues) > 3 else cues


# ------------------------------------------------------------------------------ field → extractor
def _which(spec: FieldSpec) -> str:
    name = spec.name.lower()
    if spec.type == "date":
        return "date"
    if spec.type == "money" or name in ("montant", "somme", "prix", "total"):
        return "money"
    for key, kind in (("civilite", "civility"), ("prenom", "first"), ("npa", "npa"), ("localite", "npa"),
                      ("adresse", "street"), ("rue", "street"), ("facture", "invoice"), ("delai", "delay"),
                      ("motif", "purpose"), ("objet", "purpose"), ("nom", "last")):
        if key in name:
            return kind
    return "unknown"


def extract_by_rules(text: str, fields: list[FieldSpec], *, reference: date | None = None, nlp=None
                     ) -> tuple[dict[str, Any], list[str], list[str]]:
    """(values, missing, uncertain) by the deterministic extractors."""
    reference = reference or date.today()
    kinds = {spec.name: _which(spec) for spec in fields}
    civility, first, last = civility_and_name(text, nlp) if {"civility", "first", "last"} & set(kinds.values()) \
        else (None, None, None)
    found: dict[str, _Found | None] = {}
    amounts = find_amounts(text)
    for spec in fields:
        kind = kinds[spec.name]
        found[spec.name] = {
            "civility": civility, "first": first, "last": last, "street": street_address(text),
            "npa": npa_locality(text), "invoice": invoice_number(text), "purpose": purpose(text),
            "money": _Found(amounts[0].value, len(amounts) == 1) if amounts else None,
            "delay": delay_days(text) if spec.type in ("number", "text") else None,
        }.get(kind)
    found.update(assign_dates(text, [s for s in fields if kinds[s.name] == "date"], reference))
    for spec in fields:  # a choice field takes only a value it declares
        f = found.get(spec.name)
        if f is not None and spec.choices and f.value not in spec.choices:
            found[spec.name] = None
    values = {name: f.value for name, f in found.items() if f is not None and f.value not in ("", None)}
    uncertain = [name for name, f in found.items() if f is not None and not f.certain and name in values]
    missing = [spec.name for spec in fields if spec.name not in values]
    return values, missing, uncertain


# ---------------------------------------------------------------------------------------- model
def _model_type(spec: FieldSpec) -> Any:
    if spec.choices:
        return Literal[tuple(spec.choices)] | None  # type: ignore[valid-type]
    return {"money": float | None, "number": float | None, "bool": bool | None,
            "list": list[Any] | None}.get(spec.type, str | None)


def answer_schema(fields: list[FieldSpec]) -> type:
    return msgspec.defstruct("FieldValues", [(spec.name, _model_type(spec), None) for spec in fields])


def _check_dates(fields: list[FieldSpec]):
    def check(value: Any) -> None:
        for spec in fields:
            v = getattr(value, spec.name)
            if spec.type == "date" and v:
                try:
                    date.fromisoformat(v)
                except ValueError:
                    raise ValueError(f"« {spec.name} » doit être une date AAAA-MM-JJ") from None
    return check


def extraction_messages(text: str, fields: list[FieldSpec], known: dict[str, Any]) -> list[Message]:
    fenced, rule = fence(text)
    described = "\n".join(f"- {s.name} ({s.type}{', parmi : ' + ' | '.join(s.choices) if s.choices else ''}) : "
                          f"{s.label}" for s in fields)
    system = ("Tu extrais des notes d'un dossier les valeurs des champs d'une lettre administrative. "
              "Réponds uniquement par un objet JSON avec exactement ces champs ; mets null quand la note ne donne "
              "pas la valeur, n'invente rien. Un texte est recopié tel qu'il figure dans la note, mots entiers, "
              "sans le mot qui suit. Dates au format AAAA-MM-JJ, montants en nombre.\n"
              f"Champs :\n{described}\n" + rule)
    hint = f"Valeurs déjà trouvées (à garder) : {msgspec.json.encode(known).decode()}\n\n" if known else ""
    return [Message("system", system), Message("user", hint + fenced)]


def _folded(text: str) -> str:
    return " ".join(re.sub(r"[^\w@.'’-]+", " ", text.casefold()).split())


def _in_source(value: Any, spec: FieldSpec, text: str) -> bool:
    """A free-text value (not a date, number or choice) proposed by the model must be a passage of
    the note, words whole: « 2400 Le Locle de » (cut in the middle of « depuis ») is not."""
    if not isinstance(value, str) or spec.choices or spec.type not in ("text", "str", "string"):
        return True
    return f" {_folded(value)} " in f" {_folded(text)} " if _folded(value) else False


async def extract(text: str, fields: list[FieldSpec], inference: Inference | None = None, *,
                  user: str | None = None, reference: date | None = None, nlp=None) -> Extraction:
    values, missing, uncertain = await workers.run(
        "text", partial(extract_by_rules, text, fields, reference=reference, nlp=nlp))
    engine = "rules"
    if inference is not None and (missing or uncertain):
        answer, completion = await complete_structured(
            inference, TASK, extraction_messages(text, fields, values), answer_schema(fields), user=user,
            max_tokens=400, check=_check_dates(fields))
        engine = f"rules+{completion.model}"
        specs = {spec.name: spec for spec in fields}
        for name in list(missing) + list(uncertain):
            proposed = getattr(answer, name)
            if not _in_source(proposed, specs[name], text):
                continue  # a text value must be copied from the note, never made up or cut short
            if proposed not in (None, "", []):
                values[name] = proposed
                if name in missing:
                    missing.remove(name)
                    uncertain.append(name)  # a model's value is a proposal for the clerk to check
    return Extraction(values=values, missing=missing, uncertain=sorted(set(uncertain)), engine=engine)


def french_pipeline():
    """spaCy's French pipeline, shared with the language package when it is there."""
    try:
        from plume.language.nlp import french
    except ImportError:  # pragma: no cover - the language package ships with Plume
        import spacy

        return spacy.load("fr_core_news_sm")
    return french()


# -- the task ---------------------------------------------------------------------------------------------------

NO_TEMPLATES = ("Aucun modèle de lettre n'est disponible sur ce serveur. Le service informatique ou la personne "
                "responsable des modèles peut en ajouter.")
NO_TEMPLATES_DE = ("Auf diesem Server ist keine Briefvorlage verfügbar. Die Informatik oder die für die Vorlagen "
                   "zuständige Person kann welche hinzufügen.")


class ExtractIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: str
    engine: Engine = "auto"
    # Name the applicable article of the commune's documents when a collection holds it (docs/search.md):
    # `applicable` in the answer, and in the letter's « base_legale » field when the template has one.
    cite: bool = False
    collections: list[str] | None = None

    def __post_init__(self) -> None:
        self.text = breaks.normalise(self.text)


@dataclass(frozen=True)
class ExtractRequest:
    """The notes (the body) for one template of the library (the path)."""

    template_id: str
    text: str
    engine: Engine = "auto"
    cite: bool = False
    collections: list[str] | None = None


class ExtractTask(TaskBase):
    """POST /v1/templates/{id}/extract: the rules' values, completed by a model where they found none."""

    name = TASK
    request_type = ExtractIn

    async def prepare(self, request: ExtractRequest, call: Call) -> Job:
        if not request.text.strip():
            raise InvalidRequest("Le texte des notes est vide.")
        templates = call.services.templates
        if templates is None:
            raise TemplatesUnavailable()
        info = await anyio.to_thread.run_sync(templates.get, request.template_id)
        fields = [FieldSpec(name=f.name, type=f.type, label=f.label, required=f.required,
                            choices=list(f.choices or [])) for f in info.fields]
        cited = await applicable(call, request.text[:1200], request.collections) if request.cite else None
        return Job(request, call, engine=request.engine, data=(fields, cited))

    async def rules(self, job: Job) -> dict[str, Any]:
        fields, cited = job.data
        return with_citation(await extract(job.request.text, fields, None, user=job.user, nlp=french_pipeline),
                             fields, cited)

    async def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        fields, cited = job.data
        found = await extract(job.request.text, fields, job.inference, user=job.user, nlp=french_pipeline)
        yield "result", with_citation(found, fields, cited)

    def describe(self, offer: Offer) -> dict[str, Any]:
        engines = super().describe(offer)["engines"]
        return capability(bool(offer.templates), engines, NO_TEMPLATES, NO_TEMPLATES_DE, templates=len(offer.templates))


LEGAL_BASIS_FIELD = "base_legale"  # a template's field for the article a letter rests on


def with_citation(found: Any, fields: list[FieldSpec], cited: Hit | None) -> dict[str, Any]:
    """The values, with the applicable article when one was asked and found: `applicable` (its line)
    and `applicable_source` (the passage), and the template's « base_legale » field when it has one
    and the notes left it empty. Nothing is cited when no passage is sure enough."""
    result = msgspec.to_builtins(found)
    if cited is None:
        return result
    result["applicable"] = applicable_line(cited, "fr")
    result["applicable_source"] = msgspec.to_builtins(cited)
    if any(f.name == LEGAL_BASIS_FIELD for f in fields) and not result["values"].get(LEGAL_BASIS_FIELD):
        result["values"][LEGAL_BASIS_FIELD] = cited.reference
        result["missing"] = [m for m in result.get("missing", []) if m != LEGAL_BASIS_FIELD]
    return result
