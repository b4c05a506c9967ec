"""`plume users add|list|revoke|rotate`: manage people's access tokens."""

from __future__ import annotations

import argparse
import sys

from plume.cli.common import add_settings_options, settings_from
from plume.security.roles import Role
from plume.security.tokens import UserError, UserStore, dump_users_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="gérer les utilisateurs et leurs jetons")
    sub = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="créer un utilisateur ; affiche son jeton une seule fois")
    add.add_argument("name")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.USER.value)
    add.add_argument("--days", type=int, help="durée de validité du jeton en jours")
    add.add_argument("--service", help="service de la commune (pour le rapport d'utilisation)")
    add_settings_options(add)
    add.set_defaults(func=_add)

    list_ = sub.add_parser("list", help="lister les utilisateurs")
    list_.add_argument("--json", action="store_true")
    add_settings_options(list_)
    list_.set_defaults(func=_list)

    for name, func, text in (("revoke", _revoke, "révoquer le jeton d'un utilisateur"),
                             ("rotate", _rotate, "remplacer le jeton d'un utilisateur")):
        p = sub.add_parser(name, help=text)
        p.add_argument("name")
        add_settings_options(p)
        p.set_defaults(func=func)


def _store(args) -> tuple[UserStore, int]:
    settings = settings_from(args)
    return UserStore(settings.users_file), settings.token_lifetime_days


def _add(args) -> int:
    store, days = _store(args)
    try:
        token = store.add(args.name, Role(args.role), args.days or days, args.service)
    except UserError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Utilisateur « {args.name} » créé (rôle {args.role}). Jeton, affiché une seule fois :")
    print(token)
    return 0


def _list(args) -> int:
    store, _ = _store(args)
    users = store.users()
    if args.json:
        print(dump_users_json(users))
        return 0
    for u in users:
        state = "révoqué" if u.revoked else ("expiré" if not u.is_active() else "actif")
        expires = u.expires.date().isoformat() if u.expires else "-"
        print(f"{u.name}\t{u.role}\t{state}\t{expires}")
    return 0


def _revoke(args) -> int:
    store, _ = _store(args)
    try:
        store.revoke(args.name)
    except UserError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Jeton de « {args.name} » révoqué.")
    return 0


def _rotate(args) -> int:
    store, days = _store(args)
    try:
        token = store.rotate(args.name, days)
    except UserError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Nouveau jeton pour « {args.name} », affiché une seule fois :")
    print(token)
    return 0
