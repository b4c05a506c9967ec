"""Defects the real model showed (issue 15), fixed in general ways; checked here without it, with a
scripted model answer."""

from __future__ import annotations

import asyncio
import json

from plume.mail.parse import from_fields
from plume.tasks import extract as extract_task
from plume.tasks import triage as triage_task
from tests.test_plain_language import Scripted


def answers(answer: dict) -> Scripted:
    """A scripted model that gives the same JSON object to the request and to its one retry."""
    return Scripted(*[json.dumps(answer, ensure_ascii=False)] * 2)


def test_triage_reasons_explain_the_service_the_model_chose():
    rules = triage_task.load_rules()
    mail = from_fields(sender="anne@example.ch", subject="Bruit", body="Nos voisins font du bruit chaque nuit.")
    alone = triage_task.triage_by_rules(mail, rules)
    other = next(s.name for s in rules.services if s.name != alone.service)
    answer = {"category": rules.categories[0].name, "service": other, "needs_reply": True, "summary": "Plainte."}
    got = asyncio.run(triage_task.triage(mail, rules, answers(answer)))
    assert got.service == other
    services = [r for r in got.reasons if r.startswith("service")]
    assert services and all(f"« {other} »" in r.split("(")[0] for r in services), got.reasons
    assert not any("par défaut" in r for r in services)


def test_extraction_keeps_only_model_values_that_are_passages_of_the_note():
    note = "Mme Maria Ferreira, domiciliée rue des Jardins 12, 2400 Le Locle, depuis le 1er mars 2019."
    fields = [extract_task.FieldSpec("lieu", "text"), extract_task.FieldSpec("quartier", "text")]
    answer = {"lieu": "2400 Le Locle de", "quartier": "rue des Jardins"}
    got = asyncio.run(extract_task.extract(note, fields, answers(answer)))
    assert "lieu" in got.missing and got.values.get("quartier") == "rue des Jardins"
    assert "quartier" in got.uncertain  # a model's value is a proposal for the clerk to check
