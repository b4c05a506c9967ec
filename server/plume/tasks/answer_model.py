"""The instruction model's part of an answer: the prompt over numbered passages, the answer in one of
two forms, each sentence checked against the passages it cites (language/citations.py), one retry
naming what was wrong, then the sentences that still fail removed — or the answer refused when none
is left.

Two forms, compared by `plume eval --tasks answer` on the reference model (docs/search.md):
- "structured": JSON constrained by a schema (guided decoding), each sentence with its citation
  numbers as an enum of the passages given, so a citation to no passage cannot be written;
- "free": plain text, each sentence ending with [1] or [1, 2].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import msgspec

from plume.inference.base import Inference, Message
from plume.language.citations import Checked, Sentence, check_answer, cited, split_sentences, without_citations
from plume.search.service import Hit
from plume.tasks.common import InvalidModelOutput, closed_schema, extract_json, fence

Form = Literal["structured", "free"]
FORM: Form = "structured"  # measured in docs/search.md « Answers »: more supported answers on the reference model
NONE = "AUCUNE_REPONSE"
MAX_TOKENS = 320
PASSAGE_CHARS = 1200   # of each passage in the prompt: five passages stay within ~2,000 tokens
LANGUAGE_NAMES = {"fr": "français", "de": "allemand", "it": "italien", "en": "anglais"}

SYSTEM = (
    "Tu aides les collaborateurs de l'administration communale du Locle (Suisse) à répondre aux questions du "
    "public. Réponds uniquement à partir des passages numérotés des documents de la commune, placés dans les "
    "données avec la question. Réponds en {language}, en une à quatre phrases courtes et claires. Chaque phrase "
    "s'appuie sur un ou plusieurs passages et les cite par leur numéro. Recopie exactement les montants, dates, "
    "heures, délais et numéros d'articles du passage cité ; n'ajoute aucun fait qui n'y figure pas. "
)
FREE = ("Termine chaque phrase par ses citations entre crochets, avant le point, par exemple : « La taxe annuelle "
        "s'élève à CHF 120.– [1]. » Si les passages ne répondent pas à la question, réponds seulement " + NONE + ". ")
STRUCTURED = ("Réponds uniquement par un objet JSON {{\"answered\": true, \"sentences\": [{{\"text\": \"...\", "
              "\"citations\": [1]}}]}}, où citations donne les numéros des passages qui justifient la phrase. Si les "
              "passages ne répondent pas à la question : {{\"answered\": false, \"sentences\": []}}. ")


# The yes/no before writing (setting `search_answer_judge`, off by default): the reference model answered
# « no » to every question, answerable or not (docs/search.md « Answers »); a larger model may judge better.
JUDGE = ("Tu vérifies si des passages des documents d'une commune répondent à une question. Réponds true seulement si "
         "l'un des passages dit directement ce que la question demande ; false s'ils parlent d'autre chose. Réponds "
         "uniquement par un objet JSON {\"answers\": true} ou {\"answers\": false}. ")
JUDGE_SCHEMA = closed_schema({"type": "object", "properties": {"answers": {"type": "boolean"}},
                              "required": ["answers"]})


class _Judged(msgspec.Struct):
    answers: bool


class UnsupportedAnswer(InvalidModelOutput):
    """The model's answer had no sentence left that its passages support, twice. `reason` is ours
    (kinds and citation numbers, never a value or the user's words), so the person may read it."""

    def __init__(self, task: str, error: str, reason: str) -> None:
        super().__init__(task, error)
        self.detail = (f"Le modèle n'a pas produit de réponse appuyée par les passages trouvés, même après un second "
                       f"essai ({reason}). Les passages restent disponibles sans réponse rédigée (\"engine\": "
                       "\"rules\").")
        self.reason = reason


@dataclass
class Written:
    """An answer the checks let through: its supported sentences, or none when the model says the
    passages do not answer; `removed`: the public reasons of the sentences taken out."""

    sentences: list[Sentence]
    answered: bool = True
    removed: list[str] = field(default_factory=list)
    attempts: int = 1


def passage_for_check(hit: Hit) -> str:
    """What a sentence citing `hit` may state: its reference, heading and text."""
    return f"{hit.reference}\n{hit.heading}\n{hit.text}"


def _question_and_passages(question: str, hits: Sequence[Hit]) -> str:
    numbered = "\n\n".join(f"[{i}] {hit.reference}\n{_clip(hit.text)}" for i, hit in enumerate(hits, 1))
    return f"Question : {question}\n\nPassages :\n\n{numbered}"


def messages(question: str, hits: Sequence[Hit], language: str, form: Form) -> list[Message]:
    fenced, rule = fence(_question_and_passages(question, hits))
    system = SYSTEM.format(language=LANGUAGE_NAMES.get(language, "français"))
    system += (STRUCTURED.format() if form == "structured" else FREE) + rule
    return [Message("system", system), Message("user", fenced)]


def _clip(text: str) -> str:
    return text if len(text) <= PASSAGE_CHARS else text[:PASSAGE_CHARS].rsplit(" ", 1)[0] + " […]"


def schema(passages: int) -> dict:
    """Sentences whose citations can only be numbers of the passages given (at least one each)."""
    numbers = list(range(1, passages + 1))
    item = {"type": "object", "properties": {"text": {"type": "string"},
                                             "citations": {"type": "array", "items": {"enum": numbers},
                                                           "minItems": 1}},
            "required": ["text", "citations"]}
    return closed_schema({"type": "object", "properties": {"answered": {"type": "boolean"},
                                                           "sentences": {"type": "array", "items": item}},
                          "required": ["answered", "sentences"]})


class _Structured(msgspec.Struct):
    answered: bool
    sentences: list[_StructuredSentence] = []


class _StructuredSentence(msgspec.Struct):
    text: str
    citations: list[int] = []


def read(output: str, form: Form) -> tuple[bool, list[Sentence]]:
    """(answered, sentences) from the model's output; ValueError when it cannot be read."""
    if form == "free":
        text = output.strip()
        if NONE in text or not text:
            return False, []
        return True, split_sentences(text)
    value = msgspec.convert(extract_json(output), _Structured, strict=False)
    sentences = [Sentence(text=_with_marks(s.text, s.citations), citations=list(dict.fromkeys(s.citations)))
                 for s in value.sentences if s.text.strip()]
    return value.answered and bool(sentences), sentences


def _with_marks(text: str, citations: list[int]) -> str:
    """« La taxe … CHF 120.– » + [1, 2] → « La taxe … CHF 120.– [1, 2]. » (marks already written are kept)."""
    text = " ".join(text.split())
    if cited(text) or not citations:
        return text
    end = text[-1] if text and text[-1] in ".!?" else "."
    return f"{text.rstrip('.!? ')} [{', '.join(map(str, dict.fromkeys(citations)))}]{end}"


async def judge(inference: Inference, model_task: str, question: str, hits: Sequence[Hit], *,
                user: str | None = None) -> bool:
    """Whether a passage says what the question asks: a constrained yes/no before writing (a model that
    writes from passages on another subject still cites figures they hold, which the checks let through)."""
    fenced, rule = fence(_question_and_passages(question, hits))
    completion = await inference.complete(model_task, [Message("system", JUDGE + rule), Message("user", fenced)],
                                          max_tokens=12, temperature=0.0, user=user, json_schema=JUDGE_SCHEMA)
    try:
        return bool(msgspec.convert(extract_json(completion.text), _Judged, strict=False).answers)
    except (ValueError, msgspec.ValidationError):
        return True  # unreadable: the answer's own checks still stand


async def write(inference: Inference, model_task: str, question: str, hits: Sequence[Hit], language: str, *,
                form: Form = FORM, user: str | None = None, judged: bool = False,
                observe: Callable[[str], None] | None = None) -> Written:
    """The checked answer; raises InvalidModelOutput (UnsupportedAnswer) when nothing supported is left.
    `observe(output)` sees each raw answer (the evaluation measures the first try)."""
    if judged and not await judge(inference, model_task, question, hits, user=user):
        return Written([], answered=False, attempts=0)
    history = messages(question, hits, language, form)
    passages = [passage_for_check(hit) for hit in hits]
    options = {"json_schema": schema(len(hits))} if form == "structured" else {}
    error = ""
    for attempt in (1, 2):
        completion = await inference.complete(model_task, history, max_tokens=MAX_TOKENS, temperature=0.0, user=user,
                                              **options)
        if observe is not None:
            observe(completion.text)
        try:
            answered, sentences = read(completion.text, form)
        except (ValueError, msgspec.ValidationError) as exc:
            error = f"réponse illisible ({str(exc)[:200]})"
            history = [*history, Message("assistant", completion.text[:2000]),
                       Message("user", f"Ta réponse est invalide ({error}). Réponds exactement dans la forme demandée.")]
            continue
        if not answered:
            return Written([], answered=False, attempts=attempt)
        checked = checked_answer(sentences, passages)
        if not checked.problems:
            return Written(checked.sentences, attempts=attempt)
        if attempt == 2:
            return _kept_or_refused(model_task, checked)
        error = "; ".join(p.for_model for p in checked.problems[:4])
        history = [*history, Message("assistant", completion.text[:2000]),
                   Message("user", f"Ta réponse ne convient pas : {error}. Recommence : chaque phrase cite le passage "
                                   "qui contient exactement ce qu'elle affirme.")]
    raise InvalidModelOutput(model_task, error)


def checked_answer(sentences: list[Sentence], passages: list[str]) -> Checked:
    """The checks, with idle citations (a passage holding none of its sentence's figures) dropped from
    their sentence: it stays, backed by the passages that do hold them — a repair, not a retry."""
    return _without_idle_citations(check_answer(sentences, passages))


def _kept_or_refused(model_task: str, checked: Checked) -> Written:
    """After the retry: sentences that still fail removed; nothing left: refused."""
    reasons = list(dict.fromkeys(p.public for p in checked.problems))
    if not checked.supported:
        raise UnsupportedAnswer(model_task, "; ".join(p.for_model for p in checked.problems[:4]), ", ".join(reasons))
    return Written(checked.supported, removed=reasons, attempts=2)


def _without_idle_citations(checked: Checked) -> Checked:
    idle: dict[int, set[int]] = {}
    for problem in checked.problems:
        if problem.kind == "idle-citation":
            idle.setdefault(problem.sentence, set()).add(int(cited(problem.public)[0]))
    sentences = []
    for i, sentence in enumerate(checked.sentences):
        kept = [n for n in sentence.citations if n not in idle.get(i, set())]
        sentences.append(sentence if kept == sentence.citations else
                         Sentence(text=_with_marks(without_citations(sentence.text), kept), citations=kept))
    return Checked(sentences, [p for p in checked.problems if p.kind != "idle-citation"])
