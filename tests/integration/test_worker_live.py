"""A push sent from inside a real Celery worker reaches a connected client via Redis,
and /healthz sees the worker come and go."""

import pytest

from generation.models import GenerationJob, JobStatus
from generation.services import job_create
from tests.harness.processes import CeleryWorker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_broadcast_from_real_worker_reaches_client(celery_worker, live_client, user, settings):
    settings.GENERATION_COOLDOWN_S = 0
    settings.GENERATION_RATE = "1000/m"
    settings.GENERATION_MAX_CONCURRENT = 50
    tab = live_client(user)
    # Several jobs, each pushed by several tasks (submit, render) in a row: the same
    # prefork child must not trip on a closed event loop.
    jobs = [
        job_create(
            user=user,
            model_id="local",
            params={"prompt": f"hello-{n} <b>bold</b>", "duration": 2, "resolution": "360p"},
        )
        for n in range(4)
    ]
    for job in jobs:
        wait_until(
            lambda j=job: GenerationJob.objects.get(pk=j.pk).status == JobStatus.SUCCEEDED,
            timeout=90,
            what=f"job {job.pk} to finish",
        )
    for n, job in enumerate(jobs):
        # Only the worker's last step (the render) pushes the finished card.
        message = tab.wait_for(
            lambda m, pk=job.pk: f'id="job-{pk}"' in m and 'data-status="succeeded"' in m,
            timeout=30,
        )
        assert f"hello-{n} &lt;b&gt;bold&lt;/b&gt;" in message  # rendered by a template, escaped


def test_healthz_reports_stopped_worker_as_down(client, settings, process_env):
    # A broker of its own (another Redis DB), so the session's worker cannot answer.
    base, _, db = settings.REDIS_URL.rpartition("/")
    private = f"{base}/{15 if db != '15' else 14}"
    settings.CELERY_BROKER_URL = private
    worker = CeleryWorker(
        {**process_env, "CELERY_BROKER_URL": private}, tag="health", queues="healthcheck"
    )
    worker.start()
    try:
        wait_until(
            lambda: client.get("/healthz").status_code == 200, timeout=20, what="healthz 200"
        )
        assert client.get("/healthz").json()["worker"]["ok"] is True
    finally:
        worker.stop()
    wait_until(
        lambda: client.get("/healthz").status_code == 503, timeout=20, what="healthz to report 503"
    )
    assert client.get("/healthz").json()["worker"] == {"ok": False, "detail": "no worker answered"}
