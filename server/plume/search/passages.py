"""Blocks → passages that follow the document's own structure, each with its exact citation.

A regulation is cut at its articles (« Art. 12 », « Article 12 », « Art. 12bis », « Article premier »);
an article too long for one passage is cut between its paragraphs (alinéas: « 1 Le détenteur… »,
« ² … ») and cited « art. 12 al. 2–3 ». Headings set the path (« Chapitre II — Taxe › Art. 12
Montant »): from the format's styles when it has them (Word, Writer, Markdown, HTML), else from
the words that open the line (« Titre », « Chapitre », « Section »), which is all a PDF or a .txt
says. Text outside articles (a FAQ, a model answer) is grouped under its heading, locator None.

No library cuts Swiss legal French into articles and alinéas, hence this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plume.search.readers import Block

MAX_CHARS = 1400      # a passage a clerk can read at a glance, and well within the embedders' window
MIN_CHARS = 200       # below this a section is kept whole rather than cut
SEPARATOR = " › "

_ARTICLE = re.compile(r"^\s*(?:art\.?|article)\s*(premier|1er|\d+[a-z]{0,6})\b\.?\s*[—–:\-.]?\s*(.*)$", re.I)
_DIVISION = re.compile(r"^\s*(titre|chapitre|section|sous-section|partie|annexe)\s+([IVXLC\d]+|premier|unique|\w+)\b",
                       re.I)
_DIVISION_LEVEL = {"partie": 1, "titre": 1, "annexe": 1, "chapitre": 2, "section": 3, "sous-section": 4}
_ALINEA = re.compile(r"^\s*(?:(\d{1,2})(?:\s+|\s*[.)]\s+)(?=[A-ZÀ-Ýa-zà-ÿ«(])|([¹²³⁴⁵⁶⁷⁸⁹]))")
_SUPERSCRIPTS = {"¹": 1, "²": 2, "³": 3, "⁴": 4, "⁵": 5, "⁶": 6, "⁷": 7, "⁸": 8, "⁹": 9}


@dataclass
class Passage:
    heading: str                 # path of headings down to the article: « Chapitre 2 › Art. 12 Montant »
    locator: str | None          # the citable unit: « art. 12 », « art. 12 al. 2–3 », or None
    page: int | None
    text: str
    article: str | None = None   # « 12 », « 12bis » (for matching a citation to its article)


@dataclass
class _Unit:
    """Paragraphs under one heading path (one article, or one section of prose)."""

    path: list[str]
    article: str | None
    paragraphs: list[tuple[int | None, str, int | None]] = field(default_factory=list)  # (alinéa, text, page)


def build_passages(blocks: list[Block]) -> list[Passage]:
    units = _units(blocks)
    passages = []
    for unit in units:
        passages += _cut(unit)
    return passages


def _units(blocks: list[Block]) -> list[_Unit]:
    path: list[tuple[int, str]] = []       # (level, heading)
    units: list[_Unit] = []
    current: _Unit | None = None
    styled_levels = any(b.level is not None for b in blocks)
    for block in blocks:
        text = " ".join(block.text.split())
        article = _ARTICLE.match(text) if len(text) < 2000 else None
        division = _DIVISION.match(text) if block.level is None and len(text) <= 150 else None
        if article and (block.level is not None or _is_article_heading(article)):
            number = _article_number(article.group(1))
            heading, rest = _article_heading(text, article)
            level = block.level or (max((lvl for lvl, _ in path), default=0) + 1 if not styled_levels else 9)
            path = [(lvl, h) for lvl, h in path if lvl < level and not _ARTICLE.match(h)]
            current = _Unit([h for _, h in path] + [heading], number)
            units.append(current)
            if rest:
                current.paragraphs.append((_alinea(rest), rest, block.page))
            continue
        level = block.level if block.level is not None else (_DIVISION_LEVEL[division.group(1).lower()]
                                                             if division else None)
        if level is not None:
            path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, text)]
            current = None
            continue
        if current is None:
            current = _Unit([h for _, h in path], None)
            units.append(current)
        alinea = _alinea(text) if current.article else None
        if current.paragraphs and alinea is None and block.page is not None and not _ends_sentence(current):
            number, previous, page = current.paragraphs[-1]  # a PDF line wrapped inside a paragraph
            current.paragraphs[-1] = (number, f"{previous} {text}", page)
        else:
            current.paragraphs.append((alinea, text, block.page))
    return [u for u in units if u.paragraphs or u.article]


def _is_article_heading(match: re.Match) -> bool:
    """« Art. 12 Montant de la taxe » opens an article; « Article 12 du règlement X s'applique. » in
    prose does not (a long rest ending like a sentence)."""
    rest = match.group(2)
    return len(rest) <= 90 or bool(_ALINEA.match(rest))


def _article_number(raw: str) -> str:
    return "1" if raw.lower() in ("premier", "1er") else raw.lower()


def _article_heading(text: str, match: re.Match) -> tuple[str, str]:
    """The heading « Art. 12 Montant » and any body text that follows it on the same line."""
    rest = match.group(2).strip()
    label = text[: match.start(2)].strip().rstrip("—–:-. ").strip()
    if not rest:
        return label, ""
    alinea = _ALINEA.match(rest)
    if alinea:  # « Art. 3 1 Le détenteur… »: no title, the first alinéa follows
        return label, rest
    if len(rest) <= 90 and not rest.endswith((".", ";", ":")):
        return f"{label} {rest}", ""
    return label, rest


def _alinea(text: str) -> int | None:
    match = _ALINEA.match(text)
    if not match:
        return None
    return int(match.group(1)) if match.group(1) else _SUPERSCRIPTS[match.group(2)]


def _ends_sentence(unit: _Unit) -> bool:
    return unit.paragraphs[-1][1].rstrip().endswith((".", ":", ";", "?", "!"))


def _cut(unit: _Unit) -> list[Passage]:
    heading = SEPARATOR.join(unit.path)
    locator = f"art. {unit.article}" if unit.article else None
    total = sum(len(t) for _, t, _ in unit.paragraphs)
    if total <= MAX_CHARS or len(unit.paragraphs) == 1:
        return [_passage(unit, heading, locator, unit.paragraphs)]
    passages, group = [], []
    for paragraph in unit.paragraphs:
        if group and sum(len(t) for _, t, _ in group) + len(paragraph[1]) > MAX_CHARS:
            passages.append(_passage(unit, heading, _sub_locator(locator, group), group))
            group = []
        group.append(paragraph)
    if group:
        passages.append(_passage(unit, heading, _sub_locator(locator, group), group))
    return passages


def _sub_locator(locator: str | None, group: list[tuple[int | None, str, int | None]]) -> str | None:
    numbers = [n for n, _, _ in group if n is not None]
    if locator is None or not numbers:
        return locator
    first, last = numbers[0], numbers[-1]
    return f"{locator} al. {first}" if first == last else f"{locator} al. {first}–{last}"


def _passage(unit: _Unit, heading: str, locator: str | None, group: list) -> Passage:
    text = "\n".join(t for _, t, _ in group)
    page = next((p for _, _, p in group if p is not None), None)
    return Passage(heading=heading, locator=locator, page=page, text=text, article=unit.article)
