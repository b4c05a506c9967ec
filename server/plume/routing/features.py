"""What of a mail the router looks at, and its sentence embedding.

The routing text is the subject and the mail's own words: quoted earlier messages, forwarded
headers, « Envoyé de mon iPhone », greetings, closings and signatures are cut, because they say
nothing of the service and cost embedding time (which grows with the text). The first MAX_CHARS
characters are kept: measured on the held-out set, the service is in the first lines (docs/triage.md).

Embeddings are computed once per distinct text during one learning (an in-memory cache keyed by the
text's hash, dropped at the end); nothing of the text is ever written anywhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from plume.inference.embeddings import Embedder
from plume.mail.parse import MailMessage

MAX_CHARS = 600
SHORT_PARAGRAPH_WORDS = 6  # « Bonjour, », « Meilleures salutations / Anne Perret »
BATCH = 64

REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|tr|wg|fw|fwd|r|i|sv|rif)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
# Where the mail's own words end: a quoted reply, a forwarded message, a phone's signature.
END_OF_OWN_WORDS = re.compile(
    r"^\s*(?:>|-{2,}\s*(?:original|message|ursprüngliche|messaggio|forwarded|weitergeleitete)|-- ?$"
    r"|(?:le|am|il giorno|on)\b.{0,120}(?:a écrit|schrieb|ha scritto|wrote)\s*:\s*$"
    r"|(?:de|von|da|from)\s*:\s.+$"
    r"|(?:envoyé de|envoyé depuis|von meinem|inviato da|sent from)\b)",
    re.I | re.M)


# A header the parser could not decode keeps its raw encoded-word; an undecodable byte becomes U+FFFD
# (and a lone surrogate, which the embedder's UTF-8 cannot carry).
UNREADABLE = re.compile(r"=\?[^?\s]*\?[qb]\?[^?\s]*(?:\?=)?|[\ufffd\x00-\x08\x0b-\x1f\ud800-\udfff]", re.I)
CONTENT_WORD = re.compile(r"[^\W\d_]{3,}")
MIN_WORDS = 4  # fewer words of text than this say nothing of a service (a broken message, « Bonjour »)


def routing_text(mail: MailMessage) -> str:
    """Subject + the mail's own words, at most MAX_CHARS characters, on one line."""
    subject = " ".join(UNREADABLE.sub(" ", REPLY_PREFIX.sub("", mail.subject or "")).split())
    body = UNREADABLE.sub(" ", mail.body or "")
    if end := END_OF_OWN_WORDS.search(body):
        body = body[:end.start()]
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body)]
    paragraphs = [p for p in paragraphs if p]
    long_ones = [p for p in paragraphs if len(p.split()) > SHORT_PARAGRAPH_WORDS]
    text = " ".join(filter(None, [subject, *(long_ones or paragraphs)]))
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS].rsplit(" ", 1)[0]
    return text


def enough_words(text: str) -> bool:
    return len(CONTENT_WORD.findall(text)) >= MIN_WORDS


def content_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()[:16]


class EmbeddingCache:
    """Texts → unit vectors; a text already seen in this learning is not embedded again.
    Lives in memory for one learning only."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._vectors: dict[bytes, np.ndarray] = {}
        self.embedded = 0  # distinct texts embedded (the cost), for the learning's figures

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        keys = [content_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        text_of = dict(zip(keys, texts))
        for start in range(0, len(missing), BATCH):
            batch = missing[start:start + BATCH]
            for key, vector in zip(batch, self.embedder.embed([text_of[k] for k in batch])):
                self._vectors[key] = vector
            self.embedded += len(batch)
        if not keys:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys])
