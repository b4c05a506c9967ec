"""Plain language for the selected paragraphs (POST /v1/text/plain-language), previewed in the
sidebar then applied on request, or applied at once from a dispatch URL."""

from __future__ import annotations

from dataclasses import dataclass, field

from plume_lo import richtext, settings, writer
from plume_lo.actions.base import ByParagraph, OnSelectedParagraphs, stream, text_of
from plume_lo.actions.review import outcome_of, review_mode, rewrite
from plume_lo.client import Client, PlumeError
from plume_lo.wording import NOTHING_SAFE, nothing_safe_sentence


@dataclass
class PlainLanguage(ByParagraph, OnSelectedParagraphs):
    """Plain language for the selected paragraphs.

    With `preview` (the sidebar), nothing changes in the document: the panel shows the proposed
    text, the readability before/after and the remarks, and the clerk then chooses Replace, Insert
    after or Cancel (ApplyPlainLanguage). Without it (a script's dispatch URL), the text is replaced
    at once, in one undo step."""
    level: str = ""  # one the server offers (/v1/capabilities); empty: the server's default
    preview: bool = False
    review: str = ""  # tracked | replace | after; empty: the ReviewMode setting
    undo_key = "undo_plain"

    def work(self, client: Client, paragraphs, job):
        answers, self.request_ids = [], []
        body = {"level": self.level} if self.level else {}
        for paragraph in paragraphs:
            done = tuple(answers)
            self.request_ids.append("")
            answers.append(stream(client, "/v1/text/plain-language", {"text": paragraph.text, **body},
                                  job, lambda text, done=done: self._wrote(client, done, text)))
            self.request_ids[-1] = client.last_request_id
            if job is not None:
                job.wrote((tuple(answers), ""))
        return answers

    def _wrote(self, client: Client, done: tuple, text: str) -> tuple:
        self.request_ids[len(done)] = client.last_request_id  # the part kept on Stop is counted too
        return done, text

    def apply(self, ctx, doc, paragraphs, answers):
        texts = [text_of(a).strip("\n") for a in answers]
        outcome = {"text": "\n".join(texts), "texts": texts, "originals": [p.text for p in paragraphs],
                   "request_ids": list(self.request_ids),
                   "before": [a.get("before") for a in answers], "after": [a.get("after") for a in answers],
                   "diagnostics": [d for a in answers for d in (a.get("diagnostics") or [])],
                   **_plain_warnings(answers, texts, paragraphs)}
        if self.preview:
            return {**outcome, "preview": True}
        if outcome["unchanged"]:  # nothing safe to change: her text is left alone, and she is told why
            return {**outcome, "warning": nothing_safe_sentence(settings.language(ctx), outcome)}
        mode = review_mode(ctx, self.review)
        rewrite(ctx, doc, self._title(ctx), paragraphs,
                [richtext.reformat(p.runs, text) for p, text in zip(paragraphs, texts)], mode)
        return {**outcome, **outcome_of(mode), "usage": outcome["request_ids"]}


@dataclass
class ApplyPlainLanguage(OnSelectedParagraphs):
    """The clerk accepts a plain-language preview: replace the selection, or insert the text after it.

    The selection must still be the text that was analysed; otherwise nothing changes."""
    originals: list
    texts: list
    request_ids: list = field(default_factory=list)
    mode: str = "replace"  # replace | after
    undo_key = "undo_plain"

    def capture(self, doc):
        paragraphs = super().capture(doc)
        if [p.text for p in paragraphs] != list(self.originals):
            raise PlumeError("selection_changed")
        return paragraphs

    def apply(self, ctx, doc, paragraphs, _result):
        # « Remplacer » goes in as the setting says (tracked changes by default); « Insérer après » after.
        mode = writer.AFTER if self.mode == "after" else review_mode(ctx, "", in_place=True)
        rewrite(ctx, doc, self._title(ctx), paragraphs,
                [richtext.reformat(p.runs, text) for p, text in zip(paragraphs, self.texts)], mode)
        return {**outcome_of(mode), "usage": list(self.request_ids)}


def _plain_warnings(answers, texts, paragraphs) -> dict:
    """The servers' warnings once each, but « aucune modification sûre » apart (`nothing_safe`, the
    French sentence), and whether no paragraph changed (`unchanged`): then nothing is offered to insert."""
    warnings, nothing_safe = [], ""
    for answer in answers:
        codes = list(answer.get("warning_codes") or [])
        for n, warning in enumerate(answer.get("warnings") or []):
            if n < len(codes) and codes[n] == NOTHING_SAFE:
                nothing_safe = str(warning)
            elif warning not in warnings:
                warnings.append(warning)
    unchanged = not any(a.get("changed", text != p.text) for a, text, p in zip(answers, texts, paragraphs))
    return {"warnings": warnings, "nothing_safe": nothing_safe, "unchanged": unchanged}
