"""Free-text model output (a rewrite, a summary, a translation) checked like structured output:
a check that raises ValueError, one retry with the error, then InvalidModelOutput.

`generate_checked` is an async generator of events, so the same code serves plain JSON answers and
Server-Sent Events: ("delta", piece) while the model writes, ("restart", reason) when the first
attempt failed its check and a second one begins (clients drop the text received so far), and
finally ("final", text) with the checked text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

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
        try:
            basic_check(output)
            check(output)
            if attempt == 0 and first_try_check is not None:
                first_try_check(output)
        except ValueError as exc:
            error = str(exc)[:300]
            history = [*messages, Message("assistant", output[:2000]),
                       Message("user", f"Ta réponse ne convient pas ({error}). Recommence en respectant les consignes.")]
            continue
        yield "final", output.strip()
        return
    raise InvalidModelOutput(task, error)


async def final_text(events: AsyncIterator[tuple[str, str]]) -> str:
    """Run `generate_checked` to the end without streaming; the checked text."""
    async for kind, value in events:
        if kind == "final":
            return value
    raise RuntimeError("generation ended without a result")
