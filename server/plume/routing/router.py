"""Which service handles a mail: everything Plume has, in order of trust, and which one decided.

1. rules: a sender, domain or phrase IT pinned (services.toml), and probable phishing (the
   rules keep the last word there), certain;
2. learned: the classifier learned from the clerks' own sorting, when it is sure enough;
3. directory, sure: with no learning and no keyword of the rules file, the service whose duties and
   typical subjects are clearly closest to the mail (it routes far better than the model: docs/triage.md);
4. model: the model's choice (it read the directory in its prompt), when one answered;
5. learned, unsure: its best guess, shown « à confirmer » (once the commune's sorting is learned, it
   knows better than keywords: measured on the held-out mails);
6. rules: a keyword of the rules file (triage_rules.toml) for a service, with no learning;
7. directory, unsure: its best guess, « à confirmer »;
8. default: the rules file's default service, when nothing speaks for any.

Under the directory's `confirm_below`, the service is shown « à confirmer », never as a certainty.
The mail's embedding is CPU work: callers run `route` off the event loop.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plume.errors import Misconfigured
from plume.inference.embeddings import Embedder, bundled_embedder
from plume.mail.parse import MailMessage
from plume.routing import store
from plume.routing.classifier import DirectoryScorer, LearnedRouter, Statistics, solve
from plume.routing.directory import Directory, DirectoryError, directory_path, load_directory, pinned
from plume.routing.features import enough_words, routing_text
from plume.tasks.triage import Rules, Service, TriageResult

DIRECTORY_TEMPERATURE = 0.02  # fitted on the generated training mails; learning refits it on the commune's
SIMILARITY_FLOOR = 0.08       # below, the mail resembles no service at all (held-out mails: 0.14 and more)
DECIDERS = ("rules", "learned", "directory", "model", "default")
TO_CONFIRM = "service à confirmer"
log = logging.getLogger("plume.routing")


@dataclass
class Evidence:
    directory: np.ndarray | None       # probabilities over directory.names
    learned: np.ndarray | None
    similarity: float = 0.0            # best raw similarity to a description

    @property
    def best(self) -> np.ndarray | None:
        return self.learned if self.learned is not None else self.directory


class Router:
    def __init__(self, directory: Directory, embedder: Embedder, learned: store.Learned | None = None) -> None:
        self.directory, self.embedder = directory, embedder
        usable = learned if learned is not None and learned.embedder == embedder.id else None
        self.scorer = directory_scorer(directory, embedder,
                                       usable.directory_temperature if usable else DIRECTORY_TEMPERATURE)
        self.learned = _learned_router(usable, directory, self.scorer) if usable else None

    def prompt_text(self) -> str:
        """The directory as the model reads it in its prompt (constrained to these services)."""
        return self.directory.prompt_text()

    def rules_with_services(self, rules: Rules) -> Rules:
        return with_directory_services(rules, self.directory)

    def evidence(self, mail: MailMessage) -> Evidence:
        text = routing_text(mail)
        if not enough_words(text):  # a broken message, a bare « Bonjour »: no evidence for any service
            return Evidence(None, None)
        x = self.embedder.embed([text])
        similarity = float(self.scorer.scores(x).max())
        learned = self.learned.probabilities(x)[0] if self.learned else None
        return Evidence(self.scorer.probabilities(x)[0], learned, similarity)

    def route(self, mail: MailMessage, result: TriageResult, rules: Rules) -> TriageResult:
        """Sets the result's service, service_confidence and decided_by, and says why in its reasons."""
        service, confidence, decided_by, why = self._decide(mail, result, rules)
        confidence = round(confidence, 3)  # the figure shown is the one the reasons quote
        # The reasons explain the service shown, and only it; the model's own line (which says what
        # the rules proposed) stays when the model decided.
        kept = f"service « {service} » choisi par le modèle" if decided_by == "model" else None
        reasons = [r for r in result.reasons if not r.startswith(("service « ", "service par défaut"))
                   or (kept and r.startswith(kept))]
        if not any(r.startswith(f"service « {service} »") for r in reasons):
            reasons.append(f"service « {service} » {why} (confiance {confidence:.0%})".replace("  ", " "))
        if confidence < self.directory.confirm_below:
            reasons.append(f"{TO_CONFIRM} : confiance {confidence:.0%}, sous le seuil de "
                           f"{self.directory.confirm_below:.0%}")
        result.service, result.service_confidence, result.decided_by = service, confidence, decided_by
        result.reasons = reasons
        return result

    def _decide(self, mail: MailMessage, result: TriageResult, rules: Rules) -> tuple[str, float, str, str]:
        if result.phishing and result.category == rules.phishing.category:
            return result.service, 1.0, "rules", "selon la règle d'hameçonnage"
        if pin := pinned(self.directory, mail):
            return pin[0], 1.0, "rules", f": {pin[1]}"
        evidence = self.evidence(mail)
        names, sure = self.directory.names, self.directory.confirm_below

        def support(name: str) -> float:
            """How much the learning (else the directory) speaks for `name`."""
            return float(evidence.best[names.index(name)]) if evidence.best is not None and name in names else 0.0

        if evidence.learned is not None and evidence.learned.max() >= sure:
            top = names[int(evidence.learned.argmax())]
            return top, float(evidence.learned.max()), "learned", "appris du tri des employés"
        # The directory, when it is sure, before the model: on the held-out mails the directory alone
        # routes 83 % right and the reference model 25 % (docs/triage.md); the model's choice stands
        # where the directory hesitates. A keyword of the rules file (IT's words) keeps its place.
        if evidence.learned is None and result.decided_by != "rules" and evidence.directory is not None \
                and evidence.similarity >= SIMILARITY_FLOOR and evidence.directory.max() >= sure:
            top = names[int(evidence.directory.argmax())]
            return top, float(evidence.directory.max()), "directory", "selon l'annuaire des services"
        if result.decided_by == "model":
            return result.service, support(result.service), "model", "choisi par le modèle"
        if evidence.learned is not None:  # unsure, but the commune's own sorting knows better than keywords
            top = names[int(evidence.learned.argmax())]
            return top, float(evidence.learned.max()), "learned", "appris du tri des employés"
        if result.decided_by == "rules":  # a keyword of the rules file
            words = next((r.split(" : ", 1)[1] for r in result.reasons
                          if r.startswith(f"service « {result.service} » : ")), "")
            return result.service, 0.5 + 0.5 * support(result.service), "rules", f": {words}".rstrip(": ")
        if evidence.directory is not None and evidence.similarity >= SIMILARITY_FLOOR:
            top = names[int(evidence.directory.argmax())]
            return top, float(evidence.directory.max()), "directory", "selon l'annuaire des services"
        return rules.default_service, 0.0, "default", "par défaut (rien ne désigne un service)"


# ------------------------------------------------------------------------------------ building
def directory_scorer(directory: Directory, embedder: Embedder, temperature: float,
                     services: list[str] | None = None) -> DirectoryScorer:
    """The directory's descriptions embedded once per directory and embedder (cached; the shipped
    directory's come with Plume), scored over `services` (default: the directory's; a service it
    does not describe scores -1)."""
    services = services or directory.names
    descriptions = [(name, text) for name, text in directory.descriptions() if name in services]
    key = descriptions_key(embedder.id, descriptions)
    with _lock:
        vectors = _description_vectors.get(key)
    if vectors is None:
        vectors = _shipped_vectors(key)
        if vectors is None:
            vectors = embedder.embed([text for _, text in descriptions])
        with _lock:
            while len(_description_vectors) >= 4:  # a few directories at most: an edit replaces the oldest
                _description_vectors.pop(next(iter(_description_vectors)))
            _description_vectors[key] = vectors
    owner = np.array([services.index(name) for name, _ in descriptions])
    return DirectoryScorer(list(services), vectors, owner, temperature)


_lock = threading.Lock()
_description_vectors: dict[bytes, np.ndarray] = {}
SHIPPED_VECTORS = Path(__file__).parent / "data" / "services.vectors.npz"  # scripts/directory-vectors.py


def descriptions_key(embedder_id: str, descriptions: list[tuple[str, str]]) -> bytes:
    return hashlib.sha256(json.dumps([embedder_id, descriptions], ensure_ascii=False).encode("utf-8")).digest()


def _shipped_vectors(key: bytes) -> np.ndarray | None:
    """The shipped directory's vectors, computed when it was written (saves a second or two at
    each start), when they are those of these very descriptions and embedder."""
    try:
        with np.load(SHIPPED_VECTORS, allow_pickle=False) as archive:
            return archive["vectors"] if archive["key"].tobytes() == key else None
    except (FileNotFoundError, KeyError, ValueError):
        return None


def _learned_router(learned: store.Learned, directory: Directory, scorer: DirectoryScorer) -> LearnedRouter | None:
    """The learned statistics in the directory's order of services (services it no longer lists
    are left out; services it added since have none)."""
    rows = [learned.services.index(n) if n in learned.services else -1 for n in directory.names]
    weights = np.array([learned.stats.weights[r] if r >= 0 else 0.0 for r in rows])
    if not (weights > 0).any():
        return None
    dimension = learned.stats.gram.shape[0]
    sums = np.array([learned.stats.sums[r] if r >= 0 else np.zeros(dimension) for r in rows])
    stats = Statistics(weights, sums, learned.stats.gram)
    return LearnedRouter(solve(stats, learned.alpha), learned.temperature, scorer, weights > 0)


def router_for(data_dir: Path, embedder: Embedder | None = None) -> Router:
    """The router of this data folder: its directory and its learning, reread when either file
    changes (IT edits services.toml, `plume triage learn` runs) without a restart."""
    embedder = embedder or bundled_embedder()
    directory_file, learned_file = directory_path(data_dir), store.path_in(data_dir)
    key = (str(directory_file), _mtime(directory_file), str(learned_file), _mtime(learned_file), embedder.id)
    with _lock:
        cached = _routers.get(str(data_dir))
    if cached is not None and cached[0] == key:
        return cached[1]
    router = Router(load_directory(directory_file), embedder, store.load(learned_file))
    with _lock:
        _routers[str(data_dir)] = (key, router)
    return router


_routers: dict[str, tuple[tuple, Router]] = {}


class DirectoryUnreadable(Misconfigured):
    code = "triage-directory"


class Routing:
    """The triage's routing service for one data folder (a field of plume.services.Services): the
    router as the files are now. Loading embeds the directory: call `router` off the event loop."""

    def __init__(self, data_dir: Path, embedder: Embedder | None = None) -> None:
        self.data_dir, self.embedder = data_dir, embedder

    def router(self) -> Router:
        try:
            return router_for(self.data_dir, self.embedder)
        except DirectoryError as exc:  # its message names the file: for IT's log, not for the clerk
            log.error("annuaire des services illisible : %s", exc)
            raise DirectoryUnreadable("L'annuaire des services de la commune (services.toml) est invalide. Le "
                                      "service informatique peut le vérifier avec « plume triage learn --check ».") \
                from None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def to_confirm(result: TriageResult) -> bool:
    """The router was not sure of the service (its reasons say « service à confirmer »)."""
    return any(r.startswith(TO_CONFIRM) for r in result.reasons)


def routed(classify: Callable[[MailMessage, Rules], TriageResult], data_dir: Path,
           ) -> Callable[[MailMessage, Rules], TriageResult]:
    """The mailbox worker's classifier, followed by the router of its data folder. A directory that
    cannot be read leaves the classifier's service (and says so in the log, once per edit)."""
    def classify_and_route(mail: MailMessage, rules: Rules) -> TriageResult:
        try:
            router = router_for(data_dir)
        except DirectoryError as exc:
            if str(exc) not in _warned:
                _warned.add(str(exc))
                log.warning("annuaire des services illisible, tri sans routage : %s", exc)
            return classify(mail, rules)
        rules = with_directory_services(rules, router.directory)
        return router.route(mail, classify(mail, rules), rules)

    return classify_and_route


_warned: set[str] = set()


def with_directory_services(rules: Rules, directory: Directory) -> Rules:
    """The rules with every service of the directory (a service the rules file lacks gets its title
    from the directory), so the model's list, the keywords and the acknowledgements know it."""
    missing = [s for s in directory.services if rules.service(s.name) is None]
    if not missing:
        return rules
    import msgspec

    return msgspec.structs.replace(rules, services=rules.services + [Service(name=s.name, title=s.title or s.name)
                                                                     for s in missing])
