"""A procès-verbal written out: its text (the JSON answer's `text`), and the values of the
proces-verbal letter template, with each vote's participle agreed with what was voted."""

from __future__ import annotations

import re
from datetime import date

from plume.tasks.minutes.notes import UNNUMBERED, Minutes, Vote, heading, subject_of

FEMININE = {"motion", "proposition", "résolution", "demande", "modification", "initiative", "pétition",
            "interpellation", "question", "naturalisation", "convention", "révision", "dépense", "vente",
            "candidature", "nomination", "élection", "subvention", "taxe", "réponse"}


def agreed(result: str, subject: str | None) -> str:
    """« accepté » agreed with what was voted: « Motion … » → « acceptée », « Comptes 2025 » → « acceptés »."""
    feminine, plural = _gender_number(subject or "")
    return result + ("e" if feminine else "") + ("s" if plural else "")


def _gender_number(subject: str) -> tuple[bool, bool]:
    words = re.findall(r"[^\W\d_][\w'’-]*", subject)
    if not words:
        return False, False
    if words[0].lower() in {"pv", "procès-verbal"}:
        return False, False
    from plume.language.nlp import french

    noun = next((t for t in french()(subject) if t.pos_ in {"NOUN", "PROPN"}), None)
    first = words[0].lower()
    feminine = first in FEMININE or first.rstrip("s") in FEMININE
    plural = first.endswith(("s", "x")) and first.rstrip("sx") != first and first not in {"procès", "cas"}
    if noun is not None and noun.text.lower() == first:
        feminine = feminine or "Fem" in noun.morph.get("Gender")
        plural = "Plur" in noun.morph.get("Number") if noun.morph.get("Number") else plural
    return feminine, plural



def _long_date(iso: str | None) -> str | None:
    if not iso:
        return None
    try:
        from plume.documents.formatting import format_date_long

        return format_date_long(date.fromisoformat(iso))  # « 1er décembre 2026 »
    except ValueError:
        return iso


def _hour(t: str | None) -> str | None:
    return t.replace(":", " h ") if t else None


def vote_sentence(vote: Vote, subject: str | None = None) -> str:
    """« Acceptée par 29 oui, 6 non, 2 abstentions. », the participle agreed with `subject` (the item's title)."""
    if vote.unanimous and vote.yes is None:
        return f"{agreed(vote.result or 'accepté', subject).capitalize()} à l'unanimité."
    parts = [f"{vote.yes} oui" if vote.yes is not None else None,
             f"{vote.no} non" if vote.no is not None else None,
             f"{vote.abstentions} abstention{'s' if (vote.abstentions or 0) > 1 else ''}"
             if vote.abstentions is not None else None]
    counted = ", ".join(p for p in parts if p)
    result = agreed(vote.result, subject) if vote.result else "résultat"
    return f"{result.capitalize()} par {counted}."


def _next_meeting(minutes: Minutes) -> str:
    """The next meeting: a long date when it is one, else the words of the notes."""
    value = minutes.next_meeting or ""
    return (_long_date(value) or "") if re.match(r"^\d{4}-\d\d-\d\d$", value) else value


def minutes_text(minutes: Minutes) -> str:
    title = f"Séance du {minutes.body}" if minutes.body else "Séance"
    when = _long_date(minutes.date)
    lines = ["PROCÈS-VERBAL", f"{title}{' du ' + when if when else ''}", ""]
    for label, value in (("Lieu", minutes.place), ("Début", _hour(minutes.start_time)),
                         ("Présidence", minutes.chair), ("Secrétaire", minutes.secretary)):
        if value:
            lines.append(f"{label} : {value}")
    if minutes.present:
        lines.append(f"Présents : {', '.join(minutes.present)}")
    elif minutes.present_count is not None:
        total = f" sur {minutes.members_total}" if minutes.members_total else ""
        lines.append(f"Présents : {minutes.present_count} membres{total}")
    if minutes.excused:
        lines.append(f"Excusés : {', '.join(minutes.excused)}")
    if minutes.speakers and not minutes.present:
        lines.append(f"Interventions de : {', '.join(minutes.speakers)}")
    lines.append("")
    for item in minutes.items:
        lines.append(heading(item))
        if item.discussion:
            lines.append(f"   {item.discussion}")
        else:
            lines += [f"   – {note}" for note in item.notes]
        if item.vote:
            lines.append(f"   Décision : {vote_sentence(item.vote, subject_of(item))}")
        elif item.decision:
            lines.append(f"   Suite donnée : {item.decision}")
        lines.append("")
    if minutes.closing_time:
        lines.append(f"La séance est levée à {_hour(minutes.closing_time)}.")
    if minutes.next_meeting:
        lines.append(f"Prochaine séance : {_next_meeting(minutes)}.")
    return "\n".join(lines).rstrip() + "\n"


def template_values(minutes: Minutes) -> dict:
    """Values for templates/proces-verbal (see its template.toml)."""
    return {
        "organe": minutes.body or "",
        "date_seance": minutes.date,
        "heure_debut": _hour(minutes.start_time) or "",
        "lieu": minutes.place or "",
        "presidence": minutes.chair or "",
        "secretaire": minutes.secretary or "",
        "presents": ", ".join(minutes.present) if minutes.present else (
            f"{minutes.present_count} membres sur {minutes.members_total}" if minutes.present_count else ""),
        "excuses": minutes.excused,
        "points": [{"numero": str(i.number) if i.number != UNNUMBERED else "", "titre": i.title,
                    "discussion": i.discussion or "\n".join(f"– {n}" for n in i.notes),
                    "decision": vote_sentence(i.vote, subject_of(i)) if i.vote else (i.decision or "")} for i in minutes.items],
        "heure_fin": _hour(minutes.closing_time) or "",
        "prochaine_seance": _next_meeting(minutes),
    }
