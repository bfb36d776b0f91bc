"""When the pipeline acts next: poll intervals, retry backoff, leases, and the one place
that enqueues pipeline tasks (always after commit)."""

from __future__ import annotations

import heapq
import random
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from .. import catalog
from ..models import GenerationJob, JobStatus
from ..providers.base import ProviderError


def _catalog_entry(job: GenerationJob):
    return _spec(job.model_id)


def _spec(model_id: str):
    try:
        return catalog.get(model_id)
    except KeyError:
        return None


def model_typical_run_s(model_id: str) -> float:
    spec = _spec(model_id)
    return float(spec.typical_run_s) if spec else 120.0


def typical_run_s(job: GenerationJob) -> float:
    return model_typical_run_s(job.model_id)


def remaining_run_s(*, typical_s: float, elapsed_s: float, progress: float | None) -> float:
    """How long a running job should still take: from its own progress once that means
    something (5 %), else from the model's typical run time."""
    if progress and progress >= 5:
        return max(0.0, elapsed_s * (100.0 - progress) / progress)
    return max(0.0, typical_s - elapsed_s)


def line_eta_s(*, busy_s: Iterable[float], ahead_s: Iterable[float], own_s: float) -> float:
    """Seconds until a job waiting in a line for render slots should be done.

    `busy_s`: what each occupied slot still needs (one entry per slot; an empty list means
    one slot, free now); `ahead_s`: the typical run of each job ahead, in line order;
    `own_s`: this job's own typical run. Each job ahead takes the slot that frees first,
    then this one does: with n equal jobs ahead and c slots that is about
    own × (n / c) + own, the remaining time of the running renders included.
    """
    slots = [max(0.0, float(s)) for s in busy_s] or [0.0]
    heapq.heapify(slots)
    for run_s in ahead_s:
        heapq.heapreplace(slots, slots[0] + max(0.0, float(run_s)))
    return slots[0] + max(0.0, float(own_s))


def hard_limit_s(job: GenerationJob) -> float:
    spec = _catalog_entry(job)
    return float(spec.time_limit_s) if spec else 1800.0


def backoff_s(attempt: int, retry_after: float | None = None) -> float:
    """Capped exponential backoff with jitter ("equal jitter": half fixed, half random, so
    retries spread out but never come back at once). A provider's Retry-After wins when
    it asks for longer."""
    base = settings.GENERATION_RETRY_BASE_S
    cap = settings.GENERATION_RETRY_MAX_S
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    if retry_after:
        delay = max(delay, min(float(retry_after), 3600.0))
    return delay


class Step(StrEnum):
    """The pipeline steps that talk to a provider, each retried by `retry_policy`."""

    SUBMIT = "submit"
    POLL = "poll"
    DOWNLOAD = "download"


@dataclass(frozen=True)
class Retry:
    delay_s: float


def retry_policy(step: Step, exc: ProviderError, *, tries: int) -> Retry | None:
    """The one answer to "this step failed with `exc` on its `tries`-th try (counting this
    one): retry when, or give up (None: the job fails with the error's own code)".

    - An error that retrying cannot fix (auth, invalid input, content policy, an expired
      result link...) is never retried.
    - A submit or a download is tried at most GENERATION_MAX_ATTEMPTS times in all.
    - A status poll is retried without a count: the model's hard time limit ends the job
      instead, so a provider's long outage cannot fail a job that is still running there.
    - The delay is capped exponential backoff with jitter; a provider's Retry-After (a
      429, a 503) wins when it asks for longer.
    """
    if not exc.retryable:
        return None
    if step is not Step.POLL and tries >= settings.GENERATION_MAX_ATTEMPTS:
        return None
    return Retry(delay_s=backoff_s(tries, exc.retry_after))


def poll_interval_s(job: GenerationJob) -> float:
    """Adaptive to the model: a 4-minute model is polled every ~12 s while running, a
    10-second one every second; while queued the interval grows with the time already
    waited (backoff). With a webhook registered, polling is only the safety net."""
    low, high = settings.GENERATION_POLL_MIN_S, settings.GENERATION_POLL_MAX_S
    now = timezone.now()
    if job.status == JobStatus.IN_QUEUE:
        waited = (now - (job.in_queue_at or now)).total_seconds()
        interval = max(low, waited / 4)
    else:
        interval = typical_run_s(job) / 20
    interval = min(high, max(low, interval))
    if job.provider_handle.get("webhook"):
        interval = min(high * 3, interval * 3)
    return interval


def lease_s() -> float:
    return float(settings.GENERATION_LEASE_S)


def claim_lease(job: GenerationJob, *, statuses: tuple[str, ...]) -> bool:
    """Exclusive claim on a long step (submit, render, download) for lease_s seconds;
    False when another worker holds an unexpired claim."""
    now = timezone.now()
    until = now + timedelta(seconds=lease_s())
    claimed = (
        GenerationJob.objects.filter(pk=job.pk, status__in=statuses)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=until, next_poll_at=until, updated_at=now)
    )
    if claimed:
        job.lease_until = job.next_poll_at = until
        # Which worker life holds it: a restart re-dispatches a dead life's jobs at once.
        from .workers import record_claim

        record_claim(job.pk)
    return bool(claimed)


@contextmanager
def lease_heartbeat(job_id: int):
    """Keep extending the lease while a long step runs in this worker (a big download, a
    render), so the sweeper does not hand the job to a second worker. If this worker dies,
    the heartbeat dies with it and the lease lapses."""
    stop = threading.Event()
    period = max(0.5, lease_s() / 3)

    def beat():
        try:
            while not stop.wait(period):
                until = timezone.now() + timedelta(seconds=lease_s())
                GenerationJob.objects.filter(pk=job_id).update(
                    lease_until=until, next_poll_at=until
                )
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"lease-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def release_lease(job: GenerationJob, *, retry_in_s: float | None = None) -> None:
    now = timezone.now()
    next_at = now + timedelta(seconds=retry_in_s) if retry_in_s is not None else None
    GenerationJob.objects.filter(pk=job.pk).update(lease_until=None, next_poll_at=next_at)
    job.lease_until, job.next_poll_at = None, next_at


def schedule_poll(job: GenerationJob, countdown: float) -> bool:
    """Schedule the next poll; the job's poll_seq goes up by one and the task carries the
    new number. Any older poll still in flight sees a stale number and stops, so there is
    only ever one live poll chain per job. False if someone else scheduled first."""
    from .. import tasks

    seq = job.poll_seq
    due = timezone.now() + timedelta(seconds=countdown)
    updated = GenerationJob.objects.filter(pk=job.pk, poll_seq=seq).update(
        poll_seq=seq + 1, next_poll_at=due
    )
    if not updated:
        return False
    job.poll_seq, job.next_poll_at = seq + 1, due
    job_id = job.pk
    transaction.on_commit(
        lambda: tasks.poll.apply_async((job_id, seq + 1), countdown=max(0.0, countdown))
    )
    return True


def enqueue(task, job: GenerationJob, countdown: float = 0) -> None:
    """Send `task` (generation.tasks.submit / finalize / render_local / cancel, the task
    object itself, so a search for the task finds every caller) for `job` after commit:
    a rolled-back step sends nothing. Callers import generation.tasks inside the function
    (tasks import the services, so a module-level import would be a cycle)."""
    job_id = job.pk
    if countdown > 0:
        transaction.on_commit(lambda: task.apply_async((job_id,), countdown=countdown))
    else:
        transaction.on_commit(lambda: task.delay(job_id))


__all__ = [
    "Retry",
    "Step",
    "backoff_s",
    "claim_lease",
    "enqueue",
    "hard_limit_s",
    "lease_heartbeat",
    "lease_s",
    "line_eta_s",
    "model_typical_run_s",
    "poll_interval_s",
    "release_lease",
    "remaining_run_s",
    "retry_policy",
    "schedule_poll",
    "typical_run_s",
]
