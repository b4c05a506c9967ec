"""Formatted runs <-> the inline HTML the server keeps (<b>, <i>, <u>, <a href>).

A run is a piece of text with one set of character attributes. Writer gives us runs (its text
portions); the server translates HTML; this module converts between the two and, when a task
returns plain text (plain language), carries each word's formatting over with a word-level diff.
Pure Python: no UNO, so it is tested in the server's virtual environment too.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass, replace
from html.parser import HTMLParser


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    underline: bool = False
    link: str = ""

    def same_format(self, other: "Run") -> bool:
        return (self.bold, self.italic, self.underline, self.link) == (
            other.bold, other.italic, other.underline, other.link)


def merge(runs: list[Run]) -> list[Run]:
    """Join neighbours with the same format; drop empty runs."""
    out: list[Run] = []
    for run in runs:
        if not run.text:
            continue
        if out and out[-1].same_format(run):
            out[-1] = replace(out[-1], text=out[-1].text + run.text)
        else:
            out.append(run)
    return out


def plain(runs: list[Run]) -> str:
    return "".join(r.text for r in runs)


def to_html(runs: list[Run]) -> str:
    """Runs -> inline HTML. Tags nest in a fixed order (a, b, i, u) so the markup stays well formed."""
    parts = []
    for run in merge(runs):
        text = html.escape(run.text, quote=False)
        if run.underline:
            text = f"<u>{text}</u>"
        if run.italic:
            text = f"<i>{text}</i>"
        if run.bold:
            text = f"<b>{text}</b>"
        if run.link:
            text = f'<a href="{html.escape(run.link, quote=True)}">{text}</a>'
        parts.append(text)
    return "".join(parts)


class _RunParser(HTMLParser):
    TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[Run] = []
        self.depth = {"bold": 0, "italic": 0, "underline": 0}
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.TAGS:
            self.depth[self.TAGS[tag]] += 1
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        elif tag == "br":
            self.handle_data("\n")

    def handle_endtag(self, tag):
        if tag in self.TAGS:
            key = self.TAGS[tag]
            self.depth[key] = max(0, self.depth[key] - 1)
        elif tag == "a" and self.links:
            self.links.pop()

    def handle_data(self, data):
        self.runs.append(Run(data, bold=self.depth["bold"] > 0, italic=self.depth["italic"] > 0,
                             underline=self.depth["underline"] > 0, link=self.links[-1] if self.links else ""))


def from_html(markup: str) -> list[Run]:
    """Inline HTML -> runs. Unknown tags are dropped, their text kept; unclosed tags end at the end."""
    parser = _RunParser()
    parser.feed(markup)
    parser.close()
    return merge(parser.runs)


_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def _tokens_with_format(runs: list[Run]) -> list[tuple[str, Run]]:
    """Split runs into word/space/punctuation tokens, each with its run's format."""
    out = []
    for run in runs:
        for token in _TOKEN.findall(run.text):
            out.append((token, run))
    return out


def reformat(old: list[Run], new_text: str) -> list[Run]:
    """Give plain `new_text` the formatting of `old` where words are kept.

    Unchanged words keep their own format; a replaced passage takes the format of the words it
    replaces (their first one); inserted words take the format of the word before them.
    """
    old_tokens = _tokens_with_format(merge(old))
    new_tokens = _TOKEN.findall(new_text)
    if not old_tokens:
        return merge([Run(new_text)])
    default = old_tokens[0][1]
    matcher = difflib.SequenceMatcher(a=[t for t, _ in old_tokens], b=new_tokens, autojunk=False)
    out: list[Run] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.extend(replace(old_tokens[a1 + k][1], text=new_tokens[b1 + k]) for k in range(b2 - b1))
            continue
        if op == "delete":
            continue
        if op == "replace":
            source = old_tokens[a1][1]
        else:  # insert
            source = old_tokens[a1 - 1][1] if a1 > 0 else default
        out.append(replace(source, text="".join(new_tokens[b1:b2])))
    return merge(out)


def changes(old: str, new: str) -> list[tuple[int, int, int, int]]:
    """The passages that differ, word by word: (old start, old end, new start, new end) in characters.

    Changes separated only by white space are joined, so that « a b » -> « x y » reads as one
    change to review, not two. In document order."""
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    old_at, new_at = _offsets(old_tokens), _offsets(new_tokens)
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    out: list[list[int]] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        span = [old_at[a1], old_at[a2], new_at[b1], new_at[b2]]
        if op == "equal":
            continue
        if out and out[-1][1] <= span[0] and not old[out[-1][1]:span[0]].strip() \
                and old[out[-1][1]:span[0]] == new[out[-1][3]:span[2]]:
            out[-1][1], out[-1][3] = span[1], span[3]
        else:
            out.append(span)
    return [tuple(span) for span in out]  # type: ignore[misc]


def _offsets(tokens: list[str]) -> list[int]:
    """Character offset of each token, and of the end."""
    at = [0]
    for token in tokens:
        at.append(at[-1] + len(token))
    return at


def slice_runs(runs: list[Run], start: int, end: int) -> list[Run]:
    """The runs covering characters [start, end) of plain(runs)."""
    out, at = [], 0
    for run in runs:
        lo, hi = max(start, at), min(end, at + len(run.text))
        if lo < hi:
            out.append(replace(run, text=run.text[lo - at:hi - at]))
        at += len(run.text)
    return out
