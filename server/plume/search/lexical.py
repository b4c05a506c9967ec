"""Lexical analysis for BM25: words → Snowball stems without accents, French or German.

Done here, in Python, for both stores (SQLite FTS5 and PostgreSQL), so that both index and find the
same terms: « chiens », « Chien » and « chienne » → « chien »; « délai », « delais » → « delai »;
« l'émolument » → « emolument ». The stemmer is PyStemmer (Snowball, the algorithm PostgreSQL's own
`french` configuration uses); stop words are spaCy's lists (already a dependency), so a question in
citizens' words is not matched on « est-ce que », « mon », « le ».
"""

from __future__ import annotations

import functools
import re
import unicodedata

WORD = re.compile(r"[^\W_]+", re.UNICODE)
ELISIONS = {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "lorsqu", "puisqu", "jusqu", "quoiqu"}
STEMMERS = {"fr": "french", "de": "german", "it": "italian", "en": "english"}
MAX_QUERY_TERMS = 64


@functools.cache
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(STEMMERS.get(language, "french"))


@functools.cache
def _stop_words(language: str) -> frozenset[str]:
    modules = {"fr": "spacy.lang.fr.stop_words", "de": "spacy.lang.de.stop_words",
               "it": "spacy.lang.it.stop_words", "en": "spacy.lang.en.stop_words"}
    import importlib

    words = importlib.import_module(modules.get(language, modules["fr"])).STOP_WORDS
    return frozenset(fold(w) for w in words)


def fold(word: str) -> str:
    """Lower case without accents (« Émolument » → « emolument »); ß and œ spelled out."""
    word = word.casefold().replace("œ", "oe").replace("æ", "ae")
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Words of `text`, elisions removed (« l'article » → « article », « qu'un » → « un »)."""
    # WORD splits at apostrophes already; what remains of an elision is dropped.
    return [w for w in WORD.findall(text) if w.casefold() not in ELISIONS]


def terms(text: str, language: str = "fr", drop_stop_words: bool = False) -> list[str]:
    """Stems of `text`, folded, in order (numbers kept as they are: « 12 », « 2024 »)."""
    stop = _stop_words(language) if drop_stop_words else frozenset()
    kept = [w for w in words(text) if not (stop and fold(w) in stop)]
    lowered = [w.casefold() for w in kept]
    return [fold(stem) for stem in _stemmer(language).stemWords(lowered)]


def document_terms(text: str, language: str = "fr") -> str:
    """What the lexical index stores for a passage: its stems, space-separated."""
    return " ".join(terms(text, language))


def query_terms(text: str, language: str = "fr") -> list[str]:
    """Distinct stems of a question, without stop words, at most MAX_QUERY_TERMS."""
    unique = list(dict.fromkeys(t for t in terms(text, language, drop_stop_words=True) if t))
    return unique[:MAX_QUERY_TERMS]
