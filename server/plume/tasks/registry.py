"""Every writing task this server runs, in the order GET /v1/capabilities lists them.

A new task: its module (a `TaskBase` subclass, see tasks/base.py), one line here, and a route of a few
lines in api/ that hands its request to the runner.
"""

from __future__ import annotations

from plume.tasks.acknowledge import AcknowledgeTask
from plume.tasks.answer import AnswerTask
from plume.tasks.actions import ActionTask
from plume.tasks.base import Task
from plume.tasks.extract import ExtractTask
from plume.tasks.factsheet import FactSheetTask
from plume.tasks.minutes import MinutesTask
from plume.tasks.plain_language import PlainLanguageTask
from plume.tasks.proofread import ProofreadTask
from plume.tasks.summarize import SummaryTask
from plume.tasks.translate import TranslationTask
from plume.tasks.triage import TriageTask

TRANSLATE = TranslationTask()
PLAIN_LANGUAGE = PlainLanguageTask()
SUMMARIZE = SummaryTask()
MINUTES = MinutesTask()
FACTSHEET = FactSheetTask()
ACKNOWLEDGE = AcknowledgeTask()
TRIAGE = TriageTask()
EXTRACT = ExtractTask()
PROOFREAD = ProofreadTask()
ACTIONS = ActionTask()
ANSWER = AnswerTask()

TASKS: tuple[Task, ...] = (TRANSLATE, PLAIN_LANGUAGE, SUMMARIZE, MINUTES, FACTSHEET, ACKNOWLEDGE, TRIAGE, EXTRACT,
                           PROOFREAD, ACTIONS, ANSWER)
