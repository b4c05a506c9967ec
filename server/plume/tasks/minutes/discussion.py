"""With a model: each agenda point's discussion rewritten in indirect speech (one checked JSON
answer per point), streamed point by point."""

from __future__ import annotations

import re

import msgspec

from plume.inference.base import Inference, Message
from plume.tasks.common import complete_structured, fence
from plume.tasks.minutes.notes import UNNUMBERED, AgendaItem, Minutes, heading

TASK = "minutes"

class _Discussion(msgspec.Struct):
    discussion: str


def _indirect(value: _Discussion) -> None:
    text = value.discussion.strip()
    if not text:
        raise ValueError("la discussion est vide")
    if re.search(r"\b(?:je|j'|nous|on)\b", text[:400], re.I) and len(text) < 40:
        raise ValueError("la discussion doit être au discours indirect (troisième personne)")


def discussion_messages(item: AgendaItem) -> list[Message]:
    fenced, rule = fence("\n".join(item.notes) or item.title)
    system = ("Tu rédiges le procès-verbal d'une séance d'un conseil communal suisse. Rédige la discussion de ce "
              "point de l'ordre du jour au discours indirect, à la troisième personne, au passé composé, en "
              "phrases complètes et neutres, sans ajouter de fait ni de chiffre absent des notes. Ne mentionne pas "
              "le vote. Réponds uniquement par un objet JSON {\"discussion\": \"...\"}. " + rule)
    title = f"Point {item.number} : {item.title}" if item.number != UNNUMBERED else item.title
    return [Message("system", system), Message("user", f"{title}\n{fenced}")]


async def discussion_events(minutes: Minutes, inference: Inference, user: str | None = None):
    """("progress", {...}) then ("delta", text) for each point's discussion once it is written and
    checked; fills `minutes` in place."""
    points = [item for item in minutes.items if item.notes]
    for part, item in enumerate(points, start=1):
        yield "progress", {"stage": "discussion", "part": part, "parts": len(points), "point": item.number}
        answer, _ = await complete_structured(inference, TASK, discussion_messages(item), _Discussion, user=user,
                                              max_tokens=400, check=_indirect)
        item.discussion = " ".join(answer.discussion.split())
        yield "delta", f"{heading(item)}\n{item.discussion}\n\n"


async def write_discussions(minutes: Minutes, inference: Inference, user: str | None = None) -> None:
    async for _ in discussion_events(minutes, inference, user):
        pass
