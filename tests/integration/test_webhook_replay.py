"""Replayed webhooks over real HTTP (uvicorn, the strict fal emulator, a real worker): a
valid signed webhook sent a hundred times causes at most two provider status calls (one at
once, one when the WEBHOOK_POLL_MIN_INTERVAL_S window closes), answers 200 quickly every
time, and the job still finishes, exactly once. The web server's log never shows the
per-job webhook secret or a `?sig=` value.

Polling is slowed to 30 s here, so every status call inside the test's time is one the
webhooks caused (the emulator counts them)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from generation.models import GenerationJob, JobStatus
from generation.services import job_create
from media_library.models import MediaItem
from tests.harness.processes import WebServer
from tests.integration.workers import (
    wait_for,
    wait_for_job,
)

S = JobStatus
PARAMS = {"prompt": "Lanterns drifting over a dark lake", "duration": 6}
WINDOW_S = 5.0

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    # The first status call says IN_PROGRESS, the second COMPLETED: a completion that the
    # webhook-triggered poll does not see yet must still be picked up.
    pytest.mark.pipeline(
        fal_polls=(0, 1),
        GENERATION_POLL_MIN_S="30",
        GENERATION_POLL_MAX_S="30",
        WEBHOOK_POLL_MIN_INTERVAL_S=str(WINDOW_S),
    ),
    pytest.mark.usefixtures("pipeline_settings"),
]


@pytest.fixture(scope="module")
def web(process_env, fal):
    server = WebServer(
        {
            **process_env,
            **fal.settings_env(),
            "WEBHOOK_POLL_MIN_INTERVAL_S": str(WINDOW_S),
            "LOG_LEVEL": "INFO",
        }
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def env(env, web):
    """Webhooks addressed to this module's web server."""
    return {**env, "PUBLIC_BASE_URL": web.url}


def webhook_url(job) -> str:
    from django.conf import settings

    return f"{settings.PUBLIC_BASE_URL}/generation/webhooks/fal/{job.webhook_token}/"


def submitted_job(user, fal) -> GenerationJob:
    job = wait_for_job(job_create(user=user, model_id="hailuo", params=PARAMS), S.IN_QUEUE)
    assert fal.records[job.provider_request_id].webhook == webhook_url(job)
    return job


def replay(fal, job):
    """One signed delivery (fal's "OK", a terminal status), and a function that sends
    exactly those bytes and headers again: a replay, valid for WEBHOOK_TOLERANCE_S."""
    body = json.dumps(
        {"request_id": job.provider_request_id, "status": "OK", "payload": {}}
    ).encode()
    headers = {
        "Content-Type": "application/json",
        **fal.signed_headers(job.provider_request_id, body),
    }
    url = webhook_url(job)

    def send(http: httpx.Client) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = http.post(url, content=body, headers=headers)
        return response, time.monotonic() - started

    return send


def assert_finished_once(fal, job) -> None:
    assert MediaItem.objects.filter(metadata__job_id=job.pk).count() == 1
    assert fal.count("result_calls") == 1
    assert fal.count("file_downloads") == 1


def test_hundred_replays_cost_at_most_two_status_calls_and_the_job_finishes_once(user, fal):
    job = submitted_job(user, fal)
    assert fal.count("status_calls") == 0  # the first regular poll is 30 s away
    send = replay(fal, job)
    with httpx.Client(timeout=10) as http:
        first, _ = send(http)
        assert first.status_code == 200 and first.json()["polled"] is True
        # The webhook's poll runs now and finds the provider still busy.
        job = wait_for_job(job, S.RUNNING, timeout=10)
        assert fal.count("status_calls") == 1
        replays_started = time.monotonic()
        answers = [send(http) for _ in range(99)]
    assert [r.status_code for r, _ in answers] == [200] * 99
    assert max(elapsed for _, elapsed in answers) < 1.0
    # The completion the webhook announced is not lost: the one poll the window allows
    # runs when it closes (not at the 30 s regular poll).
    job = wait_for_job(job, S.SUCCEEDED, timeout=20)
    assert time.monotonic() - replays_started < WINDOW_S + 10
    assert fal.count("status_calls") <= 2
    assert_finished_once(fal, job)


def test_a_concurrent_burst_of_replays_is_debounced_atomically(user, fal):
    """Replays arriving at once (before any poll ran) race on the window: cache.add is
    one atomic SET NX, so only one of them polls at once."""
    job = submitted_job(user, fal)
    send = replay(fal, job)
    with httpx.Client(timeout=10) as http, ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: send(http), range(100)))
    assert [r.status_code for r, _ in answers] == [200] * 100
    assert sum(1 for r, _ in answers if r.json()["polled"]) <= 2
    # Finished: by the window's poll if a replay came after the first poll, otherwise by
    # the regular poll chain (30 s here). Either way, once, with at most two calls.
    job = wait_for_job(job, S.SUCCEEDED, timeout=45)
    assert fal.count("status_calls") <= 2
    assert_finished_once(fal, job)


def test_replays_after_the_job_finished_cost_nothing(user, fal):
    job = submitted_job(user, fal)
    fal.complete_now(job.provider_request_id)  # the emulator's own delivery
    job = wait_for_job(job, S.SUCCEEDED, timeout=15)
    wait_for(lambda: fal.webhooks and fal.webhooks[0]["status"] == 200, what="the delivery")
    calls = fal.count("status_calls")
    send = replay(fal, job)
    with httpx.Client(timeout=10) as http:
        answers = [send(http) for _ in range(50)]
    assert all(r.status_code == 200 and r.json()["polled"] is False for r, _ in answers)
    assert fal.count("status_calls") == calls
    assert_finished_once(fal, job)


def test_web_log_shows_neither_the_webhook_secret_nor_a_sig(user, fal, web):
    job = submitted_job(user, fal)
    send = replay(fal, job)
    secret_sig = "c2lnbmVkLWxpbmstc2VjcmV0:1tZ9Qx:AbCdEfGh"
    with httpx.Client(timeout=10) as http:
        send(http)
        # A wrong token is a 404: Django's request log prints that path too.
        http.post(f"{web.url}/generation/webhooks/fal/{job.webhook_token}x/", content=b"{}")
        http.get(f"{web.url}/api/media/1/download?sig={secret_sig}&x=1")

    def logged():
        text = web.log_tail(200_000)
        return text if "sig=[redacted]" in text else None

    text = wait_for(logged, timeout=10, what="the access log line of the ?sig= request")
    assert job.webhook_token not in text
    assert secret_sig not in text and "1tZ9Qx" not in text
    assert "/generation/webhooks/fal/[redacted]/" in text
