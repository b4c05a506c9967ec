"""POST /v1/search/answer: a question answered from the commune's documents, every sentence citing
the passage it comes from, checked before it is shown (docs/search.md « Answers »).

1. The question is searched in the collections the caller may read (all, or those she names; one she
   may not read is a 404 like an unknown one).
2. Nothing relevant (the methods do not agree on a first passage: `search_answer_min_score`):
   `kind: "nothing"`, no answer, « Je n'ai rien trouvé à ce sujet dans : … » naming the collections
   searched — whatever the engine.
3. Rules (no model, `"engine": "rules"`, or the model failed twice): the best passages, labelled as
   passages (`kind: "passages"`), never an invented answer.
4. A model (catalog task « answer », else « chat »): tasks/answer_model.py writes and checks; the
   model may also judge that the passages do not answer (`kind: "nothing"`).

Streaming (Accept: text/event-stream, or `"stream": true`): `progress`, then the checked sentences as
`delta` events, then `done` with the same result as without streaming. Nothing unchecked is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

from plume.errors import InvalidRequest
from plume.inference.base import Inference
from plume.language.citations import Sentence
from plume.language.detect import language_or_french
from plume.search.collections import COLLECTION_ID, Collection
from plume.search.service import Hit
from plume.tasks import answer_model
from plume.tasks.base import MODEL_FAILED, Call, Engine, Event, Job, Offer, TaskBase, capability
from plume.tasks.sources import find, nothing_found, readable, relevant

TASK = "answer"
FALLBACK_TASK = "chat"  # any general instruction model answers when none is listed for « answer »
MAX_QUERY_CHARS = 2000
MAX_PASSAGES = 10
LANGUAGES = ("fr", "de", "it", "en")
PASSAGES_ONLY = {"fr": "Passages trouvés dans les documents, sans réponse rédigée : vérifiez qu'ils répondent à la "
                       "question avant de les citer.",
                 "de": "Gefundene Stellen in den Dokumenten, ohne formulierte Antwort: Prüfen Sie, ob sie die Frage "
                       "beantworten, bevor Sie sie zitieren."}
SOURCES = {"fr": "Sources :", "de": "Quellen:", "it": "Fonti:", "en": "Sources:"}
REMOVED = "Phrase(s) retirée(s) de la réponse, faute de source : {reasons}."
ANSWER_FAILED = "Réponse du modèle écartée ({reason}) : voici les passages trouvés."


class AnswerRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_QUERY_CHARS)]
    collections: list[Annotated[str, msgspec.Meta(pattern=COLLECTION_ID)]] | None = None  # null: all readable
    k: Annotated[int, msgspec.Meta(ge=1, le=MAX_PASSAGES)] = 5
    engine: Engine = "auto"
    stream: bool = False  # or Accept: text/event-stream


class AnswerSentence(msgspec.Struct):
    text: str              # as shown, its citations [n] included
    citations: list[int]   # numbers of `citations` (1-based)


class AnswerResult(msgspec.Struct, kw_only=True):
    answer: str | None                  # null unless kind == "answer"
    kind: Literal["answer", "passages", "nothing"]
    citations: list[Hit]                # the passages, numbered [1], [2]… in this order
    sentences: list[AnswerSentence]
    sources: list[str]                  # « [1] Règlement …, art. 11 »: the passages the answer cites
    insert: str | None                  # what « Insérer la réponse » writes: the answer, then its sources
    message: str | None                 # French, shown instead of an answer (passages, nothing found)
    message_de: str | None
    language: str                       # of the question, and so of the answer
    collections: list[str]              # ids of the collections searched (all readable by the caller)
    engine: Literal["model", "rules"]
    model: str | None = None
    warnings: list[str] = []


@dataclass
class Asked:
    """What `prepare` found: the collections searched, the relevant hits, the question's language."""

    collections: list[Collection]
    hits: list[Hit]
    language: str
    failure: str = ""  # the public reason the model's answer was refused (for the rules' warning)


def model_task(inference: Inference) -> str:
    return TASK if inference.has_model(TASK) else FALLBACK_TASK


class AnswerTask(TaskBase):
    name = TASK
    request_type = AnswerRequest

    def texts(self, request: AnswerRequest) -> tuple[str, ...]:
        return (request.query,)

    async def prepare(self, request: AnswerRequest, call: Call) -> Job:
        if not request.query.strip():
            raise InvalidRequest("La question est vide.")
        collections = readable(call, request.collections)
        hits = relevant(call, await find(call, request.query, collections, request.k))
        call.record(collections=[c.id for c in collections], hits=len(hits), query_chars=len(request.query))
        asked = Asked(collections, hits, language_or_french(request.query, among=LANGUAGES))
        job = Job(request, call, engine=request.engine, data=asked)
        if not hits:
            job.answer = msgspec.to_builtins(nothing(asked))
        return job

    def model_id(self, job: Job) -> str | None:
        task = model_task(job.inference)
        return job.inference.model_for(task) if job.inference.has_model(task) else None

    def streams(self, job: Job) -> bool:
        return True

    async def rules(self, job: Job) -> dict[str, Any]:
        return msgspec.to_builtins(passages(job.data))

    async def model(self, job: Job, stream: bool) -> AsyncIterator[Event]:
        asked: Asked = job.data
        yield "progress", {"stage": "rédaction", "passages": len(asked.hits)}
        task = model_task(job.inference)
        try:
            written = await answer_model.write(job.inference, task, job.request.query, asked.hits, asked.language,
                                               user=job.user, judged=job.call.services.settings.search_answer_judge)
        except answer_model.UnsupportedAnswer as refused:
            asked.failure = refused.reason
            raise
        model = job.inference.model_for(task)
        if not written.answered:
            yield "result", msgspec.to_builtins(nothing(asked, model=model))
            return
        for i, sentence in enumerate(written.sentences):  # each already checked
            yield "delta", ("" if i == 0 else " ") + sentence.text
        yield "result", msgspec.to_builtins(answered(asked, written.sentences, model, written.removed))

    def fell_back(self, job: Job, result: dict[str, Any]) -> None:
        reason = job.data.failure
        result.setdefault("warnings", []).append(ANSWER_FAILED.format(reason=reason) if reason else MODEL_FAILED)

    def describe(self, offer: Offer) -> dict[str, Any]:
        task = model_task(offer.inference)
        model = offer.inference.model_for(task) if offer.inference.has_model(task) else None
        return capability(True, ["rules", model] if model else ["rules"])


def nothing(asked: Asked, model: str | None = None) -> AnswerResult:
    return AnswerResult(answer=None, kind="nothing", citations=[], sentences=[], sources=[], insert=None,
                        message=nothing_found(asked.collections), message_de=nothing_found(asked.collections, "de"),
                        language=asked.language, collections=[c.id for c in asked.collections],
                        engine="model" if model else "rules", model=model)


def passages(asked: Asked) -> AnswerResult:
    return AnswerResult(answer=None, kind="passages", citations=asked.hits, sentences=[],
                        sources=[f"[{i}] {hit.reference}" for i, hit in enumerate(asked.hits, 1)], insert=None,
                        message=PASSAGES_ONLY["fr"], message_de=PASSAGES_ONLY["de"], language=asked.language,
                        collections=[c.id for c in asked.collections], engine="rules")


def answered(asked: Asked, sentences: list[Sentence], model: str | None, removed: list[str]) -> AnswerResult:
    text = " ".join(s.text for s in sentences)
    numbers = sorted({n for s in sentences for n in s.citations})
    sources = [f"[{n}] {asked.hits[n - 1].reference}" for n in numbers]
    heading = SOURCES.get(asked.language, SOURCES["fr"])
    return AnswerResult(answer=text, kind="answer", citations=asked.hits,
                        sentences=[AnswerSentence(s.text, s.citations) for s in sentences], sources=sources,
                        insert="\n".join([text, "", heading, *sources]), message=None, message_de=None,
                        language=asked.language, collections=[c.id for c in asked.collections], engine="model",
                        model=model, warnings=[REMOVED.format(reasons=", ".join(removed))] if removed else [])

