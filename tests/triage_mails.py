"""A commune's sorted mailbox, generated: e-mails in French, German and Italian, each in its service's
folder, for `plume triage learn` in the tests and the bench (tests/data/triage/phrases.toml holds the
phrases; a fixed seed makes the same mailbox every time).

Each mail mixes a scenario of its service (several subjects and bodies per language) with what real
mail carries: greetings and closings of every register, an opener, a filler, sometimes a sentence
about another service's business, a signature, « Envoyé de mon iPhone », a quoted earlier reply, a
reply prefix or a subject that says nothing. The held-out set (tests/data/triage/heldout/) is
written by hand in other words and is never generated here.

    .venv/bin/python -m tests.triage_mails OUT [--count 400] [--seed 23]   # one Maildir per service
"""

from __future__ import annotations

import argparse
import mailbox
import random
import tomllib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

PHRASES = Path(__file__).parent / "data" / "triage" / "phrases.toml"
LANGUAGES = {"fr": 0.5, "de": 0.25, "it": 0.25}
SERVICE_WEIGHT = {"informatique": 0.3}  # the others 1: the IT desk gets few mails from outside

FIRST = ["Anne", "Luc", "Sophie", "Marco", "Giulia", "Hans", "Ursula", "Fatima", "Pedro", "Claire", "Yves",
         "Nadia", "Thomas", "Laura", "Reto", "Chiara", "Mehmet", "Sandrine", "Olivier", "Beatrice"]
LAST = ["Perret", "Jeanneret", "Huguenin", "Rossi", "Bianchi", "Müller", "Keller", "Da Silva", "Robert",
        "Vuille", "Ferrari", "Schmid", "Matthey", "Girard", "Colombo", "Brunner", "Sandoz", "Favre"]
STREETS = ["rue du Temple", "rue Daniel-JeanRichard", "avenue de l'Hôtel-de-Ville", "chemin des Tilleuls",
           "rue de la Côte", "rue des Envers", "rue du Marais", "Crêt-Vaillant", "rue de France",
           "rue Girardet", "chemin des Primevères", "rue du Progrès"]
TOWNS = ["Neuchâtel", "La Chaux-de-Fonds", "Bienne", "Lausanne", "Berne", "Lugano", "Fribourg", "Morteau", "Zurich"]
CHILDREN = ["Léa", "Noah", "Emma", "Luca", "Mia", "Elias", "Sofia", "Liam", "Giada", "Nino"]
DOGS = ["Filou", "Bella", "Rex", "Luna", "Max"]
MONTHS = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
           "ottobre", "novembre", "dicembre"],
}
WEEKDAYS = {"fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi"],
            "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag"],
            "it": ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì"]}


@dataclass
class GeneratedMail:
    service: str
    language: str
    raw: bytes


def load_phrases() -> dict:
    return tomllib.loads(PHRASES.read_text(encoding="utf-8"))


def services() -> list[str]:
    return list(dict.fromkeys(s["service"] for s in load_phrases()["scenario"]))


def generate(count: int, seed: int = 23) -> list[GeneratedMail]:
    """`count` mails, services and languages drawn with their weights, the same for the same seed."""
    phrases = load_phrases()
    rng = random.Random(seed)
    by_service: dict[str, list[dict]] = {}
    for scenario in phrases["scenario"]:
        by_service.setdefault(scenario["service"], []).append(scenario)
    names = list(by_service)
    weights = [SERVICE_WEIGHT.get(n, 1.0) for n in names]
    mails = []
    for index in range(count):
        service = rng.choices(names, weights)[0]
        language = rng.choices(list(LANGUAGES), list(LANGUAGES.values()))[0]
        scenario = rng.choice(by_service[service])
        mails.append(GeneratedMail(service, language, _mail(rng, scenario, phrases["common"][language], language,
                                                            seed, index)))
    return mails


def _mail(rng: random.Random, scenario: dict, common: dict, language: str, seed: int, index: int) -> bytes:
    slots = _slots(rng, language)
    fill = lambda text: text.format(**slots)  # noqa: E731
    subject = fill(rng.choice(scenario[f"subjects_{language}"]))
    if rng.random() < 0.08:
        subject = rng.choice(common["generic_subjects"])
    if rng.random() < 0.15:
        subject = rng.choice(common["reply_prefix"]) + subject
    bodies = scenario[f"bodies_{language}"]
    core = rng.sample(bodies, k=min(len(bodies), rng.choice((1, 1, 2))))
    lines = [common["greetings"][rng.randrange(len(common["greetings"]))]]
    paragraph = []
    if rng.random() < 0.3:
        paragraph.append(rng.choice(common["openers"]))
    paragraph += core
    if rng.random() < 0.5:
        paragraph.append(rng.choice(common["fillers"]))
    if rng.random() < 0.2:
        paragraph.append(rng.choice(common["confusers"]))
    lines += ["", " ".join(fill(p) for p in paragraph), "", rng.choice(common["closings"]), slots["sender"]]
    if rng.random() < 0.4:
        lines.append(f"{slots['street'][0].upper()}{slots['street'][1:]} {slots['num']}, 2400 Le Locle")
    if rng.random() < 0.15:
        lines += ["", rng.choice(common["mobile"])]
    if rng.random() < 0.2:
        lines += ["", fill(rng.choice(common["quote_intro"]))] + [f"> {fill(q)}" for q in
                                                                  rng.sample(common["quoted"], k=1)]
    return _eml(rng, slots["sender"], subject, "\n".join(lines).strip() + "\n", seed, index)


def _slots(rng: random.Random, language: str) -> dict[str, str]:
    day = datetime(2026, 1, 5) + timedelta(days=rng.randrange(330))
    written = (f"{day.day}.{day.month:02d}.{day.year}" if rng.random() < 0.4
               else f"{day.day}{'.' if language == 'de' else ''} {MONTHS[language][day.month - 1]}")
    return {
        "sender": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "street": rng.choice(STREETS),
        "num": str(rng.randrange(1, 120)), "date": written, "weekday": rng.choice(WEEKDAYS[language]),
        "child": rng.choice(CHILDREN), "amount": f"{rng.randrange(40, 4000)}.{rng.choice(('00', '50', '20'))}",
        "ref": f"{rng.randrange(2024, 2027)}-{rng.randrange(100, 99999):05d}", "town": rng.choice(TOWNS),
        "dog": rng.choice(DOGS), "year": str(rng.choice((2026, 2027))),
        "phone": f"07{rng.choice('6789')} {rng.randrange(100, 999)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
        "time": f"{rng.randrange(7, 23)}h",
    }


def _eml(rng: random.Random, sender: str, subject: str, body: str, seed: int, index: int) -> bytes:
    msg = EmailMessage()
    local = sender.lower().replace(" ", ".").replace("ü", "u")
    msg["From"] = f"{sender} <{local}{rng.randrange(1, 99)}@{rng.choice(('bluewin.ch', 'gmail.com', 'sunrise.ch', 'net2000.ch'))}>"
    msg["To"] = "info@lelocle.ch"
    msg["Subject"] = subject
    when = datetime(2026, 1, 2, 8, tzinfo=timezone(timedelta(hours=1))) + timedelta(minutes=97 * index)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<gen-{seed}-{index}@triage.example>"
    msg.set_content(body)
    return msg.as_bytes()


def folder_of(service: str) -> str:
    """The IMAP folder a clerk files this service's mail in: « Services/Contrôle des habitants »."""
    return f"Services/{service[0].upper()}{service[1:]}"


def write_maildirs(root: Path, mails: list[GeneratedMail]) -> dict[str, int]:
    """One Maildir per service under `root` (named like its folder's last part); counts by service."""
    counts: dict[str, int] = {}
    boxes: dict[str, mailbox.Maildir] = {}
    root.mkdir(parents=True, exist_ok=True)
    for mail in mails:
        name = folder_of(mail.service).rpartition("/")[2]
        box = boxes.setdefault(name, mailbox.Maildir(root / name, create=True))
        box.add(mail.raw)
        counts[mail.service] = counts.get(mail.service, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args()
    counts = write_maildirs(args.out, generate(args.count, args.seed))
    print(", ".join(f"{s}: {n}" for s, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
