"""Redis restarted mid-job (without persistence: every queued and unacknowledged message is
gone) — the job still finishes, submitted once. Runs on a private redis-server so the
shared one is never touched, with a worker that runs beat (the sweeper every second)."""

from __future__ import annotations

import shutil
import subprocess
from unittest import mock

import pytest
import redis

from generation.models import JobStatus
from generation.services import job_create
from media_library.models import MediaItem
from tests.harness.processes import CeleryWorker, free_port, wait_until
from tests.integration.workers import apply_to_settings, pipeline_env, wait_for, wait_for_job

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.pipeline(fal_polls=(10_000, 0)),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

S = JobStatus


class PrivateRedis:
    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        wait_until(client.ping, timeout=10, what="redis-server to answer")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def test_redis_restart_mid_job_still_finishes(
    user, settings, process_env, private_redis, fal, tmp_path
):
    env = pipeline_env(
        media_root=tmp_path / "media",
        fal=fal,
        REDIS_URL=private_redis.url,
        CELERY_BROKER_URL=private_redis.url,
        GENERATION_SWEEP_INTERVAL_S="1",
    )
    apply_to_settings(settings, {k: v for k, v in env.items() if "REDIS" not in k})
    worker = CeleryWorker({**process_env, **env}, beat=True, tag="redis-restart")
    worker.start()
    try:
        # Created without enqueueing from this process (its broker is the shared Redis):
        # the worker's own sweeper picks the QUEUED job up, as after a lost message.
        with mock.patch("generation.tasks.submit.delay_on_commit"):
            job = job_create(
                user=user, model_id="hailuo", params={"prompt": "Rain on glass", "duration": 6}
            )
        job = wait_for_job(job, S.IN_QUEUE, timeout=30)
        wait_for(lambda: fal.count("status_calls") >= 1, what="polling to start")

        private_redis.restart()  # every queued and unacked message is lost
        fal.complete_now(job.provider_request_id)

        # Production runs workers under a supervisor (systemd, a container restart
        # policy): Celery/kombu sometimes exit on a lost broker instead of reconnecting
        # ("Unrecoverable error" in kombu's close path), so restart it as they would.
        def finished():
            if not worker.alive():
                worker.start()
            job.refresh_from_db()
            return job.status == S.SUCCEEDED

        wait_for(finished, timeout=90, what=f"job {job.pk} to finish after the restart")
        assert fal.count("submits_received") == 1
        assert MediaItem.objects.filter(metadata__job_id=job.pk).count() == 1
    finally:
        worker.stop()
