"""The usage report for the Council, built from the audit log alone (it holds no content).

Per task, per service, per engine (rules or model) and per month: requests, results the clerk
inserted into her document, distinct users, median latency and the estimated time saved — counted
only for inserted results (minutes per task, set in the configuration). METHOD says so in words.

Every successful task response carries a request id (header X-Plume-Request-Id, recorded in its
audit line); the sidebars send it back to POST /v1/usage/inserted when the clerk clicks Insert,
which writes an audit line naming that id. The report joins the two.
"""

from __future__ import annotations

import csv
import html
import io
import re
import secrets
import statistics
import threading
from collections import OrderedDict, defaultdict
from datetime import date

import msgspec

from plume.security.audit import AuditEntry

# Minutes a person saves per successful request, when the configuration does not say otherwise.
DEFAULT_MINUTES_SAVED = {
    "render": 10, "extract": 5, "plain-language": 15, "translate": 20, "summarize": 20,
    "minutes": 45, "factsheet": 60, "acknowledge": 5, "triage": 2, "chat": 0, "search": 3, "transcribe": 30,
}

TASK_LABELS = {
    "render": "Lettre depuis un modèle", "extract": "Notes → champs", "plain-language": "Langage clair",
    "translate": "Traduction", "summarize": "Résumé", "minutes": "Procès-verbal", "factsheet": "Fiche explicative",
    "acknowledge": "Accusé de réception", "triage": "Tri des courriels", "chat": "Chat (outils locaux)",
    "proofread": "Correction", "search": "Recherche dans les documents",
    "transcribe": "Transcription d'un enregistrement",
}

INSERTED_ROUTE = "/v1/usage/inserted"
REQUEST_ID_HEADER = "X-Plume-Request-Id"
RULES_ENGINES = {None, "", "rules", "apertium", "grammalecte"}  # no model wrote the result
ENGINE_LABELS = {"rules": "règles", "model": "modèle"}
_ALIASES = {"template-render": "render"}

METHOD = (
    "Méthode : ce rapport est tiré du journal d'audit de Plume, qui ne contient aucun texte. Une « demande » est "
    "un appel réussi à une tâche (lettre depuis un modèle, langage clair, traduction, etc.) ; les essais, les "
    "erreurs et les consultations ne comptent pas. Une demande n'est comptée comme « insérée » que si la personne "
    "a cliqué sur « Insérer » dans Word ou LibreOffice pour ce résultat précis. Le temps économisé est estimé "
    "seulement pour les résultats insérés : nombre de résultats insérés × minutes par tâche, une valeur fixée par "
    "la commune dans sa configuration (tableau [minutes_saved]) et rappelée ci-dessous. Les résultats des règles "
    "sans modèle et ceux d'un modèle d'IA sont comptés à part. C'est une estimation : elle ne mesure ni la qualité "
    "du résultat ni les retouches faites ensuite."
)

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
    engine: str  # "rules" | "model"
    requests: int
    inserted: int  # results the clerk inserted into her document
    users: int
    median_ms: float
    minutes_saved: float  # inserted × minutes for the task


def route_task(route: str, noted: str | None = None) -> str | None:
    """The writing task a route serves (`noted`: what the handler wrote in the audit line)."""
    if route == INSERTED_ROUTE:
        return None
    if noted:
        return _ALIASES.get(noted, noted)
    route = route.replace("{template_id}", "x").replace("{template_id:str}", "x")
    for pattern, name in _ROUTE_TASKS:
        match = pattern.fullmatch(route)
        if match:
            return name or match.group(1)
    return None


def task_of(entry: AuditEntry) -> str | None:
    """The writing task a request served; None for listings, health, admin and failures."""
    return route_task(entry.route, entry.task)


def engine_of(entry: AuditEntry) -> str:
    return "rules" if entry.model in RULES_ENGINES else "model"


def inserted_ids(entries: list[AuditEntry]) -> set[str]:
    return {e.request_id for e in entries if e.route == INSERTED_ROUTE and 200 <= e.status < 300 and e.request_id}


def minutes_table(minutes_saved: dict[str, float] | None = None) -> dict[str, float]:
    return {**DEFAULT_MINUTES_SAVED, **(minutes_saved or {})}


def usage_rows(entries: list[AuditEntry], start: date | None, end: date | None,
               minutes_saved: dict[str, float] | None = None) -> list[UsageRow]:
    minutes = minutes_table(minutes_saved)
    inserted = inserted_ids(entries)
    groups: dict[tuple[str, str, str, str], list[AuditEntry]] = defaultdict(list)
    for entry in entries:
        day = entry.time[:10]
        task = task_of(entry)
        if task is None or entry.method == "GET" or not (200 <= entry.status < 300):
            continue
        if (start and day < start.isoformat()) or (end and day > end.isoformat()):
            continue
        groups[(day[:7], task, entry.service or "(non renseigné)", engine_of(entry))].append(entry)
    rows = []
    for (month, task, service, engine), items in sorted(groups.items()):
        used = sum(1 for e in items if e.request_id and e.request_id in inserted)
        rows.append(UsageRow(
            month=month, task=task, service=service, engine=engine, requests=sum(e.count for e in items),
            inserted=used, users=len({e.user for e in items}),
            median_ms=round(statistics.median(e.duration_ms for e in items), 1),
            minutes_saved=round(used * float(minutes.get(task, 0)), 1),
        ))
    return rows


def to_json(rows: list[UsageRow], start: str | None, end: str | None,
            minutes_saved: dict[str, float] | None = None) -> dict:
    return {"from": start, "to": end, "method": METHOD, "minutes_per_task": minutes_table(minutes_saved),
            "rows": rows}


def to_csv(rows: list[UsageRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["mois", "tache", "service", "moteur", "requetes", "inserees", "utilisateurs",
                     "latence_mediane_ms", "minutes_economisees"])
    for r in rows:
        writer.writerow([r.month, r.task, r.service, ENGINE_LABELS[r.engine], r.requests, r.inserted, r.users,
                         r.median_ms, r.minutes_saved])
    return out.getvalue()


def to_html(rows: list[UsageRow], start: date | None, end: date | None, commune: str = "la commune",
            minutes_saved: dict[str, float] | None = None) -> str:
    """A one-page report with bar charts drawn as inline SVG (no script, no external asset)."""
    by_month = _totals(rows, "month")
    by_task = _totals(rows, "task")
    by_service = _totals(rows, "service")
    total_requests = sum(r.requests for r in rows)
    total_inserted = sum(r.inserted for r in rows)
    by_engine = {ENGINE_LABELS[k]: v for k, v in _totals(rows, "engine", "inserted").items()}
    total_hours = sum(r.minutes_saved for r in rows) / 60
    minutes = minutes_table(minutes_saved)
    used_tasks = sorted({r.task for r in rows})
    minutes_list = " ; ".join(f"{html.escape(TASK_LABELS.get(t, t))} : {minutes.get(t, 0):g} min" for t in used_tasks)
    period = f"du {start.isoformat() if start else '…'} au {end.isoformat() if end else '…'}"
    users = len({(r.month, r.task, r.service, r.users) for r in rows}) and max((r.users for r in rows), default=0)
    table = "".join(
        f"<tr><td>{r.month}</td><td>{html.escape(TASK_LABELS.get(r.task, r.task))}</td><td>{html.escape(r.service)}</td>"
        f"<td>{ENGINE_LABELS[r.engine]}</td><td>{r.requests}</td><td>{r.inserted}</td><td>{r.users}</td>"
        f"<td>{r.median_ms:.0f}</td><td>{r.minutes_saved / 60:.1f}</td></tr>"
        for r in rows)
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Plume — rapport d'utilisation</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}}
table{{border-collapse:collapse;width:100%;font-size:.85rem}}td,th{{border:1px solid #ccc;padding:.2rem .4rem;text-align:left}}
.charts{{display:flex;flex-wrap:wrap;gap:1rem}} figure{{margin:0}} @media print{{body{{margin:0}}}}</style></head>
<body><h1>Plume — rapport d'utilisation</h1>
<p>Période {period}, pour {html.escape(commune)}. Données tirées du journal d'audit, qui ne contient aucun texte.</p>
<p><strong>{total_requests}</strong> demandes traitées, dont <strong>{total_inserted}</strong> résultats insérés dans un
document ; temps de travail estimé économisé : <strong>{total_hours:.1f} heures</strong> (résultats insérés seulement) ;
au plus {users} utilisateurs par mois et par tâche.</p>
<p>{html.escape(METHOD)}</p>
<p>Minutes par résultat inséré : {minutes_list or "—"}.</p>
<div class="charts">
<figure>{_bar_chart(by_month, "Demandes par mois")}</figure>
<figure>{_bar_chart({TASK_LABELS.get(k, k): v for k, v in by_task.items()}, "Demandes par tâche")}</figure>
<figure>{_bar_chart(by_service, "Demandes par service")}</figure>
<figure>{_bar_chart(by_engine, "Résultats insérés : règles ou modèle")}</figure>
</div>
<h2>Détail</h2>
<table><tr><th>Mois</th><th>Tâche</th><th>Service</th><th>Moteur</th><th>Demandes</th><th>Insérés</th><th>Utilisateurs</th><th>Latence médiane (ms)</th><th>Heures économisées</th></tr>
{table}</table></body></html>
"""


def _totals(rows: list[UsageRow], key: str, count: str = "requests") -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[getattr(r, key)] += getattr(r, count)
    return dict(totals)


# -- request ids ------------------------------------------------------------------------------------------------


class RequestLedger:
    """Which user got which request id, for POST /v1/usage/inserted. Recent ids are held in memory
    (bounded); an older one, or one from before a restart, is looked up in the audit log."""

    def __init__(self, audit_read, size: int = 50_000) -> None:
        self._read = audit_read
        self._size = size
        self._ids: OrderedDict[str, str | None] = OrderedDict()
        self._lock = threading.Lock()

    def issue(self, user: str | None) -> str:
        request_id = secrets.token_hex(8)
        with self._lock:
            self._ids[request_id] = user
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)
        return request_id

    def belongs_to(self, request_id: str, user: str | None) -> bool:
        with self._lock:
            if request_id in self._ids:
                return self._ids[request_id] == user
        return any(e.request_id == request_id and e.user == user and e.route != INSERTED_ROUTE
                   and 200 <= e.status < 300 for e in self._read())


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
