"""Helpers for the job unit tests: a scripted provider (registered by the `fake_provider`
fixture in tests/unit/conftest.py) and a recorder of enqueued tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from generation.models import GenerationJob
from generation.providers.base import (
    CancelOutcome,
    Provider,
    ProviderError,
    ResultInfo,
    State,
    StatusReport,
    Submission,
)


@dataclass
class ScriptedProvider(Provider):
    """Answers from queues of scripted results; an exception instance is raised."""

    name: str = "fal"
    submits: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    results: list = field(default_factory=list)
    reconciles: list = field(default_factory=list)
    cancels: list = field(default_factory=list)
    calls: list = field(default_factory=list)

    def _next(self, queue, default):
        value = queue.pop(0) if queue else default
        if isinstance(value, Exception):
            raise value
        return value

    def submit(self, request):
        self.calls.append(("submit", request.job_id))
        return self._next(self.submits, Submission(f"req-{request.job_id}", {"u": "x"}))

    def status(self, submission):
        self.calls.append(("status", submission.request_id))
        return self._next(self.statuses, StatusReport(State.IN_QUEUE, queue_position=3))

    def result(self, submission):
        self.calls.append(("result", submission.request_id))
        return self._next(self.results, ResultInfo(url="http://127.0.0.1:1/never"))

    def cancel(self, submission):
        self.calls.append(("cancel", submission.request_id))
        return self._next(self.cancels, CancelOutcome.REQUESTED)

    def reconcile(self, request):
        self.calls.append(("reconcile", request.job_id))
        return self._next(self.reconciles, None)

    def count(self, op: str) -> int:
        return sum(1 for name, _ in self.calls if name == op)


@pytest.fixture
def enqueued(monkeypatch):
    """Record generation tasks instead of sending them to the broker."""
    from generation import tasks

    sent: list[tuple[str, tuple, float]] = []

    def recorder(name):
        def apply_async(args=(), kwargs=None, countdown=0, **_):
            sent.append((name, tuple(args), countdown or 0))

        def delay(*args, **kwargs):
            sent.append((name, args, 0))

        return apply_async, delay

    for name in ("submit", "poll", "finalize", "render_local", "cancel", "sweep"):
        apply_async, delay = recorder(name)
        task = getattr(tasks, name)
        monkeypatch.setattr(task, "apply_async", apply_async)
        monkeypatch.setattr(task, "delay", delay)
        monkeypatch.setattr(task, "delay_on_commit", lambda *a, _d=delay, **k: _on_commit(_d, a))
    return sent


def _on_commit(delay, args):
    from django.db import transaction

    transaction.on_commit(lambda: delay(*args))


def make_job(user, **fields) -> GenerationJob:
    defaults = {
        "model_id": "hailuo",
        "provider": "fal",
        "prompt": "a red fox in snow",
        "params": {"duration": 6, "resolution": "768P", "aspect_ratio": "16:9", "audio": False},
        "estimated_cost": Decimal("0.27"),
    }
    defaults.update(fields)
    return GenerationJob.objects.create(owner=user, **defaults)


def provider_error(code: str, **kwargs) -> ProviderError:
    return ProviderError(code, f"scripted {code}", **kwargs)
