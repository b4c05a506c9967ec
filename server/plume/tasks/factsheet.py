"""A communal regulation → a public fact sheet in plain language, every statement with its legal
reference (art. N al. M). The regulation is the text sent, or a document of a collection the caller
may read (`"source": {"collection", "document"}`, as a search hit names it).

Without a model: the articles, and the amounts, deadlines, who is concerned, what to do and whom
to contact, each as the regulation's own sentence with its reference. Each rule appears once, under
the first heading that fits it (amounts, deadlines, what to do, who), else under « Autres règles »;
a sentence that opens with a pronoun (« Il est réduit à CHF 50.– ») stays joined to the sentence that
names what it stands for. With a model: the sheet
written in plain language; every reference must be one the regulation has, and every amount must
be one it states, or the answer is refused.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, Literal

import msgspec

from plume.errors import InvalidRequest
from plume.inference.base import Inference, Message
from plume.tasks.base import Call, Event, Job, TextTooLong
from plume.tasks.common import complete_structured, fence
from plume.tasks.drafts import DraftIn, DraftTask
from plume.tasks.facts import RELATIVE_DEADLINE, find_amounts, find_dates
from plume.tasks.sources import document_text

TASK = "factsheet"
TEMPLATE_ID = "fiche-explicative"

ARTICLE = re.compile(r"^\s*(?:Art\.|Article)\s*(?P<num>\d+[a-z]?)\b\.?\s*(?P<title>.*)$", re.IGNORECASE)
PARAGRAPH = re.compile(r"^\s*(?P<num>\d{1,2})\s+(?P<text>\S.*)$")
SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[A-ZÀ-Ý])")

DEADLINE_CUES = re.compile(r"\bdélai|\bjours?\b|\bsemaines?\b|\bau plus tard\b|\bavant le\b|"
                           r"\bdu \d{1,2}(?:er)? \w+ au\b", re.IGNORECASE)
WHO_CUES = re.compile(r"\btout(?:e|es)? (?:détenteur|détentrice|personne|propriétaire|habitant)|\bexonéré|"
                      r"\bau bénéfice\b|\bsont tenus\b|\best tenu\b|\bconcerne\b", re.IGNORECASE)
HOW_CUES = re.compile(r"\bannonc|\bdoit\b|\bdoivent\b|\best tenu|\bsont tenus|\bveille\b|\bramasse|\btenus en laisse|"
                      r"\binterdit|\bformulaire|\bdemande\b", re.IGNORECASE)
CONTACT = re.compile(r"\b(?:contrôle des habitants|conseil communal|administration communale|police (?:locale|"
                     r"administrative)|service (?:de |des |du |d['’])[\w-]+|guichet[\w ]{0,20}|chancellerie)\b",
                     re.IGNORECASE)


class Article(msgspec.Struct):
    number: str
    title: str
    paragraphs: list[str]


class Statement(msgspec.Struct):
    text: str
    reference: str


class FactSheet(msgspec.Struct, kw_only=True):
    title: str
    articles: list[Article]
    what: list[Statement] = []
    who: list[Statement] = []
    amounts: list[Statement] = []
    deadlines: list[Statement] = []
    how_to: list[Statement] = []
    contact: list[Statement] = []
    other: list[Statement] = []  # rules that fit none of the headings (rules only)


# A sentence opening with one of these leans on the sentence before it for its meaning.
PRONOUN_START = re.compile(r"^(?:Il|Elle|Ils|Elles|Leur|Leurs|Celui-ci|Celle-ci|Ceux-ci|Celles-ci|Ce|Cela|Ceci|"
                           r"En|Y|Sa|Son|Ses|Lui|Eux)\b")


def read_regulation(text: str) -> tuple[str, list[Article]]:
    lines = [line.rstrip() for line in text.splitlines()]
    title = next((line.strip() for line in lines if line.strip() and not ARTICLE.match(line)), "Règlement")
    articles: list[Article] = []
    for line in lines:
        if m := ARTICLE.match(line):
            articles.append(Article(m["num"], m["title"].strip(" .–-"), []))
        elif articles and line.strip():
            m = PARAGRAPH.match(line)
            if m and int(m["num"]) == len(articles[-1].paragraphs) + 1:
                articles[-1].paragraphs.append(m["text"].strip())
            elif articles[-1].paragraphs and not m:
                articles[-1].paragraphs[-1] += " " + line.strip()
            else:
                articles[-1].paragraphs.append(line.strip())
    return title, articles


def reference(article: Article, index: int) -> str:
    return f"art. {article.number}" + (f" al. {index + 1}" if len(article.paragraphs) > 1 else "")


def sentences(articles: list[Article]):
    for article in articles:
        for i, paragraph in enumerate(article.paragraphs):
            for sentence in SENTENCE_END.split(paragraph):
                yield sentence.strip(), reference(article, i)


def statements(articles: list[Article]) -> list[tuple[str, str]]:
    """The rules to file: each sentence with its reference, a sentence that opens with a pronoun joined
    to the one before it in the same article (« Le montant … CHF 100.–. Il est réduit à CHF 50.– … »)."""
    out: list[tuple[str, str]] = []
    for sentence, ref in sentences(articles):
        if out and _article(out[-1][1]) == _article(ref) and PRONOUN_START.match(sentence):
            out[-1] = (f"{out[-1][0]} {sentence}", _joined(out[-1][1], ref))
        else:
            out.append((sentence, ref))
    return out


def _article(ref: str) -> str:
    return ref.split(" al. ")[0]


def _joined(first: str, second: str) -> str:
    """« art. 5 al. 1 » + « art. 5 al. 2 » → « art. 5 al. 1-2 »."""
    if first == second or " al. " not in second:
        return first
    start = first.split(" al. ")[-1].split("-")[0]
    return f"{_article(first)} al. {start}-{second.split(' al. ')[-1]}"


def section_of(sentence: str) -> str:
    """The one heading a rule goes under: the first that fits, in the order a reader asks."""
    if find_amounts(sentence):
        return "amounts"
    if DEADLINE_CUES.search(sentence) or RELATIVE_DEADLINE.search(sentence) or _has_period(sentence):
        return "deadlines"
    if HOW_CUES.search(sentence):
        return "how_to"
    if WHO_CUES.search(sentence):
        return "who"
    return "other"


def read_facts(text: str) -> FactSheet:
    """The deterministic sheet: the regulation's own sentences, each filed once under its heading."""
    title, articles = read_regulation(text)
    sheet = FactSheet(title=title, articles=articles)
    sheet.what = [Statement(f"{a.title}", f"art. {a.number}") for a in articles if a.title]
    contacts: dict[str, str] = {}
    seen: set[str] = set()
    for sentence, ref in statements(articles):
        if sentence.lower() in seen:
            continue
        seen.add(sentence.lower())
        getattr(sheet, section_of(sentence)).append(Statement(sentence, ref))
        for m in CONTACT.finditer(sentence):
            contacts.setdefault(m.group(0)[0].upper() + m.group(0)[1:], ref)
    sheet.contact = [Statement(name, ref) for name, ref in contacts.items()]
    return sheet


def _has_period(sentence: str) -> bool:
    return len(find_dates(sentence)) >= 1 and bool(re.search(r"\b(?:du|dès|au|jusqu)\b", sentence))


SECTIONS = (("what", "De quoi s'agit-il ?"), ("who", "Qui est concerné ?"), ("amounts", "Combien ?"),
            ("deadlines", "Quels délais ?"), ("how_to", "Que faire ?"), ("contact", "Contact"))


TEXT_SECTIONS = SECTIONS[:-1] + (("other", "Autres règles"), SECTIONS[-1])  # contact last


def sheet_text(sheet: FactSheet) -> str:
    lines = [f"FICHE EXPLICATIVE – {sheet.title}", ""]
    for key, heading in TEXT_SECTIONS:
        statements = getattr(sheet, key)
        if statements:
            lines.append(heading)
            lines += [f"– {s.text} ({s.reference})" for s in statements]
            lines.append("")
    lines.append("Seul le texte du règlement fait foi.")
    return "\n".join(lines) + "\n"


def template_values(sheet: FactSheet) -> dict:
    """Values for templates/fiche-explicative (see its template.toml)."""
    rows = {key: [{"texte": s.text, "reference": s.reference} for s in getattr(sheet, key)] for key, _ in TEXT_SECTIONS}
    return {"titre": sheet.title, "quoi": rows["what"], "qui": rows["who"], "montants": rows["amounts"],
            "delais": rows["deadlines"], "demarches": rows["how_to"], "autres": rows["other"],
            "contact": rows["contact"]}


# -------------------------------------------------------------------------------------- model
class _Sheet(msgspec.Struct):
    what: list[Statement]
    who: list[Statement]
    amounts: list[Statement]
    deadlines: list[Statement]
    how_to: list[Statement]
    contact: list[Statement]


def _checker(source: FactSheet, text: str):
    refs = {ref for _, ref in sentences(source.articles)} | {f"art. {a.number}" for a in source.articles}
    known_amounts = {round(a.value, 2) for a in find_amounts(text)}

    def check(value: _Sheet) -> None:
        for key, _ in SECTIONS:
            for s in getattr(value, key):
                if _norm_ref(s.reference) not in refs:
                    raise ValueError(f"référence inconnue « {s.reference[:30]} » (références possibles : "
                                     f"{', '.join(sorted(refs))})")
                for amount in find_amounts(s.text):
                    if round(amount.value, 2) not in known_amounts:
                        raise ValueError(f"montant absent du règlement : {amount.text}")
        if not any(getattr(value, key) for key, _ in SECTIONS):
            raise ValueError("la fiche est vide")
    return check


def _norm_ref(ref: str) -> str:
    ref = ref.strip().lower().replace("article", "art.").replace("alinéa", "al.")
    return re.sub(r"\s+", " ", re.sub(r"art\.?\s*", "art. ", ref)).replace("al ", "al. ").replace("al.. ", "al. ")


def sheet_messages(text: str, source: FactSheet) -> list[Message]:
    fenced, rule = fence(text)
    refs = ", ".join(sorted({ref for _, ref in sentences(source.articles)}))
    system = ("Tu rédiges pour la population une fiche explicative en langage clair (niveau B1) à partir d'un "
              "règlement communal suisse. Phrases courtes, vocabulaire courant, vouvoiement. Chaque affirmation "
              "porte sa référence exacte au règlement (par exemple « art. 4 al. 2 ») ; n'ajoute aucun fait, montant "
              "ou délai absent du règlement. Réponds uniquement par un objet JSON avec les listes what (de quoi "
              "s'agit-il), who (qui est concerné), amounts (combien), deadlines (délais), how_to (que faire), "
              "contact ; chaque élément est {\"text\": \"...\", \"reference\": \"art. N al. M\"}. "
              f"Références possibles : {refs}. " + rule)
    return [Message("system", system), Message("user", fenced)]


def sheet_schema(source: FactSheet) -> type:
    """`_Sheet` whose references are an enum of the regulation's own: an engine with guided decoding
    (onnxruntime-genai guidance, `response_format` upstream) then cannot write any other, and the
    check's retry is left for the amounts."""
    refs = sorted({ref for _, ref in sentences(source.articles)} | {f"art. {a.number}" for a in source.articles})
    if not refs:
        return _Sheet
    item = msgspec.defstruct("Statement", [("text", str), ("reference", Literal[tuple(refs)])])
    return msgspec.defstruct("_Sheet", [(key, list[item]) for key, _ in SECTIONS])


async def write_sheet(text: str, source: FactSheet, inference: Inference, user: str | None = None) -> FactSheet:
    answer, _ = await complete_structured(inference, TASK, sheet_messages(text, source), sheet_schema(source),
                                          user=user, max_tokens=1500, check=_checker(source, text))
    sheet = FactSheet(title=source.title, articles=source.articles)
    for key, _ in SECTIONS:
        setattr(sheet, key, [Statement(" ".join(s.text.split()), _norm_ref(s.reference)) for s in getattr(answer, key)])
    return sheet


class NoArticles(InvalidRequest):
    code = "no-articles"


class DocumentSource(msgspec.Struct, forbid_unknown_fields=True):
    """A document of a collection (a search hit's `collection` and `document`), instead of a pasted text."""

    collection: str
    document: str


class FactSheetIn(DraftIn, kw_only=True):
    text: str = ""
    source: DocumentSource | None = None


class FactSheetTask(DraftTask):
    """POST /v1/text/factsheet: the regulation's own sentences filed by rules, or the model's plain sheet."""

    name = TASK
    template_id = TEMPLATE_ID

    request_type = FactSheetIn

    async def prepare(self, request: FactSheetIn, call: Call) -> Job:
        if request.source is not None:  # a collection the caller may not read: 404, as an unknown one
            _, request.text = await document_text(call, request.source.collection, request.source.document)
            if len(request.text) > call.services.settings.max_text_chars:
                raise TextTooLong(call.services.settings.max_text_chars)
            call.record(collections=[request.source.collection])
        job = await super().prepare(request, call)
        job.data = read_facts(request.text)
        if not job.data.articles:
            raise NoArticles("Aucun article trouvé : le texte doit contenir des articles (« Art. 3 … »).")
        return job

    async def rules(self, job: Job) -> dict[str, Any]:
        return _result(job.data, "rules")

    async def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        # The sheet is one checked JSON answer: nothing partial is shown; the result carries it.
        yield "progress", {"stage": "rédaction", "part": 1, "parts": 1}
        sheet = await write_sheet(job.request.text, job.data, job.inference, job.user)
        yield "result", _result(sheet, job.inference.model_for(TASK) or "")

    def letter_values(self, result: dict[str, Any]) -> dict[str, Any]:
        return template_values(msgspec.convert(result["sheet"], FactSheet))


def _result(sheet: FactSheet, engine: str) -> dict[str, Any]:
    return {"text": sheet_text(sheet), "sheet": msgspec.to_builtins(sheet), "engine": engine}
