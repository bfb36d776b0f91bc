"""Prometheus metrics at /metrics: jobs by state, spend, queue depth, provider latency.

Every web node and worker shares the numbers through Redis (provider call counters) and
the database (jobs, spend), so any node answers for the whole deployment. Protected by
a bearer token (METRICS_TOKEN); without one the endpoint is off.
"""

from __future__ import annotations

import hmac
import logging

import redis
from django.conf import settings
from django.db.models import Count, Sum
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily

logger = logging.getLogger(__name__)

PROVIDER_KEY = "cutroom:metrics:provider_calls"
CELERY_QUEUES = ("default", "media")
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
    return _client


def record_provider_call(
    *, provider: str, op: str, latency_ms: int, error_code: str | None
) -> None:
    """Count one provider HTTP call (never fails the caller: metrics are best effort)."""
    outcome = error_code or "ok"
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.hincrby(PROVIDER_KEY, f"count|{provider}|{op}|{outcome}", 1)
        pipe.hincrbyfloat(PROVIDER_KEY, f"seconds|{provider}|{op}", latency_ms / 1000)
        pipe.execute()
    except redis.RedisError:
        logger.debug("could not record provider metrics", exc_info=True)


class CutroomCollector:
    def collect(self):
        from .models import GenerationJob, JobStatus

        jobs = GaugeMetricFamily(
            "cutroom_generation_jobs", "Generation jobs by state", labels=["status", "provider"]
        )
        counts = {
            (row["status"], row["provider"]): row["n"]
            for row in GenerationJob.objects.values("status", "provider").annotate(n=Count("id"))
        }
        for status in JobStatus.values:
            providers = {p for (s, p) in counts if s == status} or {""}
            for provider in providers:
                jobs.add_metric([status, provider], counts.get((status, provider), 0))
        yield jobs

        spend = CounterMetricFamily(
            "cutroom_generation_spend_usd",
            "Spend on generations (actual, else estimate)",
            labels=["model"],
        )
        for row in (
            GenerationJob.objects.filter(status=JobStatus.SUCCEEDED)
            .values("model_id")
            .annotate(actual=Sum("actual_cost"), estimated=Sum("estimated_cost"))
        ):
            spend.add_metric(
                [row["model_id"]],
                float(row["actual"] if row["actual"] is not None else row["estimated"] or 0),
            )
        yield spend

        depth = GaugeMetricFamily(
            "cutroom_celery_queue_depth", "Tasks waiting in each Celery queue", labels=["queue"]
        )
        calls = CounterMetricFamily(
            "cutroom_provider_calls",
            "Provider HTTP calls by outcome",
            labels=["provider", "op", "outcome"],
        )
        latency = CounterMetricFamily(
            "cutroom_provider_call_seconds",
            "Total time spent in provider HTTP calls",
            labels=["provider", "op"],
        )
        try:
            client = _redis()
            for queue in CELERY_QUEUES:
                depth.add_metric([queue], client.llen(queue))
            for field, value in client.hgetall(PROVIDER_KEY).items():
                kind, *labels = field.decode().split("|")
                (calls if kind == "count" else latency).add_metric(labels, float(value))
        except redis.RedisError:
            logger.warning("metrics: Redis unavailable")
        yield depth
        yield calls
        yield latency


@never_cache
@require_GET
def metrics_view(request):
    token = settings.METRICS_TOKEN
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(supplied.encode(), token.encode()):
        raise Http404  # do not advertise the endpoint
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CutroomCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
