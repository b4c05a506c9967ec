"""`plume usage`, `plume audit export|purge`, `plume backup`, `plume restore`: for IT and the
data-protection officer."""

from __future__ import annotations

import argparse
import sys
import tarfile
from datetime import date
from pathlib import Path

from plume.cli.common import add_settings_options, settings_from
from plume.ops.backup import backup, restore
from plume.ops.usage import to_csv, to_html, usage_rows
from plume.security.audit import AuditLog


def register(subparsers: argparse._SubParsersAction) -> None:
    usage = subparsers.add_parser("usage", help="rapport d'utilisation (CSV ou HTML) tiré du journal d'audit")
    usage.add_argument("--from", dest="start", type=date.fromisoformat, help="date de début AAAA-MM-JJ")
    usage.add_argument("--to", dest="end", type=date.fromisoformat, help="date de fin AAAA-MM-JJ")
    usage.add_argument("--format", choices=["csv", "html"], default="csv")
    usage.add_argument("--output", type=Path, help="fichier de sortie (sinon la sortie standard)")
    add_settings_options(usage)
    usage.set_defaults(func=_usage)

    audit = subparsers.add_parser("audit", help="journal d'audit : export pour le préposé à la protection des données, purge")
    sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    export = sub.add_parser("export", help="exporter le journal (JSON lines) d'une période")
    export.add_argument("--from", dest="start", type=date.fromisoformat)
    export.add_argument("--to", dest="end", type=date.fromisoformat)
    export.add_argument("--user", help="seulement les lignes de cet utilisateur")
    export.add_argument("--output", type=Path)
    add_settings_options(export)
    export.set_defaults(func=_audit_export)
    purge = sub.add_parser("purge", help="supprimer les lignes plus anciennes que la durée de conservation")
    add_settings_options(purge)
    purge.set_defaults(func=_audit_purge)

    bk = subparsers.add_parser("backup", help="sauvegarder utilisateurs et modèles de lettres dans une archive")
    bk.add_argument("archive", type=Path)
    bk.add_argument("--with-audit", action="store_true", help="inclure le journal d'audit")
    bk.add_argument("--templates", type=Path, dest="templates_dir")
    add_settings_options(bk)
    bk.set_defaults(func=_backup)

    rs = subparsers.add_parser("restore", help="restaurer une sauvegarde (arrêtez le serveur avant)")
    rs.add_argument("archive", type=Path)
    rs.add_argument("--templates", type=Path, dest="templates_dir")
    add_settings_options(rs)
    rs.set_defaults(func=_restore)


def _write(text: str, output: Path | None) -> None:
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _usage(args) -> int:
    settings = settings_from(args)
    rows = usage_rows(AuditLog(settings.audit_file).read(), args.start, args.end, settings.minutes_saved)
    text = to_csv(rows) if args.format == "csv" else to_html(rows, args.start, args.end,
                                                              minutes_saved=settings.minutes_saved)
    _write(text, args.output)
    return 0


def _audit_export(args) -> int:
    import msgspec

    settings = settings_from(args)
    lines = []
    for entry in AuditLog(settings.audit_file).read():
        day = entry.time[:10]
        if (args.start and day < args.start.isoformat()) or (args.end and day > args.end.isoformat()):
            continue
        if args.user and entry.user != args.user:
            continue
        lines.append(msgspec.json.encode(entry).decode())
    _write("".join(line + "\n" for line in lines), args.output)
    print(f"{len(lines)} lignes exportées.", file=sys.stderr)
    return 0


def _audit_purge(args) -> int:
    settings = settings_from(args)
    dropped = AuditLog(settings.audit_file).purge(settings.audit_retention_days)
    print(f"{dropped} lignes de plus de {settings.audit_retention_days} jours supprimées.")
    return 0


def _backup(args) -> int:
    settings = settings_from(args, templates_dir=args.templates_dir)
    try:
        members = backup(settings, args.archive, args.with_audit)
    except OSError as exc:
        print(f"Sauvegarde impossible dans {args.archive} : {exc.strerror or exc}. Aucune archive n'a été "
              "écrite.", file=sys.stderr)
        return 1
    print(f"Sauvegarde écrite dans {args.archive} : {', '.join(members) or 'rien à sauvegarder'}.")
    return 0


def _restore(args) -> int:
    settings = settings_from(args, templates_dir=args.templates_dir)
    try:
        restored = restore(settings, args.archive)
    except tarfile.TarError:
        print(f"Restauration impossible : {args.archive} n'est pas une sauvegarde Plume lisible (archive .tar.gz "
              "écrite par « plume backup »). Rien n'a été modifié.", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"Restauration impossible : {exc}", file=sys.stderr)
        return 1
    print("Restauré : " + "; ".join(restored))
    return 0
