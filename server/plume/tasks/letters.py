"""A task's result written into a letter template of the library (minutes, fact sheet, acknowledgement).

Only the fields the template declares are sent, each converted to its declared type (a model's
« 30 jours » for a number field, a list for a text field). The library's own refusals (no such
template, values that do not fit, a format it cannot write) go up as they are: the edge maps them.
"""

from __future__ import annotations

import re
from typing import Any

import anyio

from plume import workers
from plume.errors import Unavailable
from plume.tasks.base import Letter


class TemplatesUnavailable(Unavailable):
    code = "templates-unavailable"

    def __init__(self) -> None:
        super().__init__("La bibliothèque de modèles n'est pas disponible.")


async def render_letter(templates: Any, letter: Letter) -> Any:
    """The letter as a RenderedDocument (plume.documents.library), rendered off the event loop."""
    if templates is None:
        raise TemplatesUnavailable()
    info = await anyio.to_thread.run_sync(templates.get, letter.template_id)
    fields = {f.name: f for f in info.fields}
    typed = {name: as_type(value, fields[name].type) for name, value in letter.values.items()
             if name in fields and value not in (None, "")}
    return await workers.run("render", templates.render, letter.template_id, typed, letter.format, letter.language)


def as_type(value: Any, kind: str) -> Any:
    if kind == "number" and isinstance(value, str):
        digits = re.match(r"\s*(\d+(?:[.,]\d+)?)", value)
        return float(digits[1].replace(",", ".")) if digits else value
    if kind == "text" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if kind == "text" and isinstance(value, list):
        return "\n".join(map(str, value))
    return value
