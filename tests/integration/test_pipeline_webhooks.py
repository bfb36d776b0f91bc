"""Provider webhooks over real HTTP: the fal emulator posts to a real daphne, which makes
the job's next poll happen now. Polling is slowed to 30 s here, so a job that finishes
within seconds proves the webhook short-cut. Duplicates are harmless; a wrong token is a
404 that changes nothing."""

from __future__ import annotations

import json
import time

import httpx
import pytest

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
    # Never completes by polling alone: only complete_now() (which fires the webhook) does.
    pytest.mark.pipeline(
        fal_polls=(10_000, 0), GENERATION_POLL_MIN_S="30", GENERATION_POLL_MAX_S="30"
    ),
    pytest.mark.usefixtures("pipeline_settings"),
]

S = JobStatus
PARAMS = {"prompt": "Lanterns drifting over a dark lake", "duration": 6}


@pytest.fixture(scope="module")
def env(env, daphne_server):
    """Webhooks addressed to the session's web server."""
    return {**env, "PUBLIC_BASE_URL": daphne_server.url}


@pytest.fixture(scope="module", autouse=True)
def _daphne_knows_the_signing_keys(daphne_server, fal):
    """The webhook view verifies fal's signature with the keys at FAL_JWKS_URL: point
    this module's daphne at the emulator's JWKS."""
    saved = dict(daphne_server.env)
    daphne_server.env = {**saved, "FAL_JWKS_URL": fal.jwks_url}
    daphne_server.restart()
    yield
    daphne_server.env = saved
    daphne_server.restart()


def signed_post(fal, job, payload: dict, **headers) -> httpx.Response:
    body = json.dumps(payload).encode()
    signed = fal.signed_headers(job.provider_request_id, body)
    return httpx.post(
        webhook_url(job),
        content=body,
        headers={"Content-Type": "application/json", **signed, **headers},
        timeout=10,
    )


def submitted_job(user, fal) -> GenerationJob:
    job = wait_for_job(job_create(user=user, model_id="hailuo", params=PARAMS), S.IN_QUEUE)
    assert fal.records[job.provider_request_id].webhook == webhook_url(job)
    return job


def webhook_url(job) -> str:
    from django.conf import settings

    return f"{settings.PUBLIC_BASE_URL}/generation/webhooks/fal/{job.webhook_token}/"


def test_webhook_short_cuts_the_poll(user, fal, live_client):
    tab = live_client(user)
    job = submitted_job(user, fal)
    fal.complete_now(job.provider_request_id)
    job = wait_for_job(job, S.SUCCEEDED, timeout=15)
    assert fal.webhooks and fal.webhooks[0]["status"] == 200
    tab.wait_for_text(f'id="media-{job.media_item_id}"')
    assert fal.count("submits_received") == 1


def test_webhook_delivered_twice_makes_one_media_item(user, fal):
    job = submitted_job(user, fal)
    payload = {"request_id": job.provider_request_id, "status": "OK", "payload": {}}
    fal.complete_now(job.provider_request_id)  # delivery 1 (by the emulator)
    second = signed_post(fal, job, payload)  # delivery 2, at once
    assert second.status_code == 200
    job = wait_for_job(job, S.SUCCEEDED, timeout=15)
    late = signed_post(fal, job, payload)  # a late third one
    assert late.status_code == 200 and late.json()["polled"] is False
    wait_for(lambda: fal.webhooks, what="the emulator's delivery to be answered")
    assert MediaItem.objects.filter(metadata__job_id=job.pk).count() == 1
    assert fal.count("file_downloads") == 1


def test_webhook_with_a_wrong_token_is_404_and_changes_nothing(user, fal, daphne_server):
    job = submitted_job(user, fal)
    before = GenerationJob.objects.filter(pk=job.pk).values().get()
    base = f"{daphne_server.url}/generation/webhooks"
    for url in (
        f"{base}/fal/not-the-token/",
        f"{base}/replicate/{job.webhook_token}/",  # right token, wrong provider
        f"{base}/nope/{job.webhook_token}/",
        f"{base}/fal/{job.webhook_token}x/",
    ):
        response = httpx.post(url, json={"request_id": job.provider_request_id}, timeout=10)
        assert response.status_code == 404, url
    assert httpx.get(webhook_url(job), timeout=10).status_code == 405
    after = GenerationJob.objects.filter(pk=job.pk).values().get()
    assert after["poll_seq"] == before["poll_seq"] and after["status"] == S.IN_QUEUE


def test_unsigned_forged_or_replayed_webhooks_are_401_and_change_nothing(user, fal):
    job = submitted_job(user, fal)
    before = GenerationJob.objects.filter(pk=job.pk).values().get()
    payload = {"request_id": job.provider_request_id, "status": "OK", "payload": {}}
    body = json.dumps(payload).encode()
    good = fal.signed_headers(job.provider_request_id, body)
    forged = {**good, "X-Fal-Webhook-Signature": "00" * 64}
    late = fal.signed_headers(job.provider_request_id, body, timestamp=int(time.time()) - 600)
    for headers in ({}, forged, late):
        response = httpx.post(
            webhook_url(job),
            content=body,
            headers={"Content-Type": "application/json", **headers},
            timeout=10,
        )
        assert response.status_code == 401, headers
    after = GenerationJob.objects.filter(pk=job.pk).values().get()
    assert (
        after["poll_seq"] == before["poll_seq"] and after["next_poll_at"] == before["next_poll_at"]
    )
    # The control: the same body, signed now, is accepted and polls at once.
    assert signed_post(fal, job, payload).json()["polled"] is True
