"""The Litestar application factory: the services (plume.services) built once, the routes of every
api/ module, the middlewares and the exception handlers."""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.openapi.plugins import SwaggerRenderPlugin

from plume import __version__
from plume.api import CAPABILITIES
from plume.api.problems import EXCEPTION_HANDLERS
from plume.api.task_support import task_runner
from plume.config import Settings
from plume.security.auth import authentication_middleware
from plume.security.middleware import audit_middleware
from plume.security.ratelimit import rate_limit_middleware
from plume.services import Services


# The server opens no outbound connection: should any library that knows a model hub ever be
# imported (tokenizers, an export tool), it must stay offline.
OFFLINE_ENVIRONMENT = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                       "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}


def create_app(settings: Settings, services: Services | None = None) -> Litestar:
    """`services`: built here from `settings` unless given (a test may give its own)."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    services = services or Services.build(settings)
    route_handlers, lifespans = [], [_started(services)]
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
        state=State({"services": services}),
        dependencies={**services.dependencies(), "runner": Provide(task_runner, sync_to_thread=False)},
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


def _started(services: Services):
    """The first lifespan: start the services before anything else runs, stop them last."""
    @asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        await services.start()
        _responsive()
        try:
            yield
        finally:
            await services.stop()
    return lifespan


def _responsive() -> None:
    """The event loop's share of the interpreter while worker threads parse and render (issue 24).

    - Everything alive once the services are up (templates, catalogs, language data) is frozen out
      of the garbage collector: a full collection walked it all, holding the interpreter for
      80–100 ms, each time a request made many objects (a 5,000-part e-mail: /health waited).
    - A worker thread busy in Python gives the interpreter up after 1 ms instead of 5 when the event
      loop asks for it: a request that needs the loop a few times is served in milliseconds."""
    gc.freeze()
    sys.setswitchinterval(0.001)


def _cors(settings: Settings) -> CORSConfig | None:
    # The add-ins are served from the API's own origin; allow only that origin (none when unset).
    if not settings.public_url:
        return None
    return CORSConfig(allow_origins=[settings.public_url.rstrip("/")], allow_headers=["Authorization", "Content-Type"],
                      expose_headers=["X-Plume-Request-Id", "X-Plume-Reference", "X-Plume-Warning"])


logging.getLogger("plume").setLevel(logging.INFO)
