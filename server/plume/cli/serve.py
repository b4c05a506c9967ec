"""`plume serve`: run the HTTP server."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from plume.cli.common import add_settings_options, settings_from
from plume.security.roles import Role
from plume.security.tokens import UserStore


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="démarrer le serveur")
    add_settings_options(parser)
    parser.add_argument("--host", help="adresse d'écoute (défaut 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (défaut 8000)")
    parser.add_argument("--templates", type=Path, dest="templates_dir", help="dossier des modèles de lettres")
    parser.add_argument("--models", type=Path, dest="models_file", help="catalogue des modèles (models.toml)")
    parser.add_argument("--collections", type=Path, dest="collections_file",
                        help="collections de documents pour la recherche (collections.toml, docs/search.md)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from plume.app import create_app

    settings = settings_from(args, host=args.host, port=args.port, templates_dir=args.templates_dir,
                             models_file=args.models_file, collections_file=args.collections_file)
    _first_admin(settings)
    # uvicorn shuts the application down on SIGTERM, then raises SIGTERM again, which ended the
    # process before Python's exit handlers ran (multiprocessing's fork server folder stayed in the
    # temporary folder, plume/tempdirs.py): that second SIGTERM is a normal exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        access_log=False,
        log_level="info",
        timeout_graceful_shutdown=5,
    )
    return 0


def _first_admin(settings) -> None:
    """On a brand-new data folder, create an admin and print its token once."""
    store = UserStore(settings.users_file)
    if store.users():
        return
    token = store.add("admin", Role.ADMIN, settings.token_lifetime_days)
    print("Premier démarrage : un jeton administrateur a été créé. Notez-le, il ne sera plus affiché.")
    print("First start: an admin token was created. Write it down; it will not be shown again.")
    print(token, flush=True)
