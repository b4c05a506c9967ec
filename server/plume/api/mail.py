"""POST /v1/mail/triage and /v1/mail/acknowledge: an e-mail as raw .eml or as fields."""

from __future__ import annotations

from typing import Any

from litestar import post
from litestar.params import JSONBody

from plume.api.task_support import Runner, respond
from plume.tasks.acknowledge import AcknowledgeIn
from plume.tasks.mail_in import MailIn
from plume.tasks.registry import ACKNOWLEDGE, TRIAGE


@post("/v1/mail/triage", summary="Trier un courriel", tags=["courriel"], status_code=200)
async def triage_mail(data: JSONBody[MailIn], runner: Runner) -> dict[str, Any]:
    return respond(await runner.run(TRIAGE, data))


@post("/v1/mail/acknowledge", summary="Accusé de réception d'un courriel", tags=["courriel"], status_code=200)
async def acknowledge_mail(data: JSONBody[AcknowledgeIn], runner: Runner) -> Any:
    return respond(await runner.run(ACKNOWLEDGE, data))


ROUTES = [triage_mail, acknowledge_mail]
