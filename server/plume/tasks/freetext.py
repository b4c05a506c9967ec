"""Free-text model output (a rewrite, a summary, a translation) checked like structured output:
a check that raises ValueError, one retry with the error, then InvalidModelOutput.

`generate_checked` is an async generator of events, so the same code serves plain JSON answers and
Server-Sent Events: ("delta", piece) while the model writes, ("restart", reason) when the first
attempt failed its check and a second one begins (clients drop the text received so far), and
finally ("final", text) with the checked text.

The checks run in a worker thread: they parse the answer (spaCy, Grammalecte, difflib), which takes
a second or more on a long text, and on the event loop that second froze every other request
(issue 24: under 40 clients, uploads and renders stalled past their 60 s behind these checks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from plume import workers
from plume.inference.base import Inference, Message
from plume.tasks.common import InvalidModelOutput

FENCE_MARKERS = ("<<<DONNEES-", "<<<FIN-")


def basic_check(output: str) -> None:
    if not output.strip():
        raise ValueError("réponse vide")
    if any(marker in output for marker in FENCE_MARKERS):
        raise ValueError("la réponse recopie les balises de données au lieu du texte")


async def generate_checked(
    inference: Inference,
    task: str,
    messages: list[Message],
    check: Callable[[str], None],
    *,
    stream: bool,
    max_tokens: int,
    user: str | None = None,
    first_try_check: Callable[[str], None] | None = None,
    **options: Any,
) -> AsyncIterator[tuple[str, str]]:
    """`first_try_check` asks more of the first answer only (e.g. « keep every fact »): failing it earns
    a second try with the reason, and the second answer is then taken if it passes `check`."""
    history = list(messages)
    error = ""
    for attempt in range(2):
        if attempt:
            yield "restart", error
        if stream:
            pieces = []
            async for piece in inference.stream(task, history, max_tokens=max_tokens, user=user, **options):
                pieces.append(piece)
                yield "delta", piece
            output = "".join(pieces)
        else:
            output = (await inference.complete(task, history, max_tokens=max_tokens, user=user, **options)).text
        error = await workers.run("text", _refusal, output, check, first_try_check if attempt == 0 else None)
        if error:
            history = [*messages, Message("assistant", output[:2000]),
                       Message("user", f"Ta réponse ne convient pas ({error}). Recommence en respectant les consignes.")]
            continue
        yield "final", output.strip()
        return
    raise InvalidModelOutput(task, error)


def _refusal(output: str, check: Callable[[str], None], first_try_check: Callable[[str], None] | None) -> str:
    """Why `output` is refused ("" when it passes), for the retry prompt. Blocking: a worker thread."""
    try:
        basic_check(output)
        check(output)
        if first_try_check is not None:
            first_try_check(output)
    except ValueError as exc:
        return str(exc)[:300] or "réponse refusée"
    return ""


async def final_text(events: AsyncIterator[tuple[str, str]]) -> str:
    """Run `generate_checked` to the end without streaming; the checked text."""
    async for kind, value in events:
        if kind == "final":
            return value
    raise RuntimeError("generation ended without a result")
