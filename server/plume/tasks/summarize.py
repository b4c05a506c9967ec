"""Summaries: extractive without a model; with a model, reports longer than the model's context are
split by structure (headings, then paragraphs, then sentences), each part summarised, then merged."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import msgspec

from plume import workers
from plume.inference.base import Inference, Message
from plume.language import breaks, extractive, facts
from plume.language.sentences import sentences
from plume.tasks.base import Engine, Event, Job, Offer, TaskBase
from plume.tasks.common import fence
from plume.tasks.freetext import final_text, generate_checked

TASK = "summarize"
CHARS_PER_TOKEN = 2.5  # when the tokenizer cannot be asked; French gives 2.8-4.5 characters per token
PROMPT_RESERVE_TOKENS = 400
LENGTH_WORDS = {"short": "3 à 5 phrases", "medium": "un paragraphe de 8 à 10 phrases", "long": "une page, avec des intertitres"}
SUMMARY_TOKENS = {"short": 200, "medium": 400, "long": 900}
_HEADING = re.compile(r"^\s*(?:#{1,6}\s+\S.*|(?:\d+(?:\.\d+)*\.?|[IVX]+\.|[A-Z]\.|Art(?:icle)?\.?\s*\d+\w*)\s+\S.{0,80}|[^.!?:;]{1,80})$")


class SummarizeRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1)]
    length: Literal["short", "medium", "long"] = "medium"
    engine: Engine = "auto"

    def __post_init__(self) -> None:
        self.text = breaks.normalise(self.text)


class Kept(msgspec.Struct):
    start: int
    end: int


class SummaryResult(msgspec.Struct, kw_only=True):
    text: str
    length: str
    engine: str  # "rules" or the model id
    parts: int  # how many parts the model summarised (1 when the text fit; 0 without a model)
    kept: list[Kept] = msgspec.field(default_factory=list)  # extractive: the sentences kept (offsets)
    warnings: list[str] = msgspec.field(default_factory=list)


def with_rules(text: str, length: str) -> SummaryResult:
    summary, spans = extractive.summarize(text, length)
    return SummaryResult(text=summary, length=length, engine="rules", parts=0,
                         kept=[Kept(s.start, s.end) for s in spans])


# -- splitting by structure --------------------------------------------------------------------------------


def sections(text: str) -> list[str]:
    """Blocks that start at a heading line (a short line without final punctuation, « 1. », « # », « Art. 3 »)."""
    blocks: list[list[str]] = [[]]
    lines = text.splitlines()
    for i, line in enumerate(lines):
        next_has_text = i + 1 < len(lines) and lines[i + 1].strip()
        if line.strip() and _HEADING.match(line) and next_has_text and any(blocks[-1]):
            blocks.append([])
        blocks[-1].append(line)
    return ["\n".join(b).strip() for b in blocks if "\n".join(b).strip()]


def split(text: str, budget_chars: int) -> list[str]:
    """Parts of at most `budget_chars`, cut at section, then paragraph, then sentence boundaries."""
    parts: list[str] = []
    for piece in _pieces(text, budget_chars):
        if parts and len(parts[-1]) + 2 + len(piece) <= budget_chars:
            parts[-1] += "\n\n" + piece
        else:
            parts.append(piece)
    return parts


def _pieces(text: str, budget: int) -> list[str]:
    out: list[str] = []
    for section in sections(text):
        if len(section) <= budget:
            out.append(section)
            continue
        for paragraph in re.split(r"\n\s*\n|\n", section):
            if len(paragraph) <= budget:
                out.append(paragraph)
                continue
            for sentence in sentences(paragraph):
                out += [sentence.text[i:i + budget] for i in range(0, len(sentence.text), budget)]
    return [p for p in out if p.strip()]


def chars_per_token(inference: Inference, text: str) -> float:
    """Measured on a sample of the text with the model's own tokenizer, with a margin; a conservative
    constant when the model's tokenizer is not known (yet)."""
    sample = text[:4000]
    tokens = inference.count_tokens(TASK, sample) if sample else None
    return max(1.0, 0.85 * len(sample) / max(1, tokens)) if tokens else CHARS_PER_TOKEN


def budget_chars(inference: Inference, length: str, text: str = "") -> int:
    context = inference.context_length(TASK) or 4096
    room = context - SUMMARY_TOKENS[length] - PROMPT_RESERVE_TOKENS
    return max(500, int(room * chars_per_token(inference, text)))


# -- prompts ---------------------------------------------------------------------------------------------------


SYSTEM = (
    "Tu es secrétaire à l'administration communale du Locle (Suisse). Tu résumes des rapports en français "
    "clair et neutre. Tu gardes les chiffres clés (montants, dates, délais, résultats de vote) et les "
    "décisions, tels quels. Tu n'inventes rien. Réponds uniquement par le résumé, sans commentaire. "
)


def part_prompt(part: str, index: int, total: int) -> list[Message]:
    fenced, rule = fence(part)
    return [Message("system", SYSTEM + rule),
            Message("user", f"Résume la partie {index} sur {total} de ce rapport en quelques phrases, "
                            f"en gardant chiffres clés et décisions.\n{fenced}")]


def final_prompt(text: str, length: str, merged: bool, key_figures: list[str] = ()) -> list[Message]:
    fenced, rule = fence(text)
    what = "ces résumés partiels d'un même rapport en un seul résumé" if merged else "ce rapport"
    keep = f"Garde ces chiffres clés : {' ; '.join(key_figures)}.\n" if key_figures else ""
    return [Message("system", SYSTEM + rule),
            Message("user", f"Résume {what} ({LENGTH_WORDS[length]}).\n{keep}{fenced}")]


def key_figures(text: str, length: str) -> list[str]:
    """Amounts, dates and numbers of the sentences the extractive summary would keep: the figures
    that carry the report's decisions. Blocking (a regular-expression pass; no spaCy)."""
    summary, _ = extractive.summarize(text, length)
    found = [written for kind, written in facts.figures(summary)]
    return found[:15]


def _check(source: str):
    def check(output: str) -> None:
        if len(output) > max(1.2 * len(source), 600):
            raise ValueError("le résumé est plus long que le texte résumé")
    return check


# -- running ------------------------------------------------------------------------------------------------------


async def events(inference: Inference, text: str, length: str, *, stream: bool,
                 user: str | None = None) -> AsyncIterator[tuple[str, object]]:
    """("parts", n) first, ("progress", {...}) per part, then generate_checked's events for the final summary."""
    budget = budget_chars(inference, length, text)
    parts = split(text, budget) if len(text) > budget else [text]
    merged = len(parts) > 1
    yield "parts", str(len(parts))
    while len(parts) > 1:
        summaries = []
        for i, part in enumerate(parts, 1):
            yield "progress", {"stage": "part", "part": i, "parts": len(parts)}
            summaries.append(await final_text(generate_checked(
                inference, TASK, part_prompt(part, i, len(parts)), _check(part), stream=False,
                max_tokens=SUMMARY_TOKENS["medium"], user=user)))
        joined = "\n\n".join(summaries)
        parts = split(joined, budget) if len(joined) > budget else [joined]
        if len(parts) >= len(summaries):  # no progress: stop splitting, summarise what fits
            parts = [joined[:budget]]
    yield "progress", {"stage": "final", "part": 1, "parts": 1}
    figures = await workers.run("text", key_figures, text, length)
    async for event in generate_checked(inference, TASK, final_prompt(parts[0], length, merged, figures),
                                        _check(parts[0]),
                                        stream=stream, max_tokens=SUMMARY_TOKENS[length], user=user):
        yield event


async def with_model(inference: Inference, text: str, length: str, *, user: str | None = None) -> SummaryResult:
    summary, parts = "", 1
    async for kind, value in events(inference, text, length, stream=False, user=user):
        if kind == "final":
            summary = value
        elif kind == "parts":
            parts = int(value)
    return SummaryResult(text=summary, length=length, engine=inference.model_for(TASK) or "model", parts=parts)


class SummaryTask(TaskBase):
    """POST /v1/text/summarize: the extractive summary, or the model's (split and merged, streamed)."""

    name = TASK
    request_type = SummarizeRequest

    def streams(self, job: Job) -> bool:
        return True

    def describe(self, offer: Offer) -> dict[str, Any]:
        return {**super().describe(offer), "lengths": list(SUMMARY_TOKENS)}

    async def rules(self, job: Job) -> dict[str, Any]:
        return msgspec.to_builtins(await workers.run("text", with_rules, job.request.text, job.request.length))

    async def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        length, parts = job.request.length, 1
        async for kind, value in events(job.inference, job.request.text, length, stream=stream, user=job.user):
            if kind == "parts":
                parts = int(value)
            elif kind == "final":
                model = job.inference.model_for(TASK) or "model"
                yield "result", msgspec.to_builtins(SummaryResult(text=value, length=length, engine=model, parts=parts))
            else:
                yield kind, value
