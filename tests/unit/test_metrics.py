"""/metrics: Prometheus text, token-protected, counting jobs, spend, queues and provider calls."""

from decimal import Decimal

import pytest

from generation.metrics import PROVIDER_KEY, _redis, record_provider_call
from generation.models import GenerationJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = "metrics-secret-123"
    _redis().delete(PROVIDER_KEY)
    yield "metrics-secret-123"
    _redis().delete(PROVIDER_KEY)


def test_metrics_hidden_without_or_with_wrong_token(client, metrics_token):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 404


def test_metrics_off_when_no_token_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_report_jobs_spend_and_provider_calls(client, metrics_token, user):
    GenerationJob.objects.create(
        owner=user, model_id="hailuo", provider="fal", prompt="a", status="running"
    )
    GenerationJob.objects.create(
        owner=user,
        model_id="hailuo",
        provider="fal",
        prompt="b",
        status="succeeded",
        estimated_cost=Decimal("0.27"),
        actual_cost=Decimal("0.27"),
    )
    record_provider_call(provider="fal", op="status", latency_ms=250, error_code=None)
    record_provider_call(provider="fal", op="status", latency_ms=750, error_code="timeout")

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'cutroom_generation_jobs{provider="fal",status="running"} 1.0' in text
    assert 'cutroom_generation_jobs{provider="fal",status="succeeded"} 1.0' in text
    assert 'cutroom_generation_spend_usd_total{model="hailuo"} 0.27' in text
    assert 'cutroom_provider_calls_total{op="status",outcome="ok",provider="fal"} 1.0' in text
    assert 'cutroom_provider_calls_total{op="status",outcome="timeout",provider="fal"} 1.0' in text
    assert 'cutroom_provider_call_seconds_total{op="status",provider="fal"} 1.0' in text
    assert 'cutroom_celery_queue_depth{queue="default"}' in text
