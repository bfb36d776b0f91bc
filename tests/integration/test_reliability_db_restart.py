"""The database drops every connection mid-job (what a PostgreSQL restart or failover
does to clients): the worker's backends on this test database are terminated again and
again while the job sits in the provider queue and is being polled. The job still
finishes once, with no sweeper running: a step that hit the dead connection retries,
and the next task reconnects (CONN_HEALTH_CHECKS)."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from generation.models import JobStatus
from generation.services import job_create
from media_library.models import MediaItem
from tests.integration.workers import (
    apply_to_settings,
    wait_for,
    wait_for_job,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.pipeline(fal_polls=(10_000, 0)),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (pg_terminate_backend); SQLite has no server connections "
        "to drop. Run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres",
    ),
]


WORKER_APP_NAME = "cutroom-db-fault-worker"


@pytest.fixture(scope="module")
def env(env, test_database_url):
    # The worker's connections carry an application name, so the fault hits the worker
    # alone: killing this test process's own connections would break the tests after it.
    return {**env, "DATABASE_URL": f"{test_database_url}?application_name={WORKER_APP_NAME}"}


def terminate_other_backends() -> int:
    """Only the worker's backends on this test database (never the shared server, never
    other slots, never this test process)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [WORKER_APP_NAME],
        )
        return cursor.fetchone()[0]


def test_connections_killed_mid_job_the_job_recovers_and_finishes_once(
    user, fal, env, worker, settings
):
    apply_to_settings(settings, env)
    fal.reset()
    job = wait_for_job(
        job_create(user=user, model_id="hailuo", params={"prompt": "Fog", "duration": 6}),
        JobStatus.IN_QUEUE,
    )
    wait_for(lambda: fal.count("status_calls") >= 2, what="polling to start")

    # Drop the worker's connections repeatedly for a few seconds of polling, so some
    # land between tasks and some in the middle of one.
    killed = 0
    end = time.monotonic() + 4
    while time.monotonic() < end:
        killed += terminate_other_backends()
        time.sleep(0.05)  # the fault's rhythm, not a synchronisation
    assert killed >= 2, "the worker never held a connection to kill"
    polls_after = fal.count("status_calls")

    # Polling survived the outage by itself (no sweeper runs in this test) ...
    wait_for(
        lambda: fal.count("status_calls") >= polls_after + 3,
        timeout=60,
        what="polling to continue after the connections were dropped",
    )
    fal.complete_now(job.provider_request_id)
    job = wait_for_job(job, JobStatus.SUCCEEDED, timeout=40)
    assert fal.count("submits_received") == 1
    assert MediaItem.objects.filter(metadata__job_id=job.pk).count() == 1
    assert job.reserved_cost == 0
