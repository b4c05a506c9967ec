"""The Litestar application factory."""

from __future__ import annotations

import importlib
import os
import logging

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.openapi.plugins import SwaggerRenderPlugin

from plume import __version__
from plume.api import CAPABILITIES
from plume.api.problems import EXCEPTION_HANDLERS
from plume.config import Settings
from plume.security.audit import AuditLog
from plume.security.auth import authentication_middleware
from plume.security.middleware import audit_middleware
from plume.security.ratelimit import rate_limit_middleware
from plume.security.tokens import UserStore


# The server opens no outbound connection: should any library that knows a model hub ever be
# imported (tokenizers, an export tool), it must stay offline.
OFFLINE_ENVIRONMENT = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                       "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}


def create_app(settings: Settings) -> Litestar:
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    route_handlers, lifespans = [], []
    for name in CAPABILITIES:
        module = importlib.import_module(f"plume.api.{name}")
        route_handlers.extend(module.ROUTES)
        if hasattr(module, "LIFESPAN"):
            lifespans.append(module.LIFESPAN)
    if settings.mail:  # IMAP mailboxes to triage in place (docs/mailbox.md), in threads beside the server
        from plume.mailbox.run import lifespan as mail_lifespan
        lifespans.append(mail_lifespan)
    return Litestar(
        route_handlers=route_handlers,
        lifespan=lifespans,
        state=_initial_state(settings),
        middleware=[audit_middleware, authentication_middleware(), rate_limit_middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        cors_config=_cors(settings),
        openapi_config=OpenAPIConfig(
            title="Plume", version=__version__, path="/schema",
            description="API de Plume, l'assistant d'écriture local de la commune. Chaque route sauf /health "
                        "demande un jeton personnel (en-tête Authorization: Bearer plm_…). Dans un navigateur : "
                        "/api-docs (sans Internet).",
            # Swagger UI's files come from Plume itself (api/docs.py), never from a CDN.
            render_plugins=[SwaggerRenderPlugin(js_url="/api-docs/assets/swagger-ui-bundle.js",
                                                css_url="/api-docs/assets/swagger-ui.css",
                                                standalone_preset_js_url="/api-docs/assets/swagger-ui-standalone-preset.js",
                                                favicon="<link rel='icon' href='/api-docs/assets/favicon-32x32.png'>")],
            security=[{"BearerToken": []}],
            components=Components(security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer",
                                              description="Jeton personnel créé par « plume users add »."),
            }),
        ),
        logging_config=None,
        debug=False,
    )


def _initial_state(settings: Settings):
    from litestar.datastructures import State

    return State({
        "settings": settings,
        "users": UserStore(settings.users_file),
        "audit": AuditLog(settings.audit_file),
        "health_sources": {},
    })


def _cors(settings: Settings) -> CORSConfig | None:
    # The add-ins are served from the API's own origin; allow only that origin (none when unset).
    if not settings.public_url:
        return None
    return CORSConfig(allow_origins=[settings.public_url.rstrip("/")], allow_headers=["Authorization", "Content-Type"],
                      expose_headers=["X-Plume-Request-Id", "X-Plume-Reference", "X-Plume-Warning"])


logging.getLogger("plume").setLevel(logging.INFO)
