"""Plain-language rules that need no model: sentence diagnostics, safe jargon substitutions and
sentence splits at safe boundaries, each output checked against its input.

Thresholds per level (words per sentence): B1 flags sentences over 25 words, A2 over 15. A long
sentence is split only where both sides are whole clauses (a finite verb each, a subject on the
right, spaCy's parse): at « ; » and before « mais », « car », « donc », « or », « puis »,
« toutefois », « cependant » after a comma; A2 also before « , et ». A sentence is cut nearest its
middle, then each half again while over the limit, so A2 cuts more than B1. `simplify` keeps a change only when the result keeps every fact
(numbers, dates, amounts, names), reads no worse (Kandel-Moles) and has no new grammar error.
"""

from __future__ import annotations

import re
from functools import lru_cache

import msgspec

from plume.language.lexicon import Lexicon, Match
from plume.language.sentences import Span, sentences, words

LONG_SENTENCE = {"B1": 25, "A2": 15}

_NEGATION = re.compile(r"\b(?:ne|n['’])\s*(?:\S+\s+){0,3}?(?:pas|plus|jamais|guère|point)\b", re.IGNORECASE)
_SECOND_NEGATIVE = re.compile(
    r"\b(?:sans|non|aucune?|nulle?|rien|personne|jamais|impossible|inutile|interdite?s?|illégale?s?|"
    r"irrégulière?s?|incomplète?s?|inexacte?s?|défavorables?|invalides?|inadmissibles?|non-\w+)\b",
    re.IGNORECASE,
)
_ELIDED_BEFORE = re.compile(r"\b(?:[ldjnsctm]|qu|jusqu|lorsqu|puisqu)['’]$", re.IGNORECASE)
_ELIDABLE_WORD = re.compile(r"\b(?:le|la|de|que|ne|se|ce|je|me|te|si)\s+$", re.IGNORECASE)
_VOWEL_START = re.compile(r"^[aeiouyhàâäéèêëîïôöùûüœæ]", re.IGNORECASE)


class Diagnostic(msgspec.Struct, kw_only=True):
    sentence_index: int
    start: int  # character offsets in the submitted text (the sentence, or the jargon term)
    end: int
    kind: str  # long_sentence | jargon | passive | double_negation
    message: str
    suggestion: str = ""


class Substitution(msgspec.Struct, kw_only=True):
    start: int  # offsets in the submitted text
    end: int
    original: str  # the lexicon term as found (never more than the term); for a split, the boundary
    replacement: str
    kind: str = "word"  # "word" (jargon replaced) | "split" (a long sentence cut in two)


class Simplified(msgspec.Struct, kw_only=True):
    text: str
    changes: list[Substitution]
    warnings: list[str]
    checks: dict[str, bool]  # facts kept, readability not lower, no new grammar error (of the text returned)


def diagnose(text: str, level: str, lexicon: Lexicon, *, passives_by_sentence: list[int] | None = None) -> list[Diagnostic]:
    spans = sentences(text)
    limit = LONG_SENTENCE.get(level, LONG_SENTENCE["B1"])
    passives_by_sentence = passives_by_sentence if passives_by_sentence is not None else passive_counts(text, spans)
    found: list[Diagnostic] = []
    for index, span in enumerate(spans):
        n = len(words(span.text))
        if n > limit:
            found.append(Diagnostic(
                sentence_index=index, start=span.start, end=span.end, kind="long_sentence",
                message=f"Phrase de {n} mots (niveau {level} : {limit} mots au plus).",
                suggestion="Coupez-la en phrases courtes : une idée par phrase.",
            ))
        if passives_by_sentence[index]:
            found.append(Diagnostic(
                sentence_index=index, start=span.start, end=span.end, kind="passive",
                message="Tournure passive : on ne voit pas qui agit.",
                suggestion="Dites qui fait l'action : « la commune perçoit la taxe » plutôt que « la taxe est perçue ».",
            ))
        if double_negation(span.text):
            found.append(Diagnostic(
                sentence_index=index, start=span.start, end=span.end, kind="double_negation",
                message="Double négation : le lecteur doit inverser deux fois le sens.",
                suggestion="Dites-le à la forme affirmative.",
            ))
        for match in lexicon.find(span.text):
            term = span.text[match.start:match.end]
            found.append(Diagnostic(
                sentence_index=index, start=span.start + match.start, end=span.start + match.end, kind="jargon",
                message=f"« {term} » est du jargon administratif.",
                suggestion=match.term.simple,
            ))
    return sorted(found, key=lambda d: (d.sentence_index, d.start, d.kind))


def double_negation(sentence: str) -> bool:
    negation = _NEGATION.search(sentence)
    if not negation:
        return False
    # The second negative must sit close to the first (same clause): « n'est pas impossible ».
    near = sentence[max(0, negation.start() - 25):negation.start()] + " " + sentence[negation.end():negation.end() + 40]
    return bool(_SECOND_NEGATIVE.search(near) or _NEGATION.search(sentence[negation.end():negation.end() + 40]))


def passive_counts(text: str, spans: list[Span]) -> list[int]:
    """Passive auxiliaries (spaCy dependency aux:pass) per sentence."""
    from plume.language.nlp import parse

    counts = [0] * len(spans)
    for token in parse(text):
        if token.dep_ == "aux:pass":
            for i, span in enumerate(spans):
                if span.start <= token.idx < span.end:
                    counts[i] += 1
                    break
    return counts


def substitute(text: str, lexicon: Lexicon) -> tuple[str, list[Substitution]]:
    """Replace the jargon marked `auto` where the swap cannot break grammar (case kept, whole words):
    elision, contraction and prepositions are checked around each swap (`grammar_errors`)."""
    out, done, cursor = [], [], 0
    for match in lexicon.find(text):
        if not match.term.auto or not _safe(text, match):
            continue
        original = text[match.start:match.end]
        replacement = keep_case(original, match.term.simple)
        if _breaks_grammar(text, match.start, match.end, replacement):
            continue
        out += [text[cursor:match.start], replacement]
        done.append(Substitution(start=match.start, end=match.end, original=original, replacement=replacement))
        cursor = match.end
    out.append(text[cursor:])
    return "".join(out), done


# -- grammar guard -------------------------------------------------------------------------------------------
# What a word swap or a sentence split can break in French, as patterns. A change is kept only when the
# text around it has no more of these than before: the guard never judges the author's own sentences.
_VOWEL_WORD = r"(?!(?:à|où|ou|onze|oui|un|une|y)\b)[aeiouéèêëàâîïôûœ]\w*"
GRAMMAR_PATTERNS = {
    # « avant au dépôt », « selon aux règles », « pour à » : a preposition before à/au/aux
    "préposition suivie de « à »": re.compile(
        r"\b(?:avant|après|pour|selon|malgré|sans|contre|par|vu|dès|sauf|sur|chez|vers|envers|de|à|en)\s+(?:à|au|aux)\b",
        re.IGNORECASE),
    # « de attribution », « ce article », « le accueil »: an elision is missing
    "élision manquante": re.compile(rf"\b(?:le|la|de|que|ne|se|ce|je|me|te)\s+{_VOWEL_WORD}"),
    # « au accueil », « du accueil »: « à l'», « de l'»
    "contraction devant voyelle": re.compile(rf"\b(?:au|du)\s+{_VOWEL_WORD}"),
    # « l'frais »: an elision before a consonant
    "élision devant consonne": re.compile(r"\b(?:[ldjnmtsc]|qu)['’][bcdfgjklmnpqrstvwxzç]", re.IGNORECASE),
    # « pour pour », « de de »
    "mot répété": re.compile(r"\b(?!(?:nous|vous)\b)(\w+)\s+\1\b", re.IGNORECASE),
}


def grammar_errors(text: str) -> dict[str, int]:
    return {name: len(pattern.findall(text)) for name, pattern in GRAMMAR_PATTERNS.items()
            if pattern.search(text)}


def new_grammar_errors(before: str, after: str) -> list[str]:
    """The kinds of error `after` has more of than `before`."""
    old, new = grammar_errors(before), grammar_errors(after)
    return [name for name, count in new.items() if count > old.get(name, 0)]


def _breaks_grammar(text: str, start: int, end: int, replacement: str) -> bool:
    window_start, window_end = max(0, start - 40), min(len(text), end + 40)
    before = text[window_start:window_end]
    after = text[window_start:start] + replacement + text[end:window_end]
    return bool(new_grammar_errors(before, after))


def _safe(text: str, match: Match) -> bool:
    before, after = text[:match.start], text[match.end:]
    simple = match.term.simple
    if _ELIDED_BEFORE.search(before) and not _VOWEL_START.match(simple):
        return False  # « l'émolument » → « l'frais »
    if _ELIDABLE_WORD.search(before) and _VOWEL_START.match(simple):
        return False  # « de requête » → « de attribution »
    last = simple.split()[-1].lower()
    if last in {"le", "la", "de", "que", "ce", "ne", "se"} and _VOWEL_START.match(after.lstrip()):
        return False  # « dudit article » → « de ce article »
    return True


def keep_case(original: str, replacement: str) -> str:
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


# -- sentence splits ---------------------------------------------------------------------------------------------

CONNECTORS = {"mais": "Mais", "car": "En effet,", "donc": "Donc", "or": "Or", "puis": "Ensuite,",
              "toutefois": "Toutefois,", "cependant": "Cependant,"}
CONNECTORS_A2 = {**CONNECTORS, "et": ""}
_BOUNDARY = re.compile(r"\s*;\s+|,\s+(mais|car|donc|or|puis|toutefois|cependant|et)\s+(?=\w)", re.IGNORECASE)
MIN_CLAUSE_WORDS = 4
_SUBJECTS = {"nsubj", "nsubj:pass", "expl:subj", "expl", "expl:pass"}


def is_clause(piece: str, *, subject: bool) -> bool:
    """A whole clause: enough words, a finite verb, and (for the right side) its own subject or an
    imperative — so « ; le délai court dès… » splits, « ; notamment les frais » does not."""
    if len(words(piece)) < MIN_CLAUSE_WORDS or not _balanced(piece):
        return False
    finite, has_subject, imperative = _clause_parts(piece)
    if not subject:
        # The left side begins the author's own sentence: a finite verb or a subject is enough (the small
        # model sometimes tags a verb such as « ferme » as an adjective).
        return finite or has_subject
    return finite and (has_subject or imperative)


@lru_cache(maxsize=256)
def _clause_parts(piece: str) -> tuple[bool, bool, bool]:
    """(has a finite verb, has a subject, has an imperative), from spaCy's parse of the piece alone."""
    from plume.language.nlp import french

    doc = french()(piece)
    finite = [t for t in doc if "Fin" in t.morph.get("VerbForm") and t.pos_ in {"VERB", "AUX"}]
    return (bool(finite), any(t.dep_ in _SUBJECTS for t in doc),
            any("Imp" in t.morph.get("Mood") for t in finite))


def _balanced(piece: str) -> bool:
    return piece.count("(") == piece.count(")") and piece.count("«") == piece.count("»") and piece.count('"') % 2 == 0


def splits(text: str, level: str) -> list[Substitution]:
    """Where each sentence over the level's limit can be cut safely, as changes to `text`. A sentence
    is cut at its safe boundary nearest the middle, then each half again while it is over the limit:
    A2 (15 words) cuts more than B1 (25)."""
    limit = LONG_SENTENCE.get(level, LONG_SENTENCE["B1"])
    connectors = CONNECTORS_A2 if level == "A2" else CONNECTORS
    found: list[Substitution] = []
    for span in sentences(text):
        found += [msgspec.structs.replace(c, start=c.start + span.start, end=c.end + span.start)
                  for c in _cut(span.text, 0, len(span.text), limit, connectors)]
    return found


def _cut(sentence: str, start: int, end: int, limit: int, connectors: dict[str, str]) -> list[Substitution]:
    if len(words(sentence[start:end])) <= limit:
        return []
    best = None
    for m in _BOUNDARY.finditer(sentence, start, end):
        word = (m.group(1) or "").lower()
        if m.group(1) and word not in connectors:
            continue
        left, right = sentence[start:m.start()], sentence[m.end():end]
        balance = max(len(words(left)), len(words(right)))
        if (best is None or balance < best[0]) and is_clause(left, subject=False) and is_clause(right, subject=True):
            best = (balance, m, word)
    if best is None:
        return []
    _, m, word = best
    lead, first = connectors.get(word, ""), sentence[m.end()]
    cut = Substitution(start=m.start(), end=m.end() + 1, original=sentence[m.start():m.end() + 1],
                       replacement=". " + (f"{lead} {first}" if lead else first.upper()), kind="split")
    return (_cut(sentence, start, m.start(), limit, connectors) + [cut]
            + _cut(sentence, m.end(), end, limit, connectors))


def apply(text: str, changes: list[Substitution]) -> str:
    out, cursor = [], 0
    for change in sorted(changes, key=lambda c: c.start):
        out += [text[cursor:change.start], change.replacement]
        cursor = change.end
    out.append(text[cursor:])
    return "".join(out)


def check(before: str, after: str) -> dict[str, bool]:
    """The three promises of the rules, for `after` against `before`."""
    from plume.language import facts, grammar
    from plume.language.readability import measure

    return {
        "facts": not facts.missing(before, after),
        "readability": measure(after, grammar=False).kandel_moles >= measure(before, grammar=False).kandel_moles,
        "grammar": not new_grammar_errors(before, after) and not grammar.new_errors(before, after),
    }


NOTHING_SAFE = ("Sans modèle, Plume n'a trouvé aucune modification sûre pour ce texte : il est rendu tel quel. "
                "Les remarques indiquent quoi reformuler.")
CHECK_NAMES = {"facts": "un chiffre, une date, un montant ou un nom aurait changé",
               "readability": "le texte serait devenu moins lisible", "grammar": "une faute de grammaire serait apparue"}


def simplify(text: str, level: str, lexicon: Lexicon) -> Simplified:
    """Word swaps and sentence splits, kept only if the result passes `check`; else fewer changes, else none."""
    _, words_changed = substitute(text, lexicon)
    cuts = [c for c in splits(text, level) if not any(w.start < c.end and c.start < w.end for w in words_changed)]
    refused: set[str] = set()
    for changes in _attempts(words_changed, cuts):
        candidate = apply(text, changes)
        checks = check(text, candidate)
        if all(checks.values()):
            return Simplified(text=candidate, changes=sorted(changes, key=lambda c: c.start),
                              warnings=_left_long(candidate, level), checks=checks)
        refused |= {name for name, ok in checks.items() if not ok}
    warnings = [NOTHING_SAFE]
    if refused:
        warnings.append("Changements écartés : " + " ; ".join(CHECK_NAMES[n] for n in sorted(refused)) + ".")
    return Simplified(text=text, changes=[], warnings=warnings + _left_long(text, level),
                      checks={"facts": True, "readability": True, "grammar": True})


def _attempts(words_changed: list[Substitution], cuts: list[Substitution]) -> list[list[Substitution]]:
    tries = [words_changed + cuts, cuts, words_changed]
    return [t for i, t in enumerate(tries) if t and t not in tries[:i]]


def _left_long(text: str, level: str) -> list[str]:
    limit = LONG_SENTENCE.get(level, LONG_SENTENCE["B1"])
    n = sum(1 for span in sentences(text) if len(words(span.text)) > limit)
    if not n:
        return []
    which = "Une phrase reste" if n == 1 else f"{n} phrases restent"
    return [f"{which} trop longue{'s' if n > 1 else ''} pour le niveau {level} : sans modèle, aucune coupure sûre "
            "n'a été trouvée. Coupez-la vous-même (voir les remarques)." if n == 1 else
            f"{which} trop longues pour le niveau {level} : sans modèle, aucune coupure sûre n'a été trouvée. "
            "Coupez-les vous-même (voir les remarques)."]
