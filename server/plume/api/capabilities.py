"""GET /v1/capabilities: what this server can do now, task by task, so the sidebars offer only that.

Shape (docs/writing-tasks.md, « Ce que le serveur sait faire »): {"tasks": {task: {"available", "engines",
"reason", "reason_de", …task details}}}. `engines` lists "rules" (or "apertium") and the model ids that
serve the task; `reason`/`reason_de` is one plain sentence for the clerk when the task is unavailable
(null otherwise). The command that installs a model appears only for an admin token (`install`):
a clerk cannot run it, and reading it would only worry her.
"""

from __future__ import annotations

import shutil
from typing import Any

from litestar import Request, get

from plume.inference.base import ModelUnavailable, NoInference
from plume.security.roles import Role
from plume.tasks import acknowledge, actions, factsheet, minutes, proofread, translate

# Tasks whose rules always answer, with the task name the inference catalog uses.
RULE_TASKS = ("plain-language", "summarize", "minutes", "factsheet", "acknowledge", "triage", "extract")
LEVELS = ["B1", "A2"]
LENGTHS = ["short", "medium", "long"]

LANGUAGE_NAMES_DE = {"fr": "Französisch", "de": "Deutsch", "it": "Italienisch", "en": "Englisch",
                     "pt": "Portugiesisch", "es": "Spanisch", "ca": "Katalanisch", "rm": "Rätoromanisch"}

NO_TRANSLATION = ("La traduction n'est pas disponible sur ce serveur : aucun traducteur n'y est installé. "
                  "Le service informatique peut en ajouter un.")
NO_TRANSLATION_DE = ("Die Übersetzung ist auf diesem Server nicht verfügbar: Es ist kein Übersetzer installiert. "
                     "Die Informatik kann einen hinzufügen.")
NO_PROOFREAD = ("La correction n'est pas disponible sur ce serveur : le correcteur Grammalecte n'y est pas installé. "
                "Le service informatique peut l'ajouter.")
NO_PROOFREAD_DE = ("Die Korrektur ist auf diesem Server nicht verfügbar: Grammalecte ist nicht installiert. "
                   "Die Informatik kann es hinzufügen.")
NO_TEMPLATES = ("Aucun modèle de lettre n'est disponible sur ce serveur. Le service informatique ou la personne "
                "responsable des modèles peut en ajouter.")
NO_TEMPLATES_DE = ("Auf diesem Server ist keine Briefvorlage verfügbar. Die Informatik oder die für die Vorlagen "
                   "zuständige Person kann welche hinzufügen.")
NO_TRANSCRIPTION = ("La transcription d'enregistrements n'est pas disponible sur ce serveur : aucun modèle de "
                    "transcription n'y est installé. Le service informatique peut en ajouter un.")
NO_TRANSCRIPTION_DE = ("Die Transkription von Aufnahmen ist auf diesem Server nicht verfügbar: Es ist kein "
                       "Transkriptionsmodell installiert. Die Informatik kann eines hinzufügen.")
NO_ACTIONS = "Les actions de la commune demandent un modèle de langue, qui n'est pas installé sur ce serveur."
NO_ACTIONS_DE = "Die Aktionen der Gemeinde brauchen ein Sprachmodell, das auf diesem Server nicht installiert ist."


def _inference(request: Request) -> Any:
    return request.app.state.get("inference") or NoInference()


def _install(inference: Any, task: str) -> str:
    own = getattr(inference, "install_command", None)  # the service names its own catalog file
    return own(task) if callable(own) else ModelUnavailable(task).install_command


def _entry(available: bool, engines: list[str], reason: str | None = None, reason_de: str | None = None,
           **details: Any) -> dict[str, Any]:
    return {"available": available, "engines": engines, "reason": None if available else reason,
            "reason_de": None if available else reason_de, **details}


def _engines(inference: Any, task: str) -> list[str]:
    model = inference.model_for(task) if inference.has_model(task) else None
    return ["rules", model] if model else ["rules"]


def translation(inference: Any) -> dict[str, Any]:
    """Every working (source, target) pair, the targets in the order the sidebars offer them: those
    reachable from French (the commune's language) first; `default_target` is the first of them."""
    pairs: dict[str, list[str]] = {}
    for source in translate.LANGUAGES:
        for target in translate.TARGETS:
            if source != target and (found := translate.engines_for(inference, source, target)):
                pairs[f"{source}-{target}"] = found
    from_french = [t for t in translate.TARGETS if f"fr-{t}" in pairs]
    others = [t for t in translate.TARGETS if t not in from_french and any(p.endswith(f"-{t}") for p in pairs)]
    targets = from_french + others
    engines = list(dict.fromkeys(e for found in pairs.values() for e in found))
    names = {code: translate.LANGUAGES[code] for code in translate.LANGUAGES}
    return _entry(bool(pairs), engines, NO_TRANSLATION, NO_TRANSLATION_DE, pairs=sorted(pairs),
                  targets=targets, default_target=targets[0] if targets else None,
                  languages=names, languages_de=dict(LANGUAGE_NAMES_DE))


def transcription(inference: Any, settings: Any) -> dict[str, Any]:
    """Recordings → transcript (docs/transcription.md): the speech models, and the limits of an upload."""
    model = inference.model_for("transcribe") if inference.has_model("transcribe") else None
    return _entry(model is not None, [model] if model else [], NO_TRANSCRIPTION, NO_TRANSCRIPTION_DE,
                  formats=["wav", "mp3", "m4a", "ogg", "webm", "flac"], max_audio_bytes=settings.max_audio_bytes,
                  max_audio_duration_s=settings.max_audio_duration_s)


def _templates(request: Request) -> tuple[list[Any], bool]:
    library = request.app.state.get("templates")
    if library is None:
        return [], False
    return library.list(), shutil.which(request.app.state.settings.soffice) is not None


def capabilities_of(request: Request) -> dict[str, Any]:
    inference = _inference(request)
    templates, pdf = _templates(request)
    ids = {t.id for t in templates}

    def formats(template_id: str) -> list[str]:
        found = next((t.formats for t in templates if t.id == template_id), [])
        return ["text", *(f for f in found if f != "pdf")]  # these routes write .docx/.odt only

    tasks: dict[str, dict[str, Any]] = {"translate": translation(inference)}
    for task in RULE_TASKS:
        tasks[task] = _entry(True, _engines(inference, task))
    tasks["plain-language"]["levels"] = list(LEVELS)
    tasks["summarize"]["lengths"] = list(LENGTHS)
    tasks["minutes"]["formats"] = formats(minutes.TEMPLATE_ID)
    tasks["factsheet"]["formats"] = formats(factsheet.TEMPLATE_ID)
    tasks["acknowledge"]["formats"] = formats(acknowledge.TEMPLATE_ID)
    tasks["acknowledge"]["languages"] = list(acknowledge.LANGUAGES)
    tasks["extract"] = _entry(bool(ids), _engines(inference, "extract"), NO_TEMPLATES, NO_TEMPLATES_DE,
                              templates=len(ids))
    # A template lists pdf always; it needs LibreOffice on the server.
    render_formats = sorted({f for t in templates for f in t.formats if f != "pdf"}) + (["pdf"] if pdf and ids else [])
    tasks["render"] = _entry(bool(ids), ["rules"], NO_TEMPLATES, NO_TEMPLATES_DE, templates=len(ids),
                             formats=render_formats)
    tasks["proofread"] = _entry(proofread.available(), ["grammalecte"], NO_PROOFREAD, NO_PROOFREAD_DE,
                                languages=list(proofread.CHECKED_LANGUAGES))
    model = inference.model_for(actions.MODEL_TASK) if inference.has_model(actions.MODEL_TASK) else None
    library = request.app.state.get("actions")
    shown = actions.listed(library.all(), request.user.role, model is not None) if library else {}
    tasks["actions"] = _entry(model is not None, [model] if model else [], NO_ACTIONS, NO_ACTIONS_DE,
                              count=len(shown))
    tasks["transcribe"] = transcription(inference, request.app.state.settings)
    if request.user.role.allows(Role.ADMIN):
        for name, entry in tasks.items():
            if name == "proofread":
                entry["install"] = "apt-get install python3-grammalecte"
            elif name == "actions":
                entry["install"] = _install(inference, actions.MODEL_TASK)
            elif name != "render":
                entry["install"] = _install(inference, name)
    # The review mode IT locked for the sidebars (config `review_mode`), or none: each clerk chooses.
    locked = request.app.state.settings.review_mode
    return {"tasks": tasks, "review": {"mode": locked or "tracked", "locked": bool(locked)}}


@get("/v1/capabilities", summary="Ce que ce serveur sait faire maintenant, tâche par tâche", tags=["service"])
async def capabilities(request: Request) -> dict[str, Any]:
    return capabilities_of(request)


ROUTES = [capabilities]
