"""The runs of a selection (segments) through a translator: each run in its own numbered span, so
the translated runs come back one by one, each with its own formatting."""

from __future__ import annotations

import html
import re

import msgspec

from plume.language import tags


class Segment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A run of text with one formatting, as word processors hold it (a Writer text portion, a Word run)."""

    text: str
    bold: bool = False
    italic: bool = False
    underline: bool = False
    link: str | None = None


def segments_to_html(segments: list[Segment]) -> str:
    """Each segment in its own numbered span: the translators keep spans in order, so each translated
    run comes back to its segment."""
    return "".join(f'<span data-s="{k}">{html.escape(seg.text, quote=False)}</span>' for k, seg in enumerate(segments))


def html_to_segments(translated: str, segments: list[Segment]) -> list[Segment]:
    texts = [""] * len(segments)
    current = None
    for piece in tags.tokens(translated):
        if isinstance(piece, tags.Tag):
            found = re.search(r'data-s="(\d+)"', piece.raw) if not piece.closing else None
            current = int(found.group(1)) if found else None
        elif current is not None and current < len(texts):
            texts[current] += html.unescape(piece)
    return [msgspec.structs.replace(seg, text=texts[k]) for k, seg in enumerate(segments)]
