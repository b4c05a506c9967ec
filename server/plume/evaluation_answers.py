"""`plume eval --tasks answer`: how often POST /v1/search/answer answers what it should, on the question
set of the search evaluation (tests/data/search/questions.toml: questions in citizens' words, the
passage that answers each, and questions the documents do not answer; split dev/holdout).

Measured, for dev and holdout apart:
- the relevance threshold alone (what the rules path does): the share of unanswerable questions left
  unanswered (« Je n'ai rien trouvé… ») and of answerable ones wrongly refused, at the configured
  `search_answer_min_score`, and the threshold the dev questions alone would set;
- with a model (`--models`), per variant (`structured`: what the server does by default; `judged`: a
  yes/no on the passages first, `search_answer_judge`; `free`: free text; tasks/answer_model.py),
  over the answers the model wrote (not those where it judged the passages do not answer): the share
  whose every sentence passes the checker at the first try, and after the one retry with no sentence
  removed; the share refused; then the share of answerable questions answered, of answers citing the
  expected passage, and of unanswerable questions left unanswered (threshold, or the model judging
  the passages do not answer).

The checker (language/citations.py) verifies citations and figures (amounts, dates, times, time
limits, article numbers, other numbers) against the cited passages; it cannot verify meaning.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from plume.inference.base import Inference
from plume.search.evaluate import Question, matches
from plume.search.service import Hit, SearchService
from plume.tasks import answer_model
from plume.tasks.answer import LANGUAGES, model_task
from plume.tasks.common import InvalidModelOutput

SUBSETS = ("dev", "holdout")


def searched(service: SearchService, questions: Sequence[Question], k: int = 5) -> dict[str, list[Hit]]:
    """Each question's hits over every collection of the file (as the search evaluation does)."""
    collections = list(service.collections().values())
    return {q.id: service.search(q.text, collections, k) for q in questions}


def threshold_report(questions: Sequence[Question], hits: dict[str, list[Hit]], threshold: float) -> dict[str, Any]:
    report: dict[str, Any] = {"threshold": threshold, "dev_threshold": dev_threshold(questions, hits)}
    for subset in SUBSETS:
        chosen = [q for q in questions if q.set == subset]
        report[subset] = _gate_shares(chosen, hits, threshold)
    report["scores"] = {q.id: _top(hits[q.id]) for q in questions}
    return report


def _top(hits: list[Hit]) -> float:
    return hits[0].score if hits else 0.0


def _gate_shares(questions: Sequence[Question], hits: dict[str, list[Hit]], threshold: float) -> dict[str, Any]:
    answerable = [q for q in questions if q.expected]
    unanswerable = [q for q in questions if not q.expected]
    return {"answerable": len(answerable), "unanswerable": len(unanswerable),
            "unanswerable_left": _share(sum(_top(hits[q.id]) < threshold for q in unanswerable), len(unanswerable)),
            "answerable_refused": _share(sum(_top(hits[q.id]) < threshold for q in answerable), len(answerable))}


def dev_threshold(questions: Sequence[Question], hits: dict[str, list[Hit]]) -> float:
    """The threshold the dev questions set: halfway between the lowest first score of an answerable
    question and the highest unanswerable one below it (no answerable dev question refused)."""
    dev = [q for q in questions if q.set == "dev"]
    lowest = min((_top(hits[q.id]) for q in dev if q.expected), default=0.0)
    below = [_top(hits[q.id]) for q in dev if not q.expected and _top(hits[q.id]) < lowest]
    return round((max(below) + lowest) / 2, 3) if below else round(lowest, 3)


def _share(count: int, total: int) -> float | None:
    return round(count / total, 3) if total else None


# What `--answer-forms` compares: "structured" is what the server does by default; "judged" adds the yes/no
# before writing (setting `search_answer_judge`); "free" is free text.
VARIANTS: dict[str, tuple[answer_model.Form, bool]] = {"judged": ("structured", True),
                                                        "structured": ("structured", False), "free": ("free", False)}


async def model_report(inference: Inference, questions: Sequence[Question], hits: dict[str, list[Hit]],
                       threshold: float, variant: str,
                       progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """One model, one variant: each question whose first hit passes the threshold is answered."""
    form, judged = VARIANTS[variant]
    from plume.language.detect import language_or_french

    outcomes: dict[str, dict[str, Any]] = {}
    task = model_task(inference)
    for done, question in enumerate(questions, 1):
        found = hits[question.id] if _top(hits[question.id]) >= threshold else []
        outcome: dict[str, Any] = {"set": question.set, "answerable": bool(question.expected), "kind": "nothing"}
        if found:
            started = time.perf_counter()
            outcome.update(await _answer(inference, task, question, found,
                                         language_or_french(question.text, among=LANGUAGES), form, judged))
            outcome["seconds"] = round(time.perf_counter() - started, 1)
        outcomes[question.id] = outcome
        if progress:
            progress(done, len(questions))
    return {"variant": variant, **{subset: _model_shares([o for o in outcomes.values() if o["set"] == subset])
                             for subset in SUBSETS}, "questions": outcomes}


async def _answer(inference: Inference, task: str, question: Question, hits: list[Hit], language: str,
                  form: answer_model.Form, judged: bool) -> dict[str, Any]:
    first: list[bool] = []

    def observe(output: str) -> None:  # the first attempt's answer, before any retry
        if not first:
            first.append(_supported_at_first(output, hits, form))

    try:
        written = await answer_model.write(inference, task, question.text, hits, language, form=form, judged=judged,
                                           observe=observe)
    except InvalidModelOutput:
        return {"kind": "refused", "first_supported": bool(first and first[0])}
    if not written.answered:
        return {"kind": "nothing", "first_supported": False, "judged_no": written.attempts == 0}
    cited = {n for s in written.sentences for n in s.citations}
    right = any(matches(hits[n - 1], e) for n in cited for e in question.expected)
    return {"kind": "answer", "first_supported": bool(first and first[0]), "attempts": written.attempts,
            "removed": len(written.removed), "right_source": right}


def _supported_at_first(output: str, hits: list[Hit], form: answer_model.Form) -> bool:
    try:
        answered, sentences = answer_model.read(output, form)
    except ValueError:
        return False
    passages = [answer_model.passage_for_check(h) for h in hits]
    return answered and bool(sentences) and not answer_model.checked_answer(sentences, passages).problems


def _model_shares(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [o for o in outcomes if o["answerable"]]
    unanswerable = [o for o in outcomes if not o["answerable"]]
    asked = [o for o in outcomes if "first_supported" in o]  # past the threshold: the model was asked
    written = [o for o in asked if o["kind"] in ("answer", "refused")]  # it wrote an answer (not « nothing »)
    answers = [o for o in answerable if o["kind"] == "answer"]
    seconds = [o["seconds"] for o in outcomes if "seconds" in o]
    return {
        "asked": len(asked),
        "written": len(written),
        "supported_first_try": _share(sum(o["first_supported"] for o in written), len(written)),
        "supported_without_removal": _share(sum(o["kind"] == "answer" and not o["removed"] for o in written),
                                            len(written)),
        "refused": _share(sum(o["kind"] == "refused" for o in written), len(written)),
        "answerable_answered": _share(len(answers), len(answerable)),
        "right_source": _share(sum(o["right_source"] for o in answers), len(answers)),
        "unanswerable_left": _share(sum(o["kind"] != "answer" for o in unanswerable), len(unanswerable)),
        "seconds_median": round(statistics.median(seconds), 1) if seconds else None,
    }


def table(report: dict[str, Any]) -> str:
    gate = report["threshold"]
    lines = [f"Réponses : seuil de pertinence {gate['threshold']} (score fusionné du 1er passage ; le dev seul "
             f"donnerait {gate['dev_threshold']})",
             f"{'':<28} {'dev':>8} {'holdout':>8}",
             _row("sans réponse laissées sans réponse", gate, "unanswerable_left"),
             _row("avec réponse refusées à tort", gate, "answerable_refused")]
    for name, by_form in report.get("models", {}).items():
        for form, measured in by_form.items():
            lines += ["", f"modèle {name}, variante {form} (réponses demandées : {measured['dev']['asked']} dev, "
                          f"{measured['holdout']['asked']} holdout ; écrites : {measured['dev']['written']}, "
                          f"{measured['holdout']['written']})"]
            for key, label in (("supported_first_try", "toutes phrases appuyées, 1er essai"),
                               ("supported_without_removal", "appuyées après le 2e essai, rien retiré"),
                               ("refused", "réponses refusées"), ("answerable_answered", "questions avec réponse répondues"),
                               ("right_source", "réponses citant le passage attendu"),
                               ("unanswerable_left", "sans réponse laissées sans réponse")):
                lines.append(_row(label, measured, key))
            lines.append(f"  durée médiane par réponse : {measured['dev']['seconds_median']} s (dev)")
    return "\n".join(lines)


def _row(label: str, measured: dict[str, Any], key: str) -> str:
    cells = [measured[s][key] for s in SUBSETS]
    return f"  {label:<40} " + " ".join(f"{'—' if c is None else f'{c:.0%}':>8}" for c in cells)


async def evaluate(service: SearchService, questions: Sequence[Question], threshold: float,
                   models_file: Path | None = None, model_ids: Sequence[str] = (),
                   forms: Sequence[str] = ("structured",),
                   progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    import anyio

    hits = await anyio.to_thread.run_sync(searched, service, questions)
    report: dict[str, Any] = {"threshold": threshold_report(questions, hits, threshold)}
    if models_file is None:
        return report
    from plume.config import load_settings
    from plume.evaluation import Metered
    from plume.inference.service import InferenceService

    models = InferenceService(load_settings(models_file=models_file, request_timeout_s=3600.0))
    await models.start()
    try:
        for slot in models.slots.values():
            await slot.loaded.wait()
        chosen = list(model_ids) or [s.id for s in models.slots.values() if {"answer", "chat"} & set(s.tasks)]
        report["models"] = {}
        for model_id in chosen:
            report["models"][model_id] = {}
            for form in forms:
                step = (lambda done, total, f=form: progress(f"{model_id} {f}", done, total)) if progress else None
                report["models"][model_id][form] = await model_report(Metered(models, model_id), questions, hits,
                                                                      threshold, form, step)
    finally:
        await models.stop()
    return report
