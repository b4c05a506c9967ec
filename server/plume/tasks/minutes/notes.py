"""Meeting notes or a timestamped transcript read by rules into the structure of a procès-verbal:
header (body, date, start time, place, chair, secretary, present, excused), agenda points with their
numbering, votes (yes / no / abstentions, unanimity), "divers", closing time and next meeting.
"""

from __future__ import annotations

import itertools
import re
from datetime import date

import msgspec

from plume.tasks.facts import NUMBER_WORD, find_dates, find_times, number_from_words, spoken_time


class Vote(msgspec.Struct, kw_only=True):
    yes: int | None = None
    no: int | None = None
    abstentions: int | None = None
    unanimous: bool = False
    result: str | None = None  # "accepté" | "refusé"


class AgendaItem(msgspec.Struct, kw_only=True):
    number: int
    title: str
    notes: list[str] = []
    decision: str | None = None
    vote: Vote | None = None
    discussion: str | None = None  # indirect speech, written by a model


class Minutes(msgspec.Struct, kw_only=True):
    body: str | None = None
    date: str | None = None
    start_time: str | None = None
    place: str | None = None
    chair: str | None = None
    secretary: str | None = None
    present: list[str] = []
    present_count: int | None = None
    members_total: int | None = None
    excused: list[str] = []
    speakers: list[str] = []
    items: list[AgendaItem] = []
    closing_time: str | None = None
    next_meeting: str | None = None


# ------------------------------------------------------------------------------------- header
LABELS = {
    "chair": r"Présidence|Président(?:e)?|Préside",
    "secretary": r"Secrétaire|Procès-verbal|PV tenu par",
    "present": r"Présent(?:e)?s",
    "excused": r"Excusé(?:e)?s|Absent(?:e)?s excusé(?:e)?s",
    "place": r"Lieu",
}
LABEL = re.compile(r"(?P<label>" + "|".join(f"(?P<{k}>{v})" for k, v in LABELS.items()) + r")\s*:?\s*", re.IGNORECASE)
ITEM = re.compile(r"^\s*(?P<num>\d{1,2})\s*[.)]\s+(?P<rest>.+)$")
BULLET = re.compile(r"^\s*[-–•*]\s+(?P<text>.+)$")
VOTE_COUNTS = {
    "yes": re.compile(rf"(?:(?P<n>\d+|{NUMBER_WORD})\s*(?:oui|pour)\b|\boui\s*:\s*(?P<m>\d+|{NUMBER_WORD}))", re.I),
    "no": re.compile(rf"(?:(?P<n>\d+|{NUMBER_WORD})\s*(?:non|contre)\b|\bnon\s*:\s*(?P<m>\d+|{NUMBER_WORD}))", re.I),
    "abstentions": re.compile(rf"(?:(?P<n>\d+|{NUMBER_WORD})\s*abst\w*|\babstentions?\s*:\s*(?P<m>\d+|{NUMBER_WORD}))",
                              re.I),
}
CLOSING = re.compile(r"(?:\bfin\b|séance levée|clôture|levée de la séance)[^\d\n]{0,20}(?P<t>\d{1,2}\s*[h:]\s*\d{0,2})",
                     re.I)
SPOKEN_CLOSING = re.compile(r"séance (?:est )?levée|lève la séance|clôture de la séance|clos la séance", re.I)
NEXT = re.compile(r"prochaine séance[^\d\n]{0,20}(?P<rest>.{0,40})", re.I)
TIMESTAMP = re.compile(r"^\s*\[(?P<ts>\d{1,2}:\d{2}(?::\d{2})?)\]\s*(?P<who>[^:]{1,60}?)\s*:\s*(?P<text>.*)$")
ORDINAL_POINT = re.compile(r"\b(?P<ord>premier|deuxième|second|troisième|quatrième|cinquième|sixième|septième|"
                           r"huitième|neuvième|dixième|dernier)\s+point\b[\s,:]*"
                           r"(?:de\s+l['’]ordre\s+du\s+jour\b[\s,:]*)?(?P<title>[^.?!]*)", re.I)
ORDINALS = {"premier": 1, "deuxième": 2, "second": 2, "troisième": 3, "quatrième": 4, "cinquième": 5, "sixième": 6,
            "septième": 7, "huitième": 8, "neuvième": 9, "dixième": 10}


# Fillers of speech that have no place in minutes (« euh », « hein »).
FILLER = re.compile(r"(?:(?<=,)\s*(?:euh|heu|hum|bah|ben|hein)\s*,|\b(?:euh|heu|hum|bah|hein)\b\s*,?)\s*", re.I)
ROLE_ONLY = re.compile(r"^(?:(?:le|la|M\.|Mme)\s+)?(?:président|présidente|vice-président|vice-présidente|"
                       r"secrétaire)$", re.I)
VOTED_SUBJECT = re.compile(r"\b(?:le|la|les|l['’])\s*(?P<what>[\w'’-]+(?:\s+[\w'’-]+){0,3}?)\s+(?:est|sont)\s+"
                           r"(?:accepté|acceptée|acceptés|acceptées|adopté|adoptée|adoptés|adoptées|refusé|refusée|"
                           r"refusés|refusées|rejeté|rejetée|rejetés|rejetées)\b", re.I)


def without_fillers(text: str) -> str:
    return re.sub(r"\s{2,}", " ", FILLER.sub(" ", text)).strip()



def _count(pattern: re.Pattern, text: str) -> int | None:
    m = pattern.search(text)
    return number_from_words(m["n"] or m["m"]) if m else None


def read_vote(text: str) -> Vote | None:
    counts = {key: _count(p, text) for key, p in VOTE_COUNTS.items()}
    unanimous = bool(re.search(r"\bunanimit|\bà l'unanimité|einstimmig", text, re.I))
    if not unanimous and counts["yes"] is None:
        return None
    result = None
    if re.search(r"\b(?:accepté|acceptée|adopté|adoptée|approuvé|approuvée)\b", text, re.I):
        result = "accepté"
    elif re.search(r"\b(?:refusé|refusée|rejeté|rejetée)\b", text, re.I):
        result = "refusé"
    elif counts["yes"] is not None and counts["no"] is not None:
        result = "accepté" if counts["yes"] > counts["no"] else "refusé"
    elif unanimous:
        result = "accepté"
    return Vote(yes=counts["yes"], no=counts["no"], abstentions=counts["abstentions"], unanimous=unanimous,
                result=result)


def _header(lines: list[str], minutes: Minutes, reference: date) -> set[int]:
    """Reads the title line and the « Présidence: … » lines into `minutes`; returns the indices of
    the lines it took whole (the notes leave them out)."""
    taken: set[int] = set()
    # The title line (« Séance Conseil général 16.11.2026, 19h30… »); a first note is not one.
    first = lines[0] if lines and not _is_note(lines[0]) else ""
    dates = find_dates(first, reference)
    if dates:
        taken.add(0)
        minutes.date = dates[0].value.isoformat()
        m = re.search(r"(?:séance|réunion|sitzung)\s+(?:du\s+|de\s+la\s+|de\s+l['’])?(?P<body>[^\d,]+?)\s*(?:du\s*)?$",
                      first[:dates[0].start], re.I)
        if m:
            minutes.body = m["body"].strip()
        times = find_times(first[dates[0].end:])
        if times:
            minutes.start_time = times[0].value
            place = first[dates[0].end + times[0].end:].strip(" ,.-")
            minutes.place = place or None
    for index, line in enumerate(lines[:6]):
        matches = list(LABEL.finditer(line))
        for i, m in enumerate(matches):
            value = line[m.end(): matches[i + 1].start() if i + 1 < len(matches) else len(line)].strip(" .;")
            key = next(k for k in LABELS if m[k])
            _header_value(minutes, key, value)
        if LABEL.match(line.strip()) and not _is_note(line):
            taken.add(index)
    return taken


def _is_note(line: str) -> bool:
    return bool(ITEM.match(line) or BULLET.match(line))


def _header_value(minutes: Minutes, key: str, value: str) -> None:
    if key == "present":
        if m := re.match(r"(\d+)\s*(?:/|sur)\s*(\d+)", value):
            minutes.present_count, minutes.members_total = int(m[1]), int(m[2])
        else:
            minutes.present = _names(value)
            minutes.present_count = len(minutes.present) or None
    elif key == "excused":
        minutes.excused = _names(value)
    elif key in ("chair", "secretary", "place"):
        setattr(minutes, key, value or None)


def _names(value: str) -> list[str]:
    return [n.strip(" .") for n in re.split(r",|;|\bet\b", value) if n.strip(" .")]


# ------------------------------------------------------------------------------------ notes
def read_notes(text: str, reference: date | None = None) -> Minutes:
    """Structured notes ('1. …', '- …', 'vote: 31 oui, 4 non, 2 abst.') or a '[hh:mm:ss] Speaker: …' transcript."""
    reference = reference or date.today()
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if sum(bool(TIMESTAMP.match(line)) for line in lines) >= max(2, len(lines) // 2):
        minutes = Minutes()  # the title line above a transcript (« Séance du 16 novembre… ») still counts
        _header(list(itertools.takewhile(lambda line: not TIMESTAMP.match(line), lines)), minutes, reference)
        return read_transcript(lines, minutes)
    minutes = Minutes()
    read_by_header = _header(lines, minutes, reference)
    current: AgendaItem | None = None
    for index, line in enumerate(lines):
        closing = _tail(line, minutes, reference)
        if m := ITEM.match(line):
            title, _, decision = m["rest"].partition("->")
            notes = []
            if ":" in title and re.match(r"\s*divers", title, re.I):  # "4. Divers: X signale … -> suite"
                title, _, note = title.partition(":")
                notes = [note.strip()]
            current = AgendaItem(number=int(m["num"]), title=title.strip(" :"), notes=notes,
                                 decision=decision.strip() or None)
            current.vote = read_vote(decision) if decision else None
            minutes.items.append(current)
        elif (m := BULLET.match(line)) or (index not in read_by_header and not closing):
            # A note: under its point, or, before the first numbered point (notes with no agenda
            # numbers at all), under an unnumbered one. Nothing the clerk wrote is dropped.
            if current is None:
                current = AgendaItem(number=UNNUMBERED, title="Notes de séance")
                minutes.items.append(current)
            note = (m["text"] if m else line).strip()
            announced = re.match(r"vote\b|votation|scrutin", note, re.I)
            if announced or (read_vote(note) and "oui" in note.lower()):
                current.vote = read_vote(note)
                current.decision = note.split(":", 1)[-1].strip()
            if not announced:  # « M. X propose d'accepter : 31 oui » says more than the count
                current.notes.append(without_fillers(note))
    for item in minutes.items:
        if item.number == UNNUMBERED and len(minutes.items) > 1:
            item.title = "Avant l'ordre du jour"
    return minutes


UNNUMBERED = 0  # notes before any numbered point: shown without a number


def subject_of(item: AgendaItem) -> str | None:
    """What a vote decided: the point's title; unknown for notes under no point."""
    return item.title if item.number != UNNUMBERED else None


def heading(item: AgendaItem) -> str:
    """« 2. Crédit … », or the title alone for notes under no numbered point."""
    return f"{item.number}. {item.title}" if item.number != UNNUMBERED else item.title


def _tail(line: str, minutes: Minutes, reference: date) -> bool:
    """Reads the closing time and the next meeting from `line`; True when it holds either."""
    closing, following = CLOSING.search(line), NEXT.search(line)
    if closing:
        times = find_times(closing["t"])
        minutes.closing_time = times[0].value if times else minutes.closing_time
    if following:
        dates = find_dates(following["rest"], reference)
        minutes.next_meeting = dates[0].value.isoformat() if dates else following["rest"].strip(" .") or None
    return bool(closing or following)


def read_transcript(lines: list[str], minutes: Minutes | None = None) -> Minutes:
    """Turns « [hh:mm:ss] Qui : ce qui est dit » into the agenda points they announce. The opening
    words before the first point (greetings, quorum) are left to the heading; a transcript in which
    no point is recognised (a recording, where « Deuxième point » may come out garbled) keeps every
    turn under an unnumbered « Notes de séance »: nothing said is dropped."""
    minutes = minutes or Minutes()
    current: AgendaItem | None = None
    opening: list[str] = []
    for line in lines:
        m = TIMESTAMP.match(line)
        if not m:
            if current is not None and current.notes:  # a long turn wrapped onto the next line
                current.notes[-1] += " " + without_fillers(line.strip())
            continue
        who, said = m["who"].strip(), m["text"].strip()
        if who not in minutes.speakers:
            minutes.speakers.append(who)
        if re.match(r"président", who, re.I) and minutes.chair is None and not ROLE_ONLY.match(who):
            minutes.chair = who  # a name; « Présidente » alone says nothing the heading does not
        if minutes.start_time is None and (t := spoken_time(said) or _first_time(said)):
            minutes.start_time = t
        if point := ORDINAL_POINT.search(said):
            number = ORDINALS.get(point["ord"].lower(), len(minutes.items) + 1)
            title = point["title"].strip(" ,")
            current = AgendaItem(number=number, title=title[:1].upper() + title[1:] if title else f"Point {number}")
            minutes.items.append(current)
        elif current is None and not minutes.items:
            opening.append(f"{who} : {without_fillers(said)}")  # before the first point (quorum, greetings)
            _closing(minutes, said)
            continue
        elif current is None or current.vote is not None:
            number = (minutes.items[-1].number if minutes.items else 0) + 1
            current = AgendaItem(number=number, title=f"Point {number}")
            minutes.items.append(current)
        vote = read_vote(said) if re.search(r"vote|unanimit|oui\s*:|accept|adopt|refus", said, re.I) else None
        if vote:
            current.vote, current.decision = vote, said
            if (subject := VOTED_SUBJECT.search(said)) and re.fullmatch(r"Point \d+", current.title):
                what = subject["what"]  # « Le crédit est accepté » says what the point was about
                current.title = what[:1].upper() + what[1:]
        else:
            current.notes.append(f"{who} : {without_fillers(said)}")
        _closing(minutes, said)
    if not minutes.items and opening:
        minutes.items.append(AgendaItem(number=UNNUMBERED, title="Notes de séance", notes=opening))
    return minutes


def _closing(minutes: Minutes, said: str) -> None:
    """« La séance est levée à 21 h 15 », or spoken: « … levée à vingt et une heures quinze »."""
    if m := CLOSING.search(said):
        times = find_times(m["t"])
        minutes.closing_time = times[0].value if times else None
    elif SPOKEN_CLOSING.search(said) and (spoken := spoken_time(said)):
        minutes.closing_time = spoken


def _first_time(text: str) -> str | None:
    times = find_times(text)
    return times[0].value if times else None
