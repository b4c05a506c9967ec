"""Line breaks as the word processors send them, made one: `\\n`.

Word separates paragraphs with `\\r` and writes a manual line break as `\\v`; Windows clipboards
give `\\r\\n`; LibreOffice and some web forms use U+2029/U+2028. Every text route normalises at the
edge (the request's Struct), so the sentence splitter, headings and measures see one kind of break.
"""

from __future__ import annotations

import re

_BREAKS = re.compile(r"\r\n?|[\v\f\x85\u2028\u2029]")


def normalise(text: str | None) -> str | None:
    return _BREAKS.sub("\n", text) if text else text
