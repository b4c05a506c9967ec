"""The server's services, built once, in one place, when the application is created.

`Services.build(settings)` makes every service object; `start()` (the application's first lifespan)
starts what needs starting — the letter library, whose building prepares every model in its own
process, and the inference service, which loads the models in the background — and `stop()` stops
them. Route handlers receive them through Litestar's dependency injection (`dependencies()`: a
handler's parameter named `inference`, `templates`, `actions`, `reference_book`, `ledger`, `search`,
`services` or `settings` gets that service); the middlewares and the mailbox worker read them from
`app.state.services`. Nothing depends on the order in which lifespans run.

A new service: a field here, built in `build` (or in `start` if building it is slow), and a line in
`dependencies()`.
"""

from __future__ import annotations

import gc
import logging
import threading
from dataclasses import dataclass, field
from functools import partial
from typing import Any


import anyio
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from plume.config import Settings
from plume.documents.budget import TemplateBudgets
from plume.documents.library import TemplateLibrary
from plume.inference.base import Inference
from plume.inference.metrics import Metrics
from plume.inference.service import InferenceService
from plume.language import apertium, lexicon, warm
from plume.ops.usage import RequestLedger
from plume.routing.router import Routing
from plume.search.collections import CollectionsError
from plume.search.dense import EmbedderUnavailable, embed_queries
from plume.search.service import SearchService, build_search_service
from plume.security.audit import AuditLog
from plume.speech.service import TranscriptionService
from plume.security.safezip import ZipLimits
from plume.security.tokens import UserStore
from plume.tasks.actions import ActionLibrary
from plume.tasks.reference_book import ReferenceBook
from plume.tempdirs import TempRoot

# A route handler's parameter for the inference service: typed by its protocol, which Litestar cannot
# check at run time (and a test may inject a scripted one), so the injected value is not validated.
InjectedInference = NamedDependency[SkipValidation[Inference]]
log = logging.getLogger("plume")


@dataclass
class Services:
    settings: Settings
    users: UserStore
    audit: AuditLog
    ledger: RequestLedger  # which user got which request id (X-Plume-Request-Id)
    metrics: Metrics
    models: InferenceService  # the catalog's models: started and stopped here, reported in /health
    inference: Inference  # what tasks ask: `models`, unless a test puts a scripted one in its place
    actions: ActionLibrary
    reference_book: ReferenceBook  # one numbering for the route and the mailbox worker
    templates: TemplateLibrary | None = None  # built by start(): building it prepares every letter model
    # Search over the commune's documents (plume.search), built by start() when collections are declared;
    # `search_broken`: declared, but the collections file or the index could not be opened (search 503s).
    search: SearchService | None = None
    search_broken: bool = False
    # Which service handles an e-mail: the commune's directory and what was learned from its folders.
    triage_routing: Routing | None = None
    # Recordings → transcripts, as jobs that survive a restart (plume.speech), on the models' scheduler.
    speech: TranscriptionService | None = None
    health_sources: dict[str, Any] = field(default_factory=dict)  # what /health reports, by name
    temp: TempRoot | None = None  # the server's own temporary folder (plume/tempdirs.py)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        audit = AuditLog(settings.audit_file)
        metrics = Metrics()
        inference = InferenceService(settings, metrics)
        services = cls(settings=settings, users=UserStore(settings.users_file), audit=audit,
                       ledger=RequestLedger(audit.read), metrics=metrics, models=inference, inference=inference,
                       actions=ActionLibrary(settings.data_dir),
                       reference_book=ReferenceBook.in_folder(settings.data_dir),
                       triage_routing=Routing(settings.data_dir))
        services.speech = TranscriptionService(settings, inference, audit)
        services.health_sources.update(models=inference, language=LanguageTools(settings.data_dir))
        services.temp = TempRoot(settings.data_dir)
        return services

    async def start(self) -> None:
        if self.temp is not None:  # before anything makes a temporary file: the fork server's folder goes there too
            self.temp.enter()
        self.templates = await anyio.to_thread.run_sync(self._template_library)  # off the event loop
        self.templates.remove_torn_uploads()
        self.health_sources["templates"] = self.templates
        await self._start_search()
        if self.settings.warm_up:  # in the background: the server answers meanwhile
            threading.Thread(target=self._warm_up, name="plume-warm-up", daemon=True).start()
        await self.models.start()
        await self.speech.start()  # resumes the transcriptions a stop interrupted

    async def stop(self) -> None:
        await self.speech.stop()
        await self.models.stop()
        if self.search is not None:
            self.search.store.close()
        if self.temp is not None:
            self.temp.leave()

    async def _start_search(self) -> None:
        if not self.settings.collections_file:
            return
        try:
            self.search = await anyio.to_thread.run_sync(build_search_service, self.settings)
        except Exception as exc:  # noqa: BLE001 - a bad collections file or an unreachable database must not stop
            self.search_broken = True  # the server: search answers 503, every other task works
            # Our own French messages name the file; a database error is named by its type only (never a URL).
            own = isinstance(exc, (CollectionsError, EmbedderUnavailable))
            log.error("search unavailable: %s", exc if own else type(exc).__name__)

    def _warm_up(self) -> None:
        warm.warm_up(self.settings.data_dir)
        self._warm_embedders()
        self.health_sources["language"].warm = True
        gc.freeze()  # what the tools loaded (spaCy's pipeline…) joins what the collector skips (app.py)

    def _warm_embedders(self) -> None:
        """The search's embedders and the triage's router (it embeds the services' directory): loaded
        on first use, the first search after a start took 21 s on the busy 2-core machine."""
        steps = [("router", self.triage_routing.router)] if self.triage_routing is not None else []
        if self.search is not None:
            steps += [(e.id, partial(embed_queries, e, ["bonjour"])) for e in self.search.embedders]
        for name, step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - never fatal: tried again, with its own error, when used
                log.warning("%s not loaded at start: %s", name, type(exc).__name__)

    def _template_library(self) -> TemplateLibrary:
        settings = self.settings
        return TemplateLibrary(
            templates_dir=settings.templates_dir,
            uploads_dir=settings.data_dir / "templates",
            soffice=settings.soffice,
            limits=ZipLimits(max_entries=settings.max_zip_entries, max_inflated_bytes=settings.max_zip_inflated_bytes),
            max_document_bytes=settings.max_document_bytes,
            budgets=TemplateBudgets.from_settings(settings),
            pdf_check_at_upload=settings.pdf_check_at_upload,
        )

    def dependencies(self) -> dict[str, Provide]:
        """One provider per service, read at each request (a test may swap a service after start)."""
        return {
            "services": Provide(lambda: self, sync_to_thread=False),
            "settings": Provide(lambda: self.settings, sync_to_thread=False),
            "inference": Provide(lambda: self.inference, sync_to_thread=False),
            "templates": Provide(lambda: self.templates, sync_to_thread=False),
            "actions": Provide(lambda: self.actions, sync_to_thread=False),
            "reference_book": Provide(lambda: self.reference_book, sync_to_thread=False),
            "ledger": Provide(lambda: self.ledger, sync_to_thread=False),
            "search": Provide(lambda: self.search, sync_to_thread=False),
            "speech": Provide(lambda: self.speech, sync_to_thread=False),
        }


class LanguageTools:
    """What /health shows for the text routes: Apertium's pairs and the size of the jargon lexicon."""

    def __init__(self, data_dir) -> None:
        self.data_dir = data_dir
        self.warm = False  # loaded at start (settings.warm_up), else as requests need them

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "loaded_at_start": self.warm,
            "apertium": sorted(f"{a}-{b}" for a, b in apertium.pairs()),
            "jargon_terms": len(lexicon.for_data_dir(self.data_dir)),
        }
