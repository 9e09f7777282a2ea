"""Prometheus metrics of the clinic server (issue 16, point 2), served at ``/metrics``.

Per-process counters and histograms (requests, latency, signed-call refusals, sync batches) use prometheus_client;
under gunicorn with several workers set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, wiped at start) so that
every worker's samples are summed. What belongs to the whole deployment is read at scrape time instead: the Celery
queue depth and task counters from Redis (the workers count there, see ``celery_signals``), devices online and
silent from PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import redis
from django.conf import settings
from django.db.models import Count, Q
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from server.celery import app
from server.devices.models import Device

REQUESTS = Counter("myna_http_requests", "HTTP requests answered, by route pattern, method and status.",
                   ["route", "method", "status"])
LATENCY = Histogram(
    "myna_http_request_duration_seconds", "Time from the request reaching Django to its response, by route.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
API_ERRORS = Counter("myna_api_errors", "Error envelopes answered by the API, by error code.", ["code", "status"])
SIGNED_CALL_REFUSALS = Counter(
    "myna_signed_call_refusals", "Signed device calls refused (signature, nonce, clock, unknown or retired device).",
    ["code"],
)
SYNC_BATCHES = Counter("myna_sync_batches", "Result batches received from terminals (S06).")
SYNC_RESULTS = Counter("myna_sync_results", "Results in received batches, by outcome (stored, duplicate, rejected).",
                       ["outcome"])

# Error codes of a refused signed call: the signature layer (contracts.signing) and a device out of service.
SIGNED_REFUSAL_CODES = frozenset({
    "signature_required", "unknown_device", "bad_signature", "clock_skew", "bad_content_digest", "replayed_request",
    "device_retired", "device_deregistered",
})

CELERY_COUNTS_KEY = "myna:metrics:celery-tasks"
# kombu's Redis transport keeps one list per queue and priority step; step 0 is the queue's own name.
_KOMBU_PRIORITY_SEPARATOR = "\x06\x16"
_KOMBU_PRIORITY_STEPS = (0, 3, 6, 9)


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def count_signed_refusal(code: str) -> None:
    if code in SIGNED_REFUSAL_CODES:
        SIGNED_CALL_REFUSALS.labels(code).inc()


def count_sync_batch(outcomes: dict[str, int]) -> None:
    SYNC_BATCHES.inc()
    for outcome, count in outcomes.items():
        if count:
            SYNC_RESULTS.labels(outcome).inc(count)


def queue_names() -> list[str]:
    return sorted(app.amqp.queues.keys()) or [app.conf.task_default_queue]


class DeploymentCollector(Collector):
    """Samples that are the same whichever process is scraped: Celery (from Redis) and devices (from PostgreSQL)."""

    def collect(self) -> Iterator:
        yield from self._devices()
        if settings.REDIS_URL:
            yield from self._celery()

    def _devices(self) -> Iterator:
        counts = Device.objects.filter(status=Device.STATUS_ACTIVE).aggregate(
            online=Count("id", filter=Q(last_seen_at__isnull=False, offline_since__isnull=True)),
            total=Count("id"),
        )
        gauge = GaugeMetricFamily("myna_devices", "Active (registered, not retired) devices by state.", labels=["state"])
        gauge.add_metric(["online"], counts["online"])
        gauge.add_metric(["silent"], counts["total"] - counts["online"])
        yield gauge

    def _celery(self) -> Iterator:
        client = redis_client()
        try:
            depth = GaugeMetricFamily("myna_celery_queue_depth", "Messages waiting in a Celery queue.",
                                      labels=["queue"])
            for queue in queue_names():
                keys = [queue if step == 0 else f"{queue}{_KOMBU_PRIORITY_SEPARATOR}{step}"
                        for step in _KOMBU_PRIORITY_STEPS]
                pipe = client.pipeline(transaction=False)
                for key in keys:
                    pipe.llen(key)
                depth.add_metric([queue], sum(pipe.execute()))
            yield depth
            tasks = CounterMetricFamily("myna_celery_tasks", "Celery tasks finished by every worker, by task and "
                                        "state (succeeded, failed, retried).", labels=["task", "state"])
            for field, value in sorted(client.hgetall(CELERY_COUNTS_KEY).items()):
                task, _, state = field.decode().rpartition("|")
                tasks.add_metric([task, state], int(value))
            yield tasks
        finally:
            client.close()


_DEPLOYMENT = CollectorRegistry(auto_describe=False)
_DEPLOYMENT.register(DeploymentCollector())


def exposition() -> bytes:
    """The text of ``/metrics``: this process's (or all gunicorn workers') samples, then the deployment's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_DEPLOYMENT)
