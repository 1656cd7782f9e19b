"""Prometheus metrics, one registry per app."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """Requests by route and status, latency, pairs and tokens scored, batches, queue, cache."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rerankd_requests", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "rerankd_request_duration_seconds", "HTTP request latency", ["route"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.pairs = Counter("rerankd_pairs_scored", "pairs run through the model",
                             registry=self.registry)
        self.tokens = Counter("rerankd_tokens_scored", "prompt tokens run through the model",
                              registry=self.registry)
        self.batch_size = Histogram("rerankd_batch_size", "pairs per model batch",
                                    buckets=BATCH_BUCKETS, registry=self.registry)
        self.queue_depth = Gauge("rerankd_queue_depth", "pairs waiting for the model",
                                 registry=self.registry)
        self.cache_hits = Counter("rerankd_cache_hits", "pairs answered from the score cache",
                                  registry=self.registry)
        self.cache_misses = Counter("rerankd_cache_misses", "pairs not in the score cache",
                                    registry=self.registry)

    # EngineObserver
    def cache_lookups(self, hits: int, misses: int) -> None:
        self.cache_hits.inc(hits)
        self.cache_misses.inc(misses)

    def batch_scored(self, pairs: int, tokens: int) -> None:
        self.pairs.inc(pairs)
        self.tokens.inc(tokens)
        self.batch_size.observe(pairs)

    def track_queue(self, depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(lambda: float(depth()))

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
