"""A communal regulation → a public fact sheet in plain language, every statement with its legal
reference (art. N al. M).

Without a model: the articles, and the amounts, deadlines, who is concerned, what to do and whom
to contact, each as the regulation's own sentence with its reference. With a model: the sheet
written in plain language; every reference must be one the regulation has, and every amount must
be one it states, or the answer is refused.
"""

from __future__ import annotations

import re

import msgspec

from plume.inference.base import Inference, Message
from plume.tasks.common import complete_structured, fence
from plume.tasks.facts import RELATIVE_DEADLINE, find_amounts, find_dates

TASK = "factsheet"
TEMPLATE_ID = "fiche-explicative"

ARTICLE = re.compile(r"^\s*(?:Art\.|Article)\s*(?P<num>\d+[a-z]?)\b\.?\s*(?P<title>.*)$", re.IGNORECASE)
PARAGRAPH = re.compile(r"^\s*(?P<num>\d{1,2})\s+(?P<text>\S.*)$")
SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[A-ZÀ-Ý])")

DEADLINE_CUES = re.compile(r"\bdélai|\bjours?\b|\bsemaines?\b|\bau plus tard\b|\bavant le\b|\bimmédiatement\b|"
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


def read_facts(text: str) -> FactSheet:
    """The deterministic sheet: the regulation's own sentences, sorted into the sheet's sections."""
    title, articles = read_regulation(text)
    sheet = FactSheet(title=title, articles=articles)
    sheet.what = [Statement(f"{a.title}", f"art. {a.number}") for a in articles if a.title]
    contacts: dict[str, str] = {}
    for sentence, ref in sentences(articles):
        if find_amounts(sentence):
            sheet.amounts.append(Statement(sentence, ref))
        if DEADLINE_CUES.search(sentence) or RELATIVE_DEADLINE.search(sentence) or _has_period(sentence):
            sheet.deadlines.append(Statement(sentence, ref))
        if WHO_CUES.search(sentence):
            sheet.who.append(Statement(sentence, ref))
        if HOW_CUES.search(sentence):
            sheet.how_to.append(Statement(sentence, ref))
        for m in CONTACT.finditer(sentence):
            contacts.setdefault(m.group(0)[0].upper() + m.group(0)[1:], ref)
    sheet.contact = [Statement(name, ref) for name, ref in contacts.items()]
    return sheet


def _has_period(sentence: str) -> bool:
    return len(find_dates(sentence)) >= 1 and bool(re.search(r"\b(?:du|dès|au|jusqu)\b", sentence))


SECTIONS = (("what", "De quoi s'agit-il ?"), ("who", "Qui est concerné ?"), ("amounts", "Combien ?"),
            ("deadlines", "Quels délais ?"), ("how_to", "Que faire ?"), ("contact", "Contact"))


def sheet_text(sheet: FactSheet) -> str:
    lines = [f"FICHE EXPLICATIVE – {sheet.title}", ""]
    for key, heading in SECTIONS:
        statements = getattr(sheet, key)
        if statements:
            lines.append(heading)
            lines += [f"– {s.text} ({s.reference})" for s in statements]
            lines.append("")
    lines.append("Seul le texte du règlement fait foi.")
    return "\n".join(lines) + "\n"


def template_values(sheet: FactSheet) -> dict:
    """Values for templates/fiche-explicative (see its template.toml)."""
    rows = {key: [{"texte": s.text, "reference": s.reference} for s in getattr(sheet, key)] for key, _ in SECTIONS}
    return {"titre": sheet.title, "quoi": rows["what"], "qui": rows["who"], "montants": rows["amounts"],
            "delais": rows["deadlines"], "demarches": rows["how_to"], "contact": rows["contact"]}


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


async def write_sheet(text: str, source: FactSheet, inference: Inference, user: str | None = None) -> FactSheet:
    answer, _ = await complete_structured(inference, TASK, sheet_messages(text, source), _Sheet, user=user,
                                          max_tokens=1500, check=_checker(source, text))
    sheet = FactSheet(title=source.title, articles=source.articles)
    for key, _ in SECTIONS:
        setattr(sheet, key, [Statement(" ".join(s.text.split()), _norm_ref(s.reference)) for s in getattr(answer, key)])
    return sheet
