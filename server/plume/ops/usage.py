"""The usage report for the Council, built from the audit log alone (it holds no content).

Per task, per service and per month: requests, distinct users, median latency and the estimated
time saved (minutes per task, set in the configuration).
"""

from __future__ import annotations

import csv
import html
import io
import re
import statistics
from collections import defaultdict
from datetime import date

import msgspec

from plume.security.audit import AuditEntry

# Minutes a person saves per successful request, when the configuration does not say otherwise.
DEFAULT_MINUTES_SAVED = {
    "render": 10, "extract": 5, "plain-language": 15, "translate": 20, "summarize": 20,
    "minutes": 45, "factsheet": 60, "acknowledge": 5, "triage": 2, "chat": 0,
}

TASK_LABELS = {
    "render": "Lettre depuis un modèle", "extract": "Notes → champs", "plain-language": "Langage clair",
    "translate": "Traduction", "summarize": "Résumé", "minutes": "Procès-verbal", "factsheet": "Fiche explicative",
    "acknowledge": "Accusé de réception", "triage": "Tri des courriels", "chat": "Chat (outils locaux)",
}

_ROUTE_TASKS = [
    (re.compile(r"/v1/templates/[^/]+/render"), "render"),
    (re.compile(r"/v1/templates/[^/]+/extract"), "extract"),
    (re.compile(r"/v1/text/([a-z-]+)"), None),
    (re.compile(r"/v1/mail/([a-z-]+)"), None),
    (re.compile(r"/v1/chat/completions"), "chat"),
]


class UsageRow(msgspec.Struct):
    month: str
    task: str
    service: str
    requests: int
    users: int
    median_ms: float
    minutes_saved: float


def task_of(entry: AuditEntry) -> str | None:
    """The writing task a request served; None for listings, health, admin and failures."""
    if entry.task:
        return entry.task
    route = entry.route.replace("{template_id}", "x")
    for pattern, name in _ROUTE_TASKS:
        match = pattern.fullmatch(route)
        if match:
            return name or match.group(1)
    return None


def usage_rows(entries: list[AuditEntry], start: date | None, end: date | None,
               minutes_saved: dict[str, float] | None = None) -> list[UsageRow]:
    minutes = {**DEFAULT_MINUTES_SAVED, **(minutes_saved or {})}
    groups: dict[tuple[str, str, str], list[AuditEntry]] = defaultdict(list)
    for entry in entries:
        day = entry.time[:10]
        task = task_of(entry)
        if task is None or entry.method == "GET" or not (200 <= entry.status < 300):
            continue
        if (start and day < start.isoformat()) or (end and day > end.isoformat()):
            continue
        groups[(day[:7], task, entry.service or "(non renseigné)")].append(entry)
    rows = []
    for (month, task, service), items in sorted(groups.items()):
        rows.append(UsageRow(
            month=month, task=task, service=service, requests=sum(e.count for e in items),
            users=len({e.user for e in items}),
            median_ms=round(statistics.median(e.duration_ms for e in items), 1),
            minutes_saved=round(sum(e.count for e in items) * float(minutes.get(task, 0)), 1),
        ))
    return rows


def to_csv(rows: list[UsageRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["mois", "tache", "service", "requetes", "utilisateurs", "latence_mediane_ms", "minutes_economisees"])
    for r in rows:
        writer.writerow([r.month, r.task, r.service, r.requests, r.users, r.median_ms, r.minutes_saved])
    return out.getvalue()


def to_html(rows: list[UsageRow], start: date | None, end: date | None, commune: str = "la commune") -> str:
    """A one-page report with bar charts drawn as inline SVG (no script, no external asset)."""
    by_month = _totals(rows, "month")
    by_task = _totals(rows, "task")
    by_service = _totals(rows, "service")
    total_requests = sum(r.requests for r in rows)
    total_hours = sum(r.minutes_saved for r in rows) / 60
    period = f"du {start.isoformat() if start else '…'} au {end.isoformat() if end else '…'}"
    users = len({(r.month, r.task, r.service, r.users) for r in rows}) and max((r.users for r in rows), default=0)
    table = "".join(
        f"<tr><td>{r.month}</td><td>{html.escape(TASK_LABELS.get(r.task, r.task))}</td><td>{html.escape(r.service)}</td>"
        f"<td>{r.requests}</td><td>{r.users}</td><td>{r.median_ms:.0f}</td><td>{r.minutes_saved / 60:.1f}</td></tr>"
        for r in rows)
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Plume — rapport d'utilisation</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}}
table{{border-collapse:collapse;width:100%;font-size:.85rem}}td,th{{border:1px solid #ccc;padding:.2rem .4rem;text-align:left}}
.charts{{display:flex;flex-wrap:wrap;gap:1rem}} figure{{margin:0}} @media print{{body{{margin:0}}}}</style></head>
<body><h1>Plume — rapport d'utilisation</h1>
<p>Période {period}, pour {html.escape(commune)}. Données tirées du journal d'audit, qui ne contient aucun texte.</p>
<p><strong>{total_requests}</strong> demandes traitées ; temps de travail estimé économisé : <strong>{total_hours:.1f} heures</strong>
(minutes par tâche fixées dans la configuration) ; au plus {users} utilisateurs par mois et par tâche.</p>
<div class="charts">
<figure>{_bar_chart(by_month, "Demandes par mois")}</figure>
<figure>{_bar_chart({TASK_LABELS.get(k, k): v for k, v in by_task.items()}, "Demandes par tâche")}</figure>
<figure>{_bar_chart(by_service, "Demandes par service")}</figure>
</div>
<h2>Détail</h2>
<table><tr><th>Mois</th><th>Tâche</th><th>Service</th><th>Demandes</th><th>Utilisateurs</th><th>Latence médiane (ms)</th><th>Heures économisées</th></tr>
{table}</table></body></html>
"""


def _totals(rows: list[UsageRow], key: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[getattr(r, key)] += r.requests
    return dict(totals)


def _bar_chart(values: dict[str, int], title: str) -> str:
    width, bar_h, label_w = 380, 18, 150
    biggest = max(values.values(), default=1) or 1
    bars = []
    for i, (label, value) in enumerate(values.items()):
        y = 24 + i * (bar_h + 4)
        w = (width - label_w - 40) * value / biggest
        bars.append(f'<text x="0" y="{y + 13}" font-size="11">{html.escape(str(label))[:24]}</text>'
                    f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#2b6cb0"/>'
                    f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="11">{value}</text>')
    height = 30 + len(values) * (bar_h + 4)
    return (f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg"><text x="0" y="14" font-weight="bold" font-size="13">'
            f'{html.escape(title)}</text>{"".join(bars)}</svg>')
