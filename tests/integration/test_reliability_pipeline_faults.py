"""Pipeline faults beyond the pipeline's own tests (which cover SIGKILL in the provider
queue and while downloading, 429/503 bursts and a Redis restart): SIGKILL while the job
is still queued and while the provider is running it; a provider outage (every status
call 503) that ends — bounded request rate, then success — and one that outlasts the
model's limit — the timeout sentence and the reservation released."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from generation import tasks
from generation.limits import budget_remaining
from generation.models import GenerationJob, JobStatus
from generation.services import job_create
from media_library.models import MediaItem
from tests.integration.workers import (
    wait_for,
    wait_for_job,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.pipeline(fal_polls=(1, 1)),
    pytest.mark.usefixtures("pipeline_settings"),
]

S = JobStatus
PARAMS = {"prompt": "A lighthouse in a storm, waves breaking", "duration": 6}


def create(user) -> GenerationJob:
    return job_create(user=user, model_id="hailuo", params=PARAMS)


def sweep_until(job, status, *, timeout: float = 40.0):
    last = [0.0]

    def reached():
        job.refresh_from_db()
        if job.status == status:
            return True
        if time.monotonic() - last[0] >= 0.5:
            tasks.sweep.delay()
            last[0] = time.monotonic()
        return False

    wait_for(reached, timeout=timeout, what=f"job {job.pk} -> {status}")
    return job


def exactly_once(job, fal):
    assert fal.count("submits_received") == 1
    assert MediaItem.objects.filter(metadata__job_id=job.pk).count() == 1
    job.refresh_from_db()
    assert job.media_item_id is not None and job.reserved_cost == 0


def test_sigkill_while_queued_the_job_finishes_once_after_restart(user, fal, worker):
    worker.kill()  # no worker: the submit task waits in the broker, the job stays queued
    try:
        job = create(user)
        assert GenerationJob.objects.get(pk=job.pk).status == S.QUEUED
    finally:
        worker.start()
    wait_for_job(job, S.SUCCEEDED, timeout=60)
    exactly_once(job, fal)


def test_sigkill_while_the_provider_runs_it(user, fal, worker):
    fal.queue_polls, fal.running_polls = 0, 10_000
    job = wait_for_job(create(user), S.RUNNING)
    wait_for(lambda: fal.count("status_calls") >= 2, what="polling while running")
    worker.kill()
    fal.complete_now(job.provider_request_id)
    worker.start()
    sweep_until(job, S.SUCCEEDED)
    exactly_once(job, fal)


def test_provider_outage_backs_off_then_completes(user, fal):
    fal.queue_polls = 1
    job = wait_for_job(create(user), S.IN_QUEUE)
    outage = fal.fail("status", "unavailable", times=None)
    before = fal.count("status_calls")
    started = time.monotonic()
    wait_for(lambda: fal.count("status_calls") >= before + 3, what="polls during the outage")
    time.sleep(2.0)  # the outage lasts a while (a duration under test, not a sync)
    with fal.lock:
        fal.faults.remove(outage)
    calls_during = fal.count("status_calls") - before
    seconds = time.monotonic() - started
    job = wait_for_job(job, S.SUCCEEDED, timeout=60)
    exactly_once(job, fal)
    # Backoff, not a storm: with a 0.2 s base and 1 s cap, well under 10 calls a second.
    assert calls_during / seconds < 10, (calls_during, seconds)


def test_provider_down_past_the_limit_fails_with_the_timeout_and_releases_budget(user, fal, worker):
    before = budget_remaining(user)
    fal.queue_polls = 10_000
    job = wait_for_job(create(user), S.IN_QUEUE)
    assert budget_remaining(user) < before  # the estimate is reserved
    fal.fail("status", "unavailable", times=None)
    try:
        # The job has been going for longer than the model allows.
        GenerationJob.objects.filter(pk=job.pk).update(
            created_at=timezone.now() - timedelta(hours=1), next_poll_at=timezone.now()
        )
        # No sweeper call: the job is being polled (with backoff), so the poll itself
        # must notice the limit.
        wait_for_job(job, S.FAILED, timeout=30)
    finally:
        fal.faults.clear()
    job.refresh_from_db()
    assert job.error_code == "timeout"
    assert "took longer than this model's limit" in job.error_message
    assert job.reserved_cost == 0
    assert budget_remaining(user) == before
    assert MediaItem.objects.filter(metadata__job_id=job.pk).count() == 0


def test_sigkill_while_submitting_never_pays_twice(user, fal, worker):
    """The worker dies after the provider accepted the request but before the request id
    was stored (the ambiguous submit). fal cannot look a request up without its id, so the
    pipeline must not resend: the job ends (failed with a plain sentence, as the fal
    adapter decides, or succeeded via a webhook) and the provider saw ONE submission."""
    fal.fail("submit", "accept_then_hang", hang_s=30)
    job = wait_for_job(create(user), S.SUBMITTING)
    wait_for(lambda: fal.count("submits_accepted") >= 1, what="the provider to accept")
    worker.kill()
    worker.start()
    last = [0.0]

    def settled():
        job.refresh_from_db()
        if job.status in (S.FAILED, S.SUCCEEDED):
            return True
        if time.monotonic() - last[0] >= 0.5:
            tasks.sweep.delay()
            last[0] = time.monotonic()
        return False

    wait_for(settled, timeout=90, what="the ambiguous job to settle")
    assert fal.count("submits_received") == 1, "the job was submitted a second time"
    # fal's request listing shows the request the killed worker sent: it is adopted, and
    # the job finishes with the one clip it paid for.
    assert job.status == S.SUCCEEDED, job.error_message
    assert fal.count("request_list_calls") >= 1
    assert MediaItem.objects.filter(metadata__job_id=job.pk).count() == 1
