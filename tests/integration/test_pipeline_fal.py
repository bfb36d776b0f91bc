"""The pipeline end to end against the fal queue emulator, over real sockets, with a real
Celery worker, real Redis and the real channel layer: the happy path with a websocket
client, every provider fault the issue lists, cancellation, crashes (SIGKILL) and twenty
jobs at once."""

from __future__ import annotations

import re
import time

import pytest
from django.db import transaction

from generation import tasks
from generation.models import GenerationJob, JobStatus
from generation.services import job_cancel, job_create
from generation.services.finalize import EXPIRED, too_large_message
from media_library.models import MediaItem
from tests.integration.workers import (
    wait_for,
    wait_for_job,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    # A 1 MB result cap: the emulator's clip is far smaller, its "big body" is not.
    pytest.mark.pipeline(fal_polls=(2, 2), replicate_polls=(1, 2), GENERATION_MAX_RESULT_MB="1"),
]

S = JobStatus
PARAMS = {"prompt": "A red fox trotting through fresh snow", "duration": 6}


@pytest.fixture(autouse=True)
def _same_settings(settings, pipeline_settings):
    settings.GENERATION_MAX_RESULT_MB = 1  # a number here; the shared settings leave a string


def create(user, **params) -> GenerationJob:
    return job_create(user=user, model_id="hailuo", params={**PARAMS, **params})


def media_files(env) -> list:
    from pathlib import Path

    root = Path(env["MEDIA_ROOT"])
    return [p for p in root.rglob("*") if p.is_file() and "tmp" not in p.parts]


# --- happy path -------------------------------------------------------------------------------


def test_happy_path_lands_a_processed_clip_and_pushes_both_cards(user, live_client, fal):
    tab = live_client(user)
    job = create(user)
    job = wait_for_job(job, S.SUCCEEDED)
    item = job.media_item
    assert item is not None and item.source == "generated"
    assert item.metadata["job_id"] == job.pk and item.metadata["model"] == "hailuo"
    assert item.metadata["prompt"] == PARAMS["prompt"] and item.metadata["cost"] == "0.27"
    wait_for(
        lambda: MediaItem.objects.get(pk=item.pk).status == MediaItem.Status.READY,
        what="media item processed",
    )
    item.refresh_from_db()
    assert item.duration_s and item.width and item.poster

    # The open tab saw the job progress and finish, and the new media card arrive.
    tab.wait_for(lambda m: f'id="job-{job.pk}"' in m and 'data-status="in_queue"' in m)
    tab.wait_for(lambda m: f'id="job-{job.pk}"' in m and 'data-status="running"' in m)
    tab.wait_for(lambda m: f'id="job-{job.pk}"' in m and 'data-status="succeeded"' in m)
    tab.wait_for_text(f'id="media-{item.pk}"')

    assert fal.count("submits_received") == 1
    assert GenerationJob.objects.get(pk=job.pk).provider_request_id in fal.records


def test_queue_position_and_estimated_progress_are_recorded(user, live_client, fal):
    fal.queue_polls, fal.running_polls = 3, 6
    tab = live_client(user)
    job = create(user)
    queued = tab.wait_for(
        lambda m: f'id="job-{job.pk}"' in m and re.search(r"\d(st|nd|rd|th) in line at ", m)
    )
    assert 'data-status="in_queue"' in queued
    message = tab.wait_for(lambda m: f'id="job-{job.pk}"' in m and "(estimated)" in m)
    assert re.search(r"about \d+% \(estimated\)", message)
    wait_for_job(job, S.SUCCEEDED)


def test_happy_path_through_replicate(user, replicate):
    replicate.reset()
    job = job_create(
        user=user,
        model_id="replicate-minimax-video-01",
        params={"prompt": "A paper boat on a stream"},
    )
    job = wait_for_job(job, S.SUCCEEDED)
    assert job.provider == "replicate" and job.media_item is not None
    assert replicate.count("submits_received") == 1
    assert MediaItem.objects.filter(metadata__job_id=job.pk).count() == 1


# --- provider faults ----------------------------------------------------------------------


def test_429_with_retry_after_then_success(user, fal):
    fal.fail("submit", "rate_limited", retry_after=0.5)
    job = wait_for_job(create(user), S.SUCCEEDED)
    assert fal.count("submits_received") == 2 and fal.count("submits_accepted") == 1
    # The wait honoured Retry-After (submitting stamp of the 2nd attempt is >= 0.5 s later).
    assert job.attempts == 2


def test_503_three_times_then_success(user, fal):
    fal.fail("submit", "unavailable", times=3)
    job = wait_for_job(create(user), S.SUCCEEDED)
    assert fal.count("submits_received") == 4 and fal.count("submits_accepted") == 1
    assert job.attempts == 4 and MediaItem.objects.count() == 1


def test_401_fails_at_once_with_the_auth_sentence(user, fal):
    fal.fail("submit", "unauthorized")
    job = wait_for_job(create(user), S.FAILED)
    assert job.error_code == "auth" and "rejected the API key" in job.error_message
    assert fal.count("submits_received") == 1 and job.attempts == 1
    assert fal.key not in job.provider_detail


def test_content_policy_fails_with_its_sentence(user, fal):
    fal.fail("submit", "content_policy")
    job = wait_for_job(create(user), S.FAILED)
    assert job.error_code == "content_policy"
    assert "content policy blocked this prompt" in job.error_message
    assert fal.count("submits_received") == 1


def test_completed_with_error_fails(user, fal):
    fal.fail("status", "completed_error", error_type="runner_disconnected", error="GPU lost")
    job = wait_for_job(create(user), S.FAILED)
    assert job.error_code == "provider_error"
    assert (
        "failed to generate" in job.error_message and "runner_disconnected" in job.provider_detail
    )
    assert MediaItem.objects.count() == 0


def test_expired_result_url_fails_clearly(user, fal, env):
    fal.fail("file", "expired")
    job = wait_for_job(create(user), S.FAILED)
    assert job.error_message == EXPIRED
    assert MediaItem.objects.count() == 0 and media_files(env) == []


@pytest.mark.parametrize("kind", ["huge_content_length", "big_body"])
def test_oversize_result_is_refused_with_nothing_stored(user, fal, env, kind):
    fal.fail("file", kind, big_mb=2)
    job = wait_for_job(create(user), S.FAILED)
    assert job.error_message == too_large_message()
    assert MediaItem.objects.count() == 0 and media_files(env) == []


def test_failures_give_the_budget_back(user, fal):
    from generation.limits import budget_remaining

    fal.fail("submit", "content_policy")
    before = budget_remaining(user)
    wait_for_job(create(user), S.FAILED)
    assert budget_remaining(user) == before


# --- cancel -----------------------------------------------------------------------------------


def test_cancel_while_queued_submits_nothing(user, fal):
    with transaction.atomic():
        job = create(user)  # submit is enqueued only when this block commits
        job_cancel(job=job)
    job = wait_for_job(job, S.CANCELLED)
    # A later job's submit task is consumed after the cancelled one's: once it has
    # finished, the first submit task has certainly run (and sent nothing).
    later = wait_for_job(create(user), S.SUCCEEDED)
    assert fal.count("submits_received") == 1
    assert GenerationJob.objects.get(pk=job.pk).provider_request_id == ""
    assert later.provider_request_id in fal.records


def test_cancel_while_in_the_provider_queue_calls_provider_cancel(user, fal):
    fal.queue_polls = 10_000
    job = wait_for_job(create(user), S.IN_QUEUE)
    wait_for(lambda: fal.count("status_calls") >= 1, what="a first poll")
    job_cancel(job=job)
    job = wait_for_job(job, S.CANCELLED)
    assert fal.count("cancels") == 1
    assert fal.records[job.provider_request_id].cancelled
    assert MediaItem.objects.count() == 0


# --- crashes ------------------------------------------------------------------------------


def sweep_until(job, status, *, timeout: float = 40.0):
    """Beat's job, at a faster tick: send the sweeper until the job gets there."""

    last_sent = [0.0]

    def reached():
        job.refresh_from_db()
        if job.status == status:
            return True
        if time.monotonic() - last_sent[0] >= 0.5:  # a beat tick every half second
            tasks.sweep.delay()
            last_sent[0] = time.monotonic()
        return False

    wait_for(reached, timeout=timeout, what=f"job {job.pk} -> {status} via the sweeper")
    return job


def test_sigkill_while_in_the_provider_queue(user, fal, worker):
    fal.queue_polls = 10_000
    job = wait_for_job(create(user), S.IN_QUEUE)
    wait_for(lambda: fal.count("status_calls") >= 2, what="polling")
    worker.kill()
    fal.complete_now(job.provider_request_id)
    worker.start()
    sweep_until(job, S.SUCCEEDED)
    assert fal.count("submits_received") == 1
    assert MediaItem.objects.filter(metadata__job_id=job.pk).count() == 1


def test_sigkill_while_downloading(user, fal, worker):
    fal.fail("file", "hang", hang_s=30)
    job = wait_for_job(create(user), S.DOWNLOADING)
    wait_for(lambda: fal.count("file_downloads") >= 1, what="the download to start")
    worker.kill()
    worker.start()
    sweep_until(job, S.SUCCEEDED)
    assert fal.count("submits_received") == 1 and fal.count("file_downloads") == 2
    assert MediaItem.objects.filter(metadata__job_id=job.pk).count() == 1


# --- many at once -----------------------------------------------------------------------------


def test_twenty_jobs_at_once_all_land(user, fal):
    jobs = [create(user, prompt=f"Shot number {n}: waves on rocks") for n in range(20)]
    for job in jobs:
        wait_for_job(job, S.SUCCEEDED, timeout=120)
    items = MediaItem.objects.filter(owner=user, source="generated")
    assert sorted(i.metadata["job_id"] for i in items) == sorted(j.pk for j in jobs)
    assert fal.count("submits_received") == 20
