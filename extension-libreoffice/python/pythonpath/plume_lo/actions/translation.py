"""Translation of the selected paragraphs in place (POST /v1/text/translate), formatting kept."""

from __future__ import annotations

from dataclasses import dataclass

from plume_lo import richtext
from plume_lo.actions.base import ByParagraph, OnSelectedParagraphs, check, text_of
from plume_lo.actions.review import outcome_of, review_mode, rewrite
from plume_lo.client import Client


@dataclass
class Translate(ByParagraph, OnSelectedParagraphs):
    target: str = "de"
    source: str = ""
    review: str = ""  # tracked | replace | after; empty: the ReviewMode setting
    undo_key = "undo_translate"

    def work(self, client: Client, paragraphs, job):
        answers, self.request_ids = [], []
        for paragraph in paragraphs:
            check(job)
            body = {"text": richtext.to_html(paragraph.runs), "target": self.target, "format": "html"}
            if self.source:
                body["source"] = self.source
            answers.append(client.post_json("/v1/text/translate", body))
            self.request_ids.append(client.last_request_id)
            if job is not None:  # Stop keeps the paragraphs already translated
                job.wrote((tuple(answers), ""))
        return answers

    def apply(self, ctx, doc, paragraphs, answers):
        new_runs = [_formatted(paragraph, answer) for paragraph, answer in zip(paragraphs, answers)]
        mode = review_mode(ctx, self.review)
        rewrite(ctx, doc, self._title(ctx), paragraphs, new_runs, mode, always=True)
        first = answers[0] if answers else {}
        return {"text": "\n".join(richtext.plain(richtext.from_html(text_of(a))) for a in answers),
                "source": first.get("source"), "target": first.get("target"), "engine": first.get("engine"),
                "warnings": [w for a in answers for w in (a.get("warnings") or [])], "usage": self.request_ids,
                **outcome_of(mode)}


def _formatted(paragraph, answer) -> list:
    """The translation as runs: the engine's tags, or, when it lost them, the formatting put back
    where words line up."""
    runs = richtext.from_html(text_of(answer))
    if not any(r.bold or r.italic or r.underline or r.link for r in runs) and \
            any(r.bold or r.italic or r.underline or r.link for r in paragraph.runs):
        runs = richtext.reformat(paragraph.runs, richtext.plain(runs))
    return runs
