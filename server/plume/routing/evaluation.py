"""`plume eval --tasks triage`: how each way of triaging agrees with the clerk, field by field.

Rows, each over the evaluation folder's e-mails (emails/*.eml + expected.toml):
- « règles »: the rules file alone (keywords), as Plume triaged before routing;
- « annuaire »: Plume with no model and no learning (rules, then the service directory);
- « appris »: with what `plume triage learn` learned (`--learned DATA`), no model;
- each catalog model: the whole chain with the model (and the learning, when given), through
  plume.evaluation (which measures the model's calls).

Per row: agreement per field, overall, the service per language (fr/de/it), the share shown
« à confirmer » and how often the sure ones are right, and the time per mail.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from plume.mail.parse import MailMessage, parse_message
from plume.routing.router import to_confirm

FIELDS = ("category", "priority", "service", "language", "needs_reply", "deadline")
FIELDS_FR = {"category": "catégorie", "priority": "priorité", "service": "service", "language": "langue",
             "needs_reply": "réponse", "deadline": "échéance"}
LANGUAGES = ("fr", "de", "it")


def mails(data: Path) -> Iterator[tuple[MailMessage, dict]]:
    folder = data / "emails"
    expected = tomllib.loads((folder / "expected.toml").read_text(encoding="utf-8")) \
        if (folder / "expected.toml").exists() else {}
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        yield parse_message(path.read_bytes(), path.name), expected.get(path.name, {})


def outcome(result, expected: dict) -> dict[str, Any]:
    """What one triaged mail adds to its row: fields agreed, its language, sure or « à confirmer ».
    A field the expectations leave out is not counted, but for the deadline: none expected, none found."""
    fields = {}
    for name in FIELDS:
        if name not in expected and name != "deadline":
            continue
        want, got = expected.get(name), getattr(result, name, None)
        same = got is want if isinstance(want, bool) else got is None if want is None else _norm(got) == _norm(want)
        fields[name] = (int(same), 1)
    unsure = to_confirm(result)
    return {"agree": (sum(h for h, _ in fields.values()), len(fields)), "fields": fields,
            "language": expected.get("language", ""), "unsure": unsure, "decided_by": result.decided_by}


def _norm(value: Any) -> str:
    return " ".join(str(value).casefold().replace("’", "'").split())


def summary(items: list[dict], seconds: list[float]) -> dict[str, Any]:
    """A row: agreement per field and overall, the service per language, « à confirmer »."""
    def share(pairs):
        total = sum(t for _, t in pairs)
        return sum(h for h, _ in pairs) / total if total else None

    row: dict[str, Any] = {"items": len(items), "agree": share([i["agree"] for i in items])}
    row["fields"] = {f: share([i["fields"][f] for i in items if f in i["fields"]]) for f in FIELDS}
    for language in LANGUAGES:
        row[f"service_{language}"] = share([i["fields"]["service"] for i in items
                                            if i["language"] == language and "service" in i["fields"]])
    sure = [i for i in items if not i["unsure"]]
    row["to_confirm"] = 1 - len(sure) / len(items) if items else None
    row["sure_service"] = share([i["fields"]["service"] for i in sure if "service" in i["fields"]])
    row["ms_per_mail"] = 1000 * sum(seconds) / len(seconds) if seconds else None
    return row


# ------------------------------------------------------------------------------------- running
def router(learned: Path | None):
    """The router to measure: the shipped directory (or the one beside the learning) and the learning."""
    from plume.inference.embeddings import bundled_embedder
    from plume.routing import store
    from plume.routing.directory import directory_path, load_directory
    from plume.routing.router import Router

    directory = load_directory(directory_path(learned) if learned else None)
    return Router(directory, bundled_embedder(), store.load(store.path_in(learned)) if learned else None)


def without_model(data: Path, learned: Path | None) -> dict[str, dict[str, Any]]:
    """The rows that need no model: « règles », « annuaire » and, with a learning, « appris »."""
    from plume.routing.router import with_directory_services
    from plume.tasks.triage import load_rules, triage_by_rules

    rows = {}
    plain = router(None)
    ways = [("règles", None), ("annuaire", plain)] + ([("appris", router(learned))] if learned else [])
    for name, way in ways:
        rules = with_directory_services(load_rules(), way.directory) if way else load_rules()
        items, seconds = [], []
        for mail, expected in mails(data):
            started = time.perf_counter()
            result = triage_by_rules(mail, rules)
            if way is not None:
                way.route(mail, result, rules)
            seconds.append(time.perf_counter() - started)
            items.append(outcome(result, expected))
        rows[name] = summary(items, seconds)
    return rows


def items_with_model(data: Path, learned: Path | None):
    """plume.evaluation's triage items: the whole chain, with the model being measured."""
    import anyio

    from plume.routing.router import with_directory_services
    from plume.tasks.triage import load_rules, triage

    way = router(learned)
    rules = with_directory_services(load_rules(), way.directory)
    for mail, expected in mails(data):
        async def item(inference, mail=mail, expected=expected):
            got = await triage(mail, rules, inference, directory_text=way.directory.prompt_text())
            await anyio.to_thread.run_sync(way.route, mail, got, rules)
            return outcome(got, expected)
        yield item


# -------------------------------------------------------------------------------------- output
def table(rows: dict[str, dict[str, Any]]) -> str:
    header = ["tri", "n", *[FIELDS_FR[f] for f in FIELDS], "ensemble", *[f"service {lang}" for lang in LANGUAGES],
              "à confirmer", "sûrs justes", "ms/courriel"]
    lines = [header]
    for name, row in rows.items():
        fields = row.get("fields") or {}
        lines.append([name, str(row.get("items", "")), *[_pct(fields.get(f)) for f in FIELDS], _pct(row.get("agree")),
                      *[_pct(row.get(f"service_{lang}")) for lang in LANGUAGES], _pct(row.get("to_confirm")),
                      _pct(row.get("sure_service")),
                      "—" if row.get("ms_per_mail") is None else f"{row['ms_per_mail']:.0f}"])
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in lines]
    return "\n".join(["Tri : accord avec l'employé, champ par champ", out[0], "-" * len(out[0]), *out[1:]])


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
