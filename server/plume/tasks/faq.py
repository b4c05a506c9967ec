"""`plume search faq --collection ID`: the questions a collection answers best, each with its checked
answer and citation, for IT or a template owner to review before a public FAQ page is drafted.

Candidates are the collection's own units: each article (« Art. 11 Montant ») and each section under
a heading (a FAQ's « Quand le guichet est-il ouvert ? »). A candidate's question is its heading when
that is a question, else « {article title} : que prévoit le {document} ? »; with a model, the model
words it as a citizen would. A question is kept only when searching it over the collection finds its
own passage first with a score past the answer route's threshold (`search_answer_min_score`): the
round trip says the collection answers it, and the score orders the list. Its answer is the answer
route's: with a model, written from the passages found and checked sentence by sentence
(tasks/answer_model.py), and kept only when it cites the question's own passage; else, and without a
model, the passage itself, quoted with its reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import msgspec

from plume.inference.base import Inference, Message
from plume.search.collections import Collection
from plume.search.passages import SEPARATOR
from plume.search.service import Hit, SearchService
from plume.tasks import answer_model
from plume.tasks.answer import model_task
from plume.tasks.common import InvalidModelOutput, complete_structured, fence

_ARTICLE_HEADING = re.compile(r"^(?:art\.?|article)\s*(?:premier|1er|\d+[a-z]{0,6})\b\.?\s*[—–:\-.]?\s*", re.I)


class FaqItem(msgspec.Struct, kw_only=True):
    question: str
    answer: str                # the checked answer with its [n], or the passage quoted
    kind: str                  # "answer" (a model wrote it) or "passage" (the passage itself)
    sources: list[str]         # « [1] Règlement …, art. 11 »
    citations: list[Hit]
    score: float               # the round trip's fused score of the question's own passage


class Faq(msgspec.Struct, kw_only=True):
    collection: str
    title: str
    engine: str                # "rules" or the model id
    items: list[FaqItem]
    warnings: list[str] = []


def candidates(service: SearchService, collection: Collection) -> list[Hit]:
    """Every passage under a heading (articles and sections), in the order of the documents."""
    found: list[Hit] = []
    for document in sorted(service.store.documents(collection.id)):
        found += [hit for hit in service.document(collection, document) if hit.heading]
    return found


def rules_question(hit: Hit) -> str:
    heading = hit.heading.split(SEPARATOR)[-1].strip()
    if heading.endswith("?"):
        return heading
    subject = _ARTICLE_HEADING.sub("", heading).strip() or heading
    return f"{subject[:1].upper()}{subject[1:]} : que prévoit le document « {hit.title or hit.document} » ?"


def round_trip(service: SearchService, collection: Collection, question: str, source: Hit, threshold: float,
               k: int = 5) -> list[Hit] | None:
    """The hits of `question` when its own passage comes first, past the threshold; else None."""
    hits = service.search(question, [collection], k)
    first = hits[0] if hits else None
    return hits if first is not None and first.score >= threshold and _same(first, source) else None


class _Question(msgspec.Struct):
    question: str


def _one_question(value: _Question) -> None:
    text = value.question.strip()
    if not text.endswith("?") or len(text) > 200 or "\n" in text:
        raise ValueError("une seule question, de moins de 200 caractères, terminée par « ? »")


async def model_question(inference: Inference, task: str, hit: Hit) -> str:
    fenced, rule = fence(f"{hit.reference}\n{hit.text}")
    system = ("Tu prépares la foire aux questions d'une commune suisse. Écris la question qu'un habitant poserait, "
              "avec ses propres mots, et à laquelle le passage fourni répond. Une seule question, en français, "
              "terminée par « ? ». Réponds uniquement par un objet JSON {\"question\": \"...\"}. " + rule)
    value, _ = await complete_structured(inference, task, [Message("system", system), Message("user", fenced)],
                                         _Question, max_tokens=80, check=_one_question)
    return " ".join(value.question.split())


def _same(a: Hit, b: Hit) -> bool:
    return (a.collection, a.document, a.heading, a.locator) == (b.collection, b.document, b.heading, b.locator)


def passage_item(question: str, hit: Hit, score: float) -> FaqItem:
    return FaqItem(question=question, answer=hit.quotation, kind="passage", sources=[f"[1] {hit.reference}"],
                   citations=[hit], score=score)


async def build(service: SearchService, collection: Collection, threshold: float, limit: int = 15,
                inference: Inference | None = None, progress: Callable[[int, int], None] | None = None) -> Faq:
    """The FAQ of `collection` (the command line's: the searches run on its own thread)."""
    kept: list[tuple[float, str, Hit, list[Hit]]] = []
    units = candidates(service, collection)
    for done, hit in enumerate(units, 1):
        question = rules_question(hit)
        hits = round_trip(service, collection, question, hit, threshold)
        if hits is not None:
            kept.append((hits[0].score, question, hit, hits))
        if progress:
            progress(done, len(units))
    kept.sort(key=lambda item: -item[0])
    kept = kept[:limit]
    if inference is None:
        items = [passage_item(question, hit, score) for score, question, hit, _ in kept]
        return Faq(collection=collection.id, title=collection.title, engine="rules", items=items)
    return await _with_model(service, collection, threshold, kept, inference)


async def _with_model(service: SearchService, collection: Collection, threshold: float, kept: list,
                      inference: Inference) -> Faq:
    task = model_task(inference)
    items, warnings = [], []
    for score, question, hit, hits in kept:
        try:
            worded = await model_question(inference, task, hit)
            found = round_trip(service, collection, worded, hit, threshold) or hits
            question = worded if found is not hits else question
            written = await answer_model.write(inference, task, question, found, "fr")
        except InvalidModelOutput:
            warnings.append(f"{hit.reference} : réponse du modèle écartée, le passage est cité tel quel.")
            items.append(passage_item(question, hit, score))
            continue
        numbers = sorted({n for s in written.sentences for n in s.citations})
        if not written.answered or not any(_same(found[n - 1], hit) for n in numbers):
            items.append(passage_item(question, hit, score))  # an answer must rest on its question's own passage
            continue
        items.append(FaqItem(question=question, answer=" ".join(s.text for s in written.sentences), kind="answer",
                             sources=[f"[{n}] {found[n - 1].reference}" for n in numbers], citations=found,
                             score=score))
    return Faq(collection=collection.id, title=collection.title, engine=inference.model_for(task) or task,
               items=items, warnings=warnings)


def markdown(faq: Faq) -> str:
    lines = [f"# FAQ proposée — {faq.title}", "",
             f"_Proposée par Plume ({'sans modèle : chaque réponse est le passage cité' if faq.engine == 'rules' else faq.engine}) "
             "pour relecture : vérifiez chaque question et chaque réponse avant publication. Seul le texte des "
             "documents fait foi._", ""]
    for item in faq.items:
        lines += [f"## {item.question}", "", item.answer, "", "Sources : " + " ; ".join(item.sources), ""]
    if not faq.items:
        lines += ["Aucune question n'a trouvé son propre passage en premier : la collection est-elle indexée ?", ""]
    lines += [f"> {w}" for w in faq.warnings]
    return "\n".join(lines).rstrip() + "\n"

