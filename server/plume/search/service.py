"""The search service: collections, the index and the embedders, built once from the settings by
`build_search_service`; used by the API (api/search.py), the CLI (cli/search.py) and the evaluation.

A search runs BM25 (French or German analysis, per collection) and each embedder over the
collections the caller may read, fuses the rankings (fusion.py) and returns hits with their exact
citation. A collection the caller may not read is treated exactly as an unknown one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path

import msgspec

from plume.config import Settings
from plume.inference.embeddings import Embedder
from plume.search import lexical
from plume.search.collections import Collection, load_collections
from plume.search.dense import embed_queries, embedders_for
from plume.search.fusion import fuse
from plume.search.index import IndexReport, Progress, files_of, index_collection, read_isolated
from plume.search.readers import SUFFIXES, Unreadable
from plume.search.passages import SEPARATOR
from plume.search.stores import Store, StoredPassage, open_store
from plume.security.safezip import ZipLimits

CANDIDATES = 50          # per method, before fusion
MAX_K = 50
BM25 = "bm25"
FILE_NAME = re.compile(r"[\w][\w .,'()+-]{0,120}\Z")


class Hit(msgspec.Struct, kw_only=True):
    collection: str
    document: str            # path of the file inside the collection
    title: str
    heading: str             # « Chapitre II › Art. 12 Montant »
    locator: str | None      # « art. 12 », « art. 12 al. 2–3 », or None outside articles
    page: int | None
    text: str
    score: float             # fused rank score, 1.0 = first for every method
    similarity: float        # cosine of the first embedder (0 when it did not rank the passage)
    # What « Insérer la citation » writes, the same in both sidebars (docs/search.md): the reference
    # « Règlement …, art. 4 al. 2 » and the passage quoted with it.
    reference: str = ""
    quotation: str = ""


def reference_of(title: str, heading: str, locator: str | None, page: int | None, document: str) -> str:
    """« Règlement sur la détention des chiens, art. 4 al. 2 » (« , p. 3 » for a PDF); outside articles
    the last heading names the place (« Questions fréquentes, Quand le guichet est-il ouvert ? »)."""
    place = locator or (heading.split(SEPARATOR)[-1].strip() if heading else "")
    parts = [title.strip() or document, place, f"p. {page}" if page else ""]
    return ", ".join(part for part in parts if part)


def quotation_of(text: str, reference: str) -> str:
    return f"« {text.strip()} » ({reference})"


class CollectionInfo(msgspec.Struct, kw_only=True):
    id: str
    title: str
    documents: int
    passages: int


class UnknownCollection(LookupError):
    """Unknown, or not readable by this person: the same to her."""


class InvalidDocument(ValueError):
    """An admin's upload that cannot be added (French, no content)."""


class SearchService:
    def __init__(self, collections_file: Path | None, store: Store, embedders: Sequence[Embedder],
                 max_bytes: int, limits: ZipLimits, weights: dict[str, float] | None = None) -> None:
        self.collections_file = collections_file
        self.store = store
        self.embedders = list(embedders)
        self.max_bytes = max_bytes
        self.limits = limits
        self.weights = weights or {}
        self._collections: dict[str, Collection] = {}
        self._mtime: float | None = None
        self._lock = threading.Lock()
        self.collections()

    # -- collections --------------------------------------------------------------------------------------------

    def collections(self) -> dict[str, Collection]:
        """The collections file as it is now: IT may edit it while the server runs."""
        if self.collections_file is None:
            return {}
        with self._lock:
            mtime = self.collections_file.stat().st_mtime if self.collections_file.exists() else None
            if mtime != self._mtime:
                self._collections = load_collections(self.collections_file) if mtime is not None else {}
                self._mtime = mtime
            return self._collections

    def readable(self, role: str, name: str | None, ids: Sequence[str] | None = None) -> list[Collection]:
        """The collections this person may read; `ids`: only these, any unknown or forbidden one raising."""
        every = self.collections()
        allowed = [c for c in every.values() if c.readable_by(role, name)]
        if ids is None:
            return allowed
        by_id = {c.id: c for c in allowed}
        if missing := [i for i in ids if i not in by_id]:
            raise UnknownCollection(missing[0])
        return [by_id[i] for i in dict.fromkeys(ids)]

    def listing(self, role: str, name: str | None) -> list[CollectionInfo]:
        counts = self.store.counts()
        return [CollectionInfo(id=c.id, title=c.title, documents=counts.get(c.id, (0, 0))[0],
                               passages=counts.get(c.id, (0, 0))[1]) for c in self.readable(role, name)]

    # -- searching ----------------------------------------------------------------------------------------------

    def search(self, query: str, collections: Sequence[Collection], k: int = 5,
               methods: Sequence[str] | None = None) -> list[Hit]:
        """Hits over `collections` (already checked for the caller), best first. `methods`: a subset of
        "bm25" and the embedder ids (the evaluation compares them); default all."""
        return self.hits(self.rankings(query, collections, methods), k)

    def hits(self, rankings: dict[str, list[tuple[int, float]]], k: int) -> list[Hit]:
        """The fused top `k` of `rankings` (method → [(passage id, score)]), with their citations."""
        fused = fuse(rankings, self.weights)[:min(k, MAX_K)]
        stored = self.store.passages([pid for pid, _ in fused])
        # Cosines of different embedders live on different scales (e5's cluster near 0.85, USE's near
        # 0.3): `similarity` is the first configured embedder's, so a threshold means one thing.
        primary = next((e.id for e in self.embedders if e.id in rankings), None)
        similarity = dict(rankings.get(primary, []))
        return [self.hit(p, score, similarity.get(pid, 0.0)) for pid, score in fused if (p := stored.get(pid)) is not None]

    @staticmethod
    def hit(p: StoredPassage, score: float = 0.0, similarity: float = 0.0) -> Hit:
        reference = reference_of(p.title, p.heading, p.locator, p.page, p.document)
        return Hit(collection=p.collection, document=p.document, title=p.title, heading=p.heading, locator=p.locator,
                   page=p.page, text=p.text, score=round(score, 4), similarity=round(similarity, 4),
                   reference=reference, quotation=quotation_of(p.text, reference))

    def document(self, collection: Collection, name: str) -> list[Hit]:
        """The passages of one document of `collection` (already checked for the caller), in order."""
        return [self.hit(p) for p in self.store.document_passages(collection.id, name)]

    def rankings(self, query: str, collections: Sequence[Collection],
                 methods: Sequence[str] | None = None) -> dict[str, list[tuple[int, float]]]:
        ids = [c.id for c in collections]
        wanted = set(methods) if methods is not None else {BM25, *(e.id for e in self.embedders)}
        rankings: dict[str, list[tuple[int, float]]] = {}
        if BM25 in wanted:
            rankings[BM25] = self._lexical(query, collections)
        # One method after the other: run side by side in threads they were no faster on 2 busy
        # cores (measured: p50 142 against 148 ms at 100,000 passages, 68 against 62 at 10,000).
        for embedder in self.embedders:
            if embedder.id in wanted:
                vector = embed_queries(embedder, [query])[0]
                rankings[embedder.id] = self.store.dense(embedder.id, vector, ids, CANDIDATES)
        return rankings

    def _lexical(self, query: str, collections: Sequence[Collection]) -> list[tuple[int, float]]:
        by_language: dict[str, list[str]] = {}
        for collection in collections:
            by_language.setdefault(collection.language, []).append(collection.id)
        found: list[tuple[int, float]] = []
        for language, ids in by_language.items():
            found += self.store.lexical(lexical.query_terms(query, language), ids, CANDIDATES)
        return sorted(found, key=lambda pair: -pair[1])[:CANDIDATES]

    # -- indexing -----------------------------------------------------------------------------------------------

    def index(self, ids: Sequence[str] | None = None, progress: Progress | None = None,
              on_collection=None) -> list[IndexReport]:
        """Bring the index up to date with the folders (all collections, or `ids`). A full run also drops
        what the index holds of collections no longer in the file."""
        every = self.collections()
        if ids is None:
            self.store.drop_collections_except(list(every))
        reports = []
        for collection in (every.values() if ids is None else [every[i] for i in ids]):
            if on_collection:
                on_collection(collection)
            reports.append(index_collection(collection, self.store, self.embedders, self.max_bytes, self.limits,
                                            progress))
        return reports

    def add_document(self, collection: Collection, file_name: str, data: bytes) -> IndexReport:
        """An admin's upload: read first from a hidden file beside its place (never indexed as such), so
        an unreadable upload changes nothing; then moved into place and indexed alone."""
        import os
        import tempfile

        if not FILE_NAME.fullmatch(file_name) or Path(file_name).suffix.lower() not in SUFFIXES:
            raise InvalidDocument("Nom de fichier invalide : lettres, chiffres, espaces et « .,'()+- », avec une "
                                  f"extension parmi {', '.join(SUFFIXES)}.")
        if len(data) > self.max_bytes:
            raise InvalidDocument("Le document dépasse la taille autorisée.")
        collection.path.mkdir(parents=True, exist_ok=True)
        fd, staging = tempfile.mkstemp(dir=collection.path, prefix=".upload-", suffix=Path(file_name).suffix.lower())
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                read_isolated(Path(staging), self.max_bytes, self.limits)
            except Unreadable as exc:
                raise InvalidDocument(f"Le document n'a pas pu être lu : {exc}. Il n'a pas été ajouté.") from None
            os.replace(staging, collection.path / file_name)
        finally:
            Path(staging).unlink(missing_ok=True)
        return index_collection(collection, self.store, self.embedders, self.max_bytes, self.limits,
                                only=[file_name])

    def delete_document(self, collection: Collection, file_name: str) -> bool:
        path = files_of(collection.path).get(file_name)
        if path is None:
            return False
        path.unlink()
        index_collection(collection, self.store, self.embedders, self.max_bytes, self.limits, only=[file_name])
        return True


def build_search_service(settings: Settings) -> SearchService:
    """The one place the search service is put together from the settings."""
    store = open_store(settings.search_database, settings.data_dir)
    embedders = embedders_for(settings.search_embedders, settings.models_file)
    limits = ZipLimits(max_entries=settings.max_zip_entries, max_inflated_bytes=settings.max_zip_inflated_bytes)
    return SearchService(settings.collections_file, store, embedders, settings.max_document_bytes, limits,
                         weights=dict(settings.search_weights))


NOT_CONFIGURED = ("La recherche n'est pas configurée sur ce serveur : le service informatique peut déclarer les "
                  "collections de documents (docs/search.md).")
BROKEN = ("La recherche est momentanément indisponible : l'index ou le fichier des collections n'a pas pu être "
          "ouvert. Le service informatique peut consulter le journal du serveur.")
NO_SEARCH = ("La recherche dans les documents de la commune n'est pas disponible : aucune collection ne vous est "
             "ouverte sur ce serveur. Le service informatique peut en déclarer.")
NO_SEARCH_DE = ("Die Suche in den Dokumenten der Gemeinde ist nicht verfügbar: Auf diesem Server ist Ihnen keine "
                "Sammlung freigegeben. Die Informatik kann welche einrichten.")


def search_capability(service: SearchService | None, role: str, user: str | None) -> dict:
    """What GET /v1/capabilities says of search for this person: available when she may read at least
    one collection (the count only: a collection she may not read is never hinted at)."""
    readable = service.readable(role, user) if service is not None else []
    available = bool(readable)
    return {"available": available,
            "engines": ["bm25", *(e.id for e in service.embedders)] if service is not None else [],
            "reason": None if available else NO_SEARCH, "reason_de": None if available else NO_SEARCH_DE,
            "collections": len(readable)}
