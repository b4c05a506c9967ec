"""Prometheus metrics of the inference core: counts, sizes and durations — never content.

Each app gets its own CollectorRegistry, so several servers (or tests) in one process never mix
their numbers.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)
RATE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.queue_depth = Gauge("plume_queue_depth", "Requêtes en attente d'un moteur", registry=r)
        self.running = Gauge("plume_generations_running", "Générations en cours", ["model"], registry=r)
        self.requests = Counter("plume_inference_requests", "Requêtes d'inférence terminées, par tâche et issue",
                                ["task", "model", "outcome"], registry=r)
        self.tokens = Counter("plume_tokens_generated", "Jetons générés", ["model"], registry=r)
        self.prompt_tokens = Counter("plume_prompt_tokens", "Jetons lus dans les invites", ["model"], registry=r)
        self.rejected = Counter("plume_requests_rejected", "Requêtes refusées avant génération, par motif",
                                ["reason"], registry=r)
        self.latency = Histogram("plume_request_latency_seconds", "Durée d'une requête d'inférence, attente comprise",
                                 ["task"], buckets=LATENCY_BUCKETS, registry=r)
        self.queue_wait = Histogram("plume_queue_wait_seconds", "Attente avant qu'un moteur ne prenne la requête",
                                    buckets=LATENCY_BUCKETS, registry=r)
        self.first_token = Histogram("plume_time_to_first_token_seconds", "Délai jusqu'au premier jeton", ["task"],
                                     buckets=LATENCY_BUCKETS, registry=r)
        self.decode_rate = Histogram("plume_decode_tokens_per_second", "Débit de décodage d'une requête", ["model"],
                                     buckets=RATE_BUCKETS, registry=r)
        self.batch_size = Histogram("plume_batch_size", "Requêtes décodées ensemble", buckets=(1, 2, 4, 8, 16, 32),
                                    registry=r)
        self.throughput = Gauge("plume_tokens_per_second", "Débit total de génération (moyenne glissante, 10 s)",
                                registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
