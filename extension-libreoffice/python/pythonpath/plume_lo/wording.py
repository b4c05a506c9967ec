"""What the clerk reads, made from the server's answers (pure Python, no UNO: tested in the venv).

The server decides; this only words it in French or German. The readability band, for one, is the
server's (`band` in every score, server/plume/language/readability.py): no threshold is kept here.
"""

from __future__ import annotations

from plume_lo import i18n

NOTHING_SAFE = "nothing-safe"  # the server's code for « aucune modification sûre » (rules, no model)


def first_scores(scores) -> dict:
    """The panel shows one line for the whole selection: the first paragraph's scores when several."""
    if isinstance(scores, list):
        scores = next((s for s in scores if s), None)
    return scores or {}


def band_name(language: str, scores: dict) -> str:
    """« difficile », « assez facile »…: the server's band in the clerk's words; empty without one."""
    band = scores.get("band")
    return i18n.text(language, f"band_{band}") if band else ""


def readability_line(language: str, before: dict, after: dict) -> str:
    """« Lisibilité : difficile → assez facile », in the words a secretary uses."""
    was, now = band_name(language, before), band_name(language, after)
    if not was:
        return ""
    if not now:
        return i18n.text(language, "readability_one", before=was)
    return i18n.text(language, "readability", before=was, after=now)


def _number(language: str, value) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "fr" else text


def indices_text(language: str, before: dict, after: dict) -> str:
    """The readability indices before → after, shown behind « détails »."""
    if not before:
        return ""
    values = {key: f"{_number(language, before.get(key))} → {_number(language, after.get(key))}"
              for key in ("kandel_moles", "lix", "rix", "words_per_sentence")}
    return i18n.text(language, "indices", **values)


def remarks_text(language: str, data: dict) -> str:
    """The plain-language remarks (what to rewrite herself) and the server's warnings, one a line."""
    lines = []
    for item in data.get("diagnostics") or []:
        if isinstance(item, str):
            lines.append("• " + item)
            continue
        line = str(item.get("message") or "")
        better = item.get("suggestion") or ""
        if better and better not in line:
            line += f" → {better}"
        if line:
            lines.append("• " + line)
    for warning in data.get("warnings") or []:
        lines.append("• " + str(warning.get("message") if isinstance(warning, dict) else warning))
    return i18n.text(language, "remarks") + "\n" + ("\n".join(lines) or i18n.text(language, "no_remarks"))


def nothing_safe_sentence(language: str, outcome) -> str:
    """The sentence that says nothing was changed: the server's French one, or this UI's own."""
    if outcome.get("nothing_safe"):
        return outcome["nothing_safe"] if language == "fr" else i18n.text(language, "warning_nothing-safe")
    return i18n.text(language, "plain_unchanged")


def reason_unavailable(language: str, info) -> str:
    """The server's one sentence on why a task or an action cannot run now, in the clerk's language."""
    reason = (info or {}).get("reason_de" if language == "de" else "reason")
    return reason or i18n.text(language, "unavailable")


def labelled(language: str, label: str, sentence: str) -> str:
    """« Traduire : … » in French (a space before the colon), « Übersetzen: … » in German."""
    return f"{label} : {sentence}" if language == "fr" else f"{label}: {sentence}"


def error_line(language: str, error: dict) -> str:
    """A proofreading error as the list shows it: « texte » : message."""
    return labelled(language, f"« {error.get('text', '')} »", str(error.get("message", "")))


def visible(suggestion: str) -> str:
    """A non-breaking space shown as such, so the clerk sees what the suggestion changes."""
    return suggestion.replace("\u00a0", "\u2423").replace("\u202f", "\u2423")



# -- search and transcription ---------------------------------------------------------------------------

HEADING_SEPARATOR = "›"  # the server's heading path, « Chapitre II › Art. 12 Montant »


def hit_line(language: str, number: int, hit: dict) -> str:
    """A hit as the list shows it: « 3. art. 11, p. 2 — Règlement … » (the place first, so that a long
    title cut by the list never hides it); outside articles, the heading it stands under."""
    heading = str(hit.get("heading") or "")
    place = hit.get("locator") or heading.split(HEADING_SEPARATOR)[-1].strip()
    page = i18n.text(language, "page", page=hit["page"]) if hit.get("page") else ""
    where = ", ".join(part for part in (place, page) if part)
    title = str(hit.get("title") or hit.get("document") or "")
    return f"{number}. {where} — {title}" if where else f"{number}. {title}"


def passage_text(hit: dict) -> str:
    """What the passage box shows of a hit: its full reference, the headings above it, then its text."""
    heading = str(hit.get("heading") or "")
    return "\n".join([str(hit.get("reference") or ""), *([heading] if heading else []), "", str(hit.get("text") or "")])


def answer_text(language: str, answer: dict) -> str:
    """The answer box: what « Insérer la réponse » writes (the answer and its sources); otherwise the
    server's message (passages only, nothing found) in the clerk's language, with the sources listed."""
    if answer.get("kind") == "answer":
        return str(answer.get("insert") or answer.get("answer") or "")
    message = str(answer.get("message_de" if language == "de" else "message") or answer.get("message") or "")
    sources = [str(s) for s in answer.get("sources") or []]
    return "\n".join([message, "", *sources]) if sources else message


def size_words(language: str, count: int) -> str:
    """« 586 ko », « 1 Go » (« 1 GB »): binary units, as the server words its own limits."""
    units = ("o", "ko", "Mo", "Go") if language == "fr" else ("B", "KB", "MB", "GB")
    value, unit = float(count), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',') if language == 'fr' else text} {units[unit]}"


def duration_words(seconds) -> str:
    """« 1 min 05 s », « 45 s »: how much of a recording was transcribed."""
    seconds = int(round(float(seconds or 0)))
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
