"""Apertium, the rule-based translator (Debian packages `apertium`, `apertium-fr-es`), run as a
subprocess: the no-model default for the language pairs it has installed.

`-f html` makes Apertium keep inline HTML tags around the words they wrap.

What a letter must not get from Apertium, and how it is avoided:
- analyser marks: `*mot` (unknown word), `#mot` or `#<prn>` (a form Apertium could not generate),
  `@mot` (no transfer). Apertium runs without `-u` so the unknown words can be listed in a warning;
  then every mark is removed, unknown words are kept as written, and a bare tag such as `<prn>` is
  dropped. Literal `*`, `#`, `@` in the text are protected first, so every mark left is Apertium's.
- abbreviations, legal references, amounts and identifiers translated as words (« Art. 3 » →
  « Arte. 3 »): each such token is replaced by a placeholder that Apertium keeps as an unknown word,
  in its place in the sentence, and put back afterwards.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache

TIMEOUT_S = 60

# Tokens that must come out exactly as they went in.
_PROTECTED = re.compile(
    r"(?P<entity>&#?\w+;)"  # an HTML entity (format "html") is Apertium's business, not a mark
    r"|(?P<keep>"
    r"https?://\S+[^\s.,;:!?)»]|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # links and e-mail addresses
    r"|\b(?:[Aa]rts?|al|ch|chap|lit|cf|vol|[Nn]o|RS|RSN|p|pp)\.?\s?\d+[a-z]?(?:\s?(?:bis|ter|quater)\b)?"  # Art. 3, al. 2
    r"|\b[Ll]et\.\s?[a-z]\b|\b[Nn]°\s?\d+"  # let. a, n° 12
    r"|\b(?:CHF|Fr\.|EUR)\s?\d[\d'’]*(?:[.,]\d+|\.[–—-]+)?|\d[\d'’]*(?:[.,]\d+)?\.[–—-]+"  # CHF 1'234.50, 100.–
    r"|\b\d+(?:['’.,/]\d+)+\b"  # 1'234, 12.03.2026, 2026/123
    r"|\b[a-z]?[A-Z]{2,}[A-Za-z]*\d*\b(?:/[A-Z]{2,}\b)?"  # LCdF, AVS/AI, nLPD
    r"|\b(?i:réf|p\.\s?ex|etc|env|resp|tél)\."  # abbreviations Apertium does not know
    r"|[*#@]"  # literal marks: any left in the output are then Apertium's
    r")"
)
_PLACEHOLDER = "Plmq{}x"  # a word no dictionary has: Apertium keeps it, in place, as an unknown word
_PLACEHOLDERS = re.compile(r"Plmq(\d+)x")
# A bare analysis tag: « #<prn> » (text), « \<prn\> » (html). Literal « <…> » in plain text is protected
# beforehand, and real HTML tags are never escaped, so neither is touched.
_TAG_LEFT = {False: re.compile(r"[ \t]?[#@]?<[a-z0-9_]+>"), True: re.compile(r"[ \t]?[#@]?\\<[a-z0-9_]+\\>")}
_LITERAL_ANGLE = re.compile(r"<[^<>\n]{0,60}>")
_MARK = re.compile(r"(?<![\w&])([*#@])(?=[^\W_])")


class ApertiumError(RuntimeError):
    """Apertium failed or took too long (message holds no user text)."""


@dataclass
class Translation:
    text: str
    unknown: list[str] = field(default_factory=list)  # words Apertium did not know, kept as written


@cache
def pairs() -> frozenset[tuple[str, str]]:
    """Installed pairs such as ("fr", "es"); empty when Apertium is absent."""
    if shutil.which("apertium") is None:
        return frozenset()
    try:
        listed = subprocess.run(["apertium", "-l"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    found = set()
    for line in listed.split():
        parts = line.strip().split("-")
        if len(parts) == 2 and all(len(p) in (2, 3) for p in parts):
            found.add((parts[0], parts[1]))
    return frozenset(found)


def has_pair(source: str, target: str) -> bool:
    return (source, target) in pairs()


def protect(text: str, *, html: bool = False) -> tuple[str, list[str]]:
    """(text with placeholders, the protected tokens in order). In HTML, tags are left alone. A text
    that already holds something like a placeholder is protected as a whole token too."""
    kept: list[str] = []
    text = _PLACEHOLDERS.sub(lambda m: _swap_token(m.group(0), kept), text)

    def swap(match: re.Match) -> str:
        if match.group("entity"):
            return match.group(0) if html else _swap_token(match.group(0), kept)
        return _swap_token(match.group(0), kept)

    if not html:
        text = _LITERAL_ANGLE.sub(lambda m: _swap_token(m.group(0), kept), text)
        return _PROTECTED.sub(swap, text), kept
    pieces = re.split(r"(<[^<>]*>)", text)
    return "".join(p if p.startswith("<") and p.endswith(">") else _PROTECTED.sub(swap, p) for p in pieces), kept


def _swap_token(token: str, kept: list[str]) -> str:
    kept.append(token)
    return _PLACEHOLDER.format(len(kept) - 1)


def clean(output: str, kept: list[str], *, html: bool = False) -> Translation:
    """Marks removed, unknown words listed, placeholders given back their tokens."""
    text = _TAG_LEFT[html].sub("", output)
    unknown = []
    for mark, word in re.findall(r"(?<![\w&])([*#@])([^\W_][\w'’-]*)", text):
        if mark == "*" and not _PLACEHOLDERS.fullmatch(word) and word not in unknown:
            unknown.append(word)
    text = _MARK.sub("", text)
    text = _PLACEHOLDERS.sub(lambda m: kept[int(m.group(1))] if int(m.group(1)) < len(kept) else m.group(0), text)
    return Translation(text=text, unknown=unknown)


def run(text: str, source: str, target: str, *, html: bool = False) -> Translation:
    protected, kept = protect(text, html=html)
    command = ["apertium", "-f", "html" if html else "txt", f"{source}-{target}"]
    try:
        done = subprocess.run(command, input=protected, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise ApertiumError("délai dépassé") from exc
    if done.returncode != 0:
        raise ApertiumError(f"code de sortie {done.returncode}")
    out = done.stdout.rstrip("\n") if not text.endswith("\n") else done.stdout
    result = clean(out, kept, html=html)
    if sorted(int(n) for n in _PLACEHOLDERS.findall(out)) != list(range(len(kept))):  # each one back, once
        raise ApertiumError("des références du texte ont été perdues")
    return result


def translate(text: str, source: str, target: str, *, html: bool = False) -> str:
    return run(text, source, target, html=html).text


def unknown_warning(words: list[str]) -> str | None:
    if not words:
        return None
    shown = ", ".join(f"« {w} »" for w in words[:15]) + (" …" if len(words) > 15 else "")
    return f"Mots inconnus du traducteur, laissés tels quels (à vérifier) : {shown}."
