"""French readability measures: Kandel-Moles, LIX, RIX, sentence length, rare words, passives and
nominalisations.

Definitions (reproducible by hand, see docs/writing-tasks.md):
- sentences and words: `plume.language.sentences`;
- syllables: groups of written vowels (a e i o u y and accented forms), a final mute « e »/« es »
  not counted when the word has another vowel group, at least one per word (numbers count one);
- Kandel-Moles = 207 − 1.015 × words/sentence − 73.6 × syllables/word (French Flesch; higher = easier);
- LIX = words/sentence + 100 × long words/words, RIX = long words/sentences (long = more than 6 letters);
- rare word: a word (elided article removed) whose wordfreq Zipf frequency in French is below
  RARE_ZIPF (3.0: fewer than about one use per million words);
- passives: passive auxiliaries found by spaCy (dependency aux:pass);
- nominalisations: nouns whose lemma has 7 letters or more and ends with a deverbal suffix
  (-tion, -sion, -ment, -ance, -ence, -age, -ure).
"""

from __future__ import annotations

import re
import threading

import msgspec

from plume.language.sentences import sentences, words

RARE_ZIPF = 3.0
LONG_WORD = 6
NOMINAL_SUFFIXES = ("tion", "sion", "ment", "ance", "ence", "age", "ure")
_VOWELS = re.compile(r"[aeiouyàâäéèêëîïôöùûüÿœæ]+")
_ELISION = re.compile(r"^(?:[a-z]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)


class Readability(msgspec.Struct, kw_only=True):
    kandel_moles: float
    lix: float
    rix: float
    words_per_sentence: float
    syllables_per_word: float
    rare_word_share: float
    passives: int
    nominalisations: int
    sentences: int
    words: int
    long_words: int
    band: str = "medium"  # the Kandel-Moles score in words: see BANDS


# Kandel-Moles in words a secretary uses, the Flesch scale's usual bands (the sidebars translate the code:
# « difficile », « assez facile »…). Lower bound of each band.
BANDS = ((80, "easy"), (70, "fairly-easy"), (60, "medium"), (50, "fairly-hard"), (30, "hard"))


def band(kandel_moles: float) -> str:
    """very-hard | hard | fairly-hard | medium | fairly-easy | easy."""
    return next((name for floor, name in BANDS if kandel_moles >= floor), "very-hard")


def syllables(word: str) -> int:
    total = 0
    for part in re.split(r"[-’']", word.lower()):
        groups = len(_VOWELS.findall(part))
        if groups > 1 and re.search(r"[^aeiouyàâäéèêëîïôöùûüÿœæ]es?$", part):
            groups -= 1  # mute final e: « règle » has one spoken... two written groups, one counted less
        total += groups
    return max(total, 1)


def letters(word: str) -> int:
    return sum(ch.isalpha() for ch in word)


def is_rare(word: str) -> bool:
    bare = _ELISION.sub("", word)
    if not bare.isalpha() or len(bare) < 2:
        return False
    return _zipf_frequency()(bare.lower(), "fr") < RARE_ZIPF


_frequencies_lock = threading.Lock()
_frequencies_loaded = False


def _zipf_frequency():
    """wordfreq's lookup, once its French list is in memory. wordfreq reads the list on first use
    (0.4 s, 30 MB) without a lock: sixteen first requests at once read it sixteen times (3.8 s)."""
    global _frequencies_loaded
    from wordfreq import zipf_frequency

    if not _frequencies_loaded:
        with _frequencies_lock:
            if not _frequencies_loaded:
                zipf_frequency("le", "fr")
                _frequencies_loaded = True
    return zipf_frequency


def warm_up() -> None:
    _zipf_frequency()


def grammar_counts(text: str) -> tuple[int, int]:
    """(passives, nominalisations) found by spaCy's French pipeline."""
    from plume.language.nlp import parse

    doc = parse(text)
    passives = sum(1 for t in doc if t.dep_ == "aux:pass")
    nominal = sum(
        1 for t in doc
        if t.pos_ == "NOUN" and len(t.lemma_) >= 7 and t.lemma_.lower().endswith(NOMINAL_SUFFIXES)
    )
    return passives, nominal


def measure(text: str, *, grammar: bool = True) -> Readability:
    spans = sentences(text)
    all_words = [w for s in spans for w in words(s.text)]
    n_sent, n_words = len(spans), len(all_words)
    if not n_words:
        return Readability(kandel_moles=0, lix=0, rix=0, words_per_sentence=0, syllables_per_word=0,
                           rare_word_share=0, passives=0, nominalisations=0, sentences=0, words=0, long_words=0)
    n_syll = sum(syllables(w) for w in all_words)
    n_long = sum(1 for w in all_words if letters(w) > LONG_WORD)
    n_rare = sum(1 for w in all_words if is_rare(w))
    wps, spw = n_words / n_sent, n_syll / n_words
    passives, nominal = grammar_counts(text) if grammar else (0, 0)
    score = round(207 - 1.015 * wps - 73.6 * spw, 1)
    return Readability(
        kandel_moles=score, band=band(score),
        lix=round(wps + 100 * n_long / n_words, 1),
        rix=round(n_long / n_sent, 2),
        words_per_sentence=round(wps, 1),
        syllables_per_word=round(spw, 2),
        rare_word_share=round(n_rare / n_words, 3),
        passives=passives,
        nominalisations=nominal,
        sentences=n_sent,
        words=n_words,
        long_words=n_long,
    )
