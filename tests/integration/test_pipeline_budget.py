"""Concurrent creates cannot overspend: twenty threads (twenty database connections) ask
for a $0.27 job at once against a budget that holds five. Exactly five are accepted and
exactly five estimates are reserved — on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection

from generation.limits import LimitExceeded
from generation.models import GenerationBudget, GenerationJob
from generation.services import job_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_twenty_concurrent_creates_with_budget_for_five(user, settings):
    settings.FAL_KEY = "k"
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("1.35")  # 5 x $0.27
    settings.GENERATION_RATE = "1000/m"
    settings.GENERATION_COOLDOWN_S = 0
    settings.GENERATION_MAX_CONCURRENT = 100
    start = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def create():
        try:
            start.wait(timeout=30)
            job_create(user=user, model_id="hailuo", params={"prompt": "fox", "duration": 6})
            result = "ok"
        except LimitExceeded as exc:
            result = exc.code
        except Exception as exc:  # recorded, so the assertion shows it
            result = f"error: {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    with mock.patch("generation.tasks.submit.delay_on_commit"):
        threads = [threading.Thread(target=create) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert sorted(outcomes) == ["budget"] * 15 + ["ok"] * 5, outcomes
    assert GenerationJob.objects.count() == 5
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("1.35")
