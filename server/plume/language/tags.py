"""Inline formatting tags in text sent for translation (format "html").

Allowed: p, b, strong, i, em, u, a (href), span, sub, sup and the void br. A translation must give back
the same tags, in the same order, well nested. `runs()` splits tagged text into plain runs so a
translation can be redone run by run and the original tags put back (the repair).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

INLINE = {"p", "b", "strong", "i", "em", "u", "a", "span", "sub", "sup"}
VOID = {"br"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^<>]*?)?)\s*(/?)>")


class TagError(ValueError):
    """Tagged text is malformed or uses a tag that is not allowed (French message, no user text)."""


@dataclass(frozen=True)
class Tag:
    name: str
    closing: bool
    raw: str

    @property
    def key(self) -> tuple[str, bool, str]:
        return (self.name, self.closing, _attributes(self.raw))


def _attributes(raw: str) -> str:
    # Compare attributes by value, not by quoting: href="x" and href='x' are the same link.
    pairs = re.findall(r"([a-zA-Z-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", raw)
    return " ".join(f"{k.lower()}={html.unescape(a or b or c)}" for k, a, b, c in pairs)


def tokens(text: str) -> list[str | Tag]:
    """Text pieces and tags, in order. Raises TagError for a tag outside the allowed set or bad nesting."""
    out: list[str | Tag] = []
    stack: list[str] = []
    cursor = 0
    for m in _TAG.finditer(text):
        closing, name, self_closing = m.group(1) == "/", m.group(2).lower(), m.group(4) == "/"
        if name not in INLINE | VOID:
            raise TagError(f"La balise <{name}> n'est pas acceptée. Balises permises : p, b, strong, i, em, u, a, span, sub, sup, br.")
        if m.start() > cursor:
            out.append(text[cursor:m.start()])
        out.append(Tag(name, closing, m.group(0)))
        cursor = m.end()
        if name in VOID or self_closing:
            continue
        if closing:
            if not stack or stack.pop() != name:
                raise TagError(f"La balise </{name}> ferme une balise qui n'est pas ouverte.")
        else:
            stack.append(name)
    if cursor < len(text):
        out.append(text[cursor:])
    if stack:
        raise TagError(f"La balise <{stack[-1]}> n'est pas fermée.")
    if re.search(r"<[a-zA-Z/!]", "".join(t for t in out if isinstance(t, str))):
        raise TagError("Le texte contient une balise mal formée.")
    return out


def tag_keys(text: str) -> list[tuple[str, bool, str]]:
    return [t.key for t in tokens(text) if isinstance(t, Tag)]


def problems(source: str, translated: str) -> list[str]:
    """What is wrong with the tags of `translated` compared with `source` (empty: all kept)."""
    try:
        got = tag_keys(translated)
    except TagError as exc:
        return [str(exc)]
    wanted = tag_keys(source)
    if got == wanted:
        return []
    if sorted(got) == sorted(wanted):
        return ["Les balises de mise en forme ont changé d'ordre."]
    return [f"La traduction a {len(got)} balises au lieu de {len(wanted)}."]


def plain(text: str) -> str:
    """The text without its tags, entities decoded (for language detection and measures)."""
    return html.unescape(_TAG.sub(lambda m: " " if m.group(2).lower() in VOID else "", text))


def runs(text: str) -> list[str | Tag]:
    """Same as tokens(); text runs are what gets translated one by one in the repair."""
    return tokens(text)


def join(pieces: list[str | Tag]) -> str:
    return "".join(p.raw if isinstance(p, Tag) else p for p in pieces)
