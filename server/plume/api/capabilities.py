"""GET /v1/capabilities: what this server can do now, task by task, so the sidebars offer only that.

Shape (docs/writing-tasks.md, « Ce que le serveur sait faire »): {"tasks": {task: {"available", "engines",
"reason", "reason_de", …task details}}}, one entry per registered task (plume.tasks.registry: each task
describes itself) and one for rendering letters. The command that installs a model appears only for an
admin token (`install`): a clerk cannot run it, and reading it would only worry her.
"""

from __future__ import annotations

import shutil
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency

from plume.security.roles import Role
from plume.search.service import search_capability
from plume.services import Services
from plume.speech.service import transcription_capability
from plume.tasks.base import Offer, capability
from plume.tasks.extract import NO_TEMPLATES, NO_TEMPLATES_DE
from plume.tasks.registry import EXTRACT, TASKS


def render(offer: Offer, soffice: str) -> dict[str, Any]:
    """Letters from the library: .docx/.odt always, .pdf where LibreOffice is on the server."""
    ids = {t.id for t in offer.templates}
    pdf = bool(ids) and shutil.which(soffice) is not None
    formats = sorted({f for t in offer.templates for f in t.formats if f != "pdf"}) + (["pdf"] if pdf else [])
    return capability(bool(ids), ["rules"], NO_TEMPLATES, NO_TEMPLATES_DE, templates=len(ids), formats=formats)


def capabilities_of(role: Role, services: Services, user: str | None = None) -> dict[str, Any]:
    templates = services.templates.list() if services.templates is not None else []
    offer = Offer(services.inference, templates, str(role), services.actions)
    tasks: dict[str, dict[str, Any]] = {}
    for task in TASKS:
        tasks[task.name] = task.describe(offer)
        if role.allows(Role.ADMIN) and (command := task.install(services.inference)):
            tasks[task.name]["install"] = command
        if task is EXTRACT:  # rendering is the templates routes' capability, listed beside extraction
            tasks["render"] = render(offer, services.settings.soffice)
    tasks["search"] = search_capability(services.search, str(role), user)
    tasks["transcribe"] = transcription_capability(services.models, services.settings)
    if not tasks["search"]["available"]:  # answers come from the same collections
        tasks["answer"].update({key: tasks["search"][key] for key in ("available", "reason", "reason_de")})
    if role.allows(Role.ADMIN):
        tasks["search"]["install"] = "plume serve --collections collections.toml (docs/search.md)"
        tasks["transcribe"]["install"] = services.models.install_command("transcribe")
    # The review mode IT locked for the sidebars (config `review_mode`), or none: each clerk chooses.
    locked = services.settings.review_mode
    return {"tasks": tasks, "review": {"mode": locked or "tracked", "locked": bool(locked)}}


@get("/v1/capabilities", summary="Ce que ce serveur sait faire maintenant, tâche par tâche", tags=["service"])
async def capabilities(request: Request, services: NamedDependency[Services]) -> dict[str, Any]:
    return capabilities_of(request.user.role, services, request.user.name)


ROUTES = [capabilities]
