"""Redis (broker + channel layer) goes away while a browser watches a local generation:
the live indicator says "reconnecting", comes back to "connected" when Redis returns, and
the job card reaches Done and the clip appears in the media panel without a reload (the
re-sync on reconnect repairs the pushes missed meanwhile).

Runs on a PRIVATE redis-server (the shared one is never touched) with its own daphne and
worker. Celery/kombu may exit on a lost broker ("Unrecoverable error"); production runs
the worker under a supervisor, so a thread here restarts it the same way and the test
reports how often it had to."""

from __future__ import annotations

import shutil
import threading

import pytest
from playwright.sync_api import expect

from generation.models import GenerationJob, JobStatus
from media_library.models import MediaItem
from tests.harness.processes import CeleryWorker, DaphneServer, base_env
from tests.integration.test_pipeline_redis import PrivateRedis

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

PROMPT = "Harbour lights at night, slow pan across the water"


class Supervisor:
    """Restart the worker whenever it has exited, as systemd would."""

    def __init__(self, worker: CeleryWorker):
        self.worker = worker
        self.restarts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            if not self.worker.alive():
                self.restarts += 1
                try:
                    self.worker.start(timeout=60)
                except Exception:  # noqa: BLE001 - Redis may still be down; try again
                    continue

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=70)


@pytest.fixture
def stack(tmp_path, test_database_url):
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    env = base_env(
        test_database_url,
        {
            "REDIS_URL": redis_server.url,
            "CELERY_BROKER_URL": redis_server.url,
            "MEDIA_ROOT": str(tmp_path / "media"),
            "GENERATION_COOLDOWN_S": "0",
            "GENERATION_SWEEP_INTERVAL_S": "2",
            "GENERATION_SWEEP_GRACE_S": "2",
        },
    )
    daphne = DaphneServer(env)
    worker = CeleryWorker(env, beat=True, tag="e2e-redis-restart")
    daphne.start()
    worker.start()
    yield redis_server, daphne, worker
    worker.stop()
    daphne.stop()
    redis_server.kill()


def test_redis_restart_with_a_browser_connected(page, stack, make_user, login):
    redis_server, daphne, worker = stack
    make_user("nightshift")
    login(page, daphne.url, "nightshift")
    page.goto(daphne.url + "/")
    indicator = page.locator("#live-indicator")
    expect(indicator).to_have_attribute("data-state", "connected")
    expect(page.get_by_label("Model", exact=True)).to_have_value("local")

    page.get_by_role("textbox", name="Prompt", exact=True).fill(PROMPT)
    page.get_by_role("radiogroup", name="Duration").get_by_text("10 s").click()
    page.get_by_role("radiogroup", name="Resolution").get_by_text("1080p").click()
    page.get_by_role("button", name="Generate", exact=True).click()
    card = page.locator("#job-list .job-card").first
    expect(card.locator(".job-status")).to_have_text("Generating", timeout=30_000)

    with Supervisor(worker) as supervisor:
        redis_server.kill()
        expect(indicator).to_have_attribute("data-state", "reconnecting", timeout=20_000)
        job = GenerationJob.objects.get()
        assert job.status in (JobStatus.RUNNING, JobStatus.DOWNLOADING, JobStatus.SUCCEEDED)

        redis_server.start()  # same port, empty: every queued message is gone
        expect(indicator).to_have_attribute("data-state", "connected", timeout=60_000)
        expect(card.locator(".job-status")).to_have_text("Done", timeout=120_000)
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED and job.media_item_id
        ready = page.locator(f"#media-grid #media-{job.media_item_id}.media-card")
        expect(ready).to_have_attribute("data-status", "ready", timeout=60_000)
    expect(page.locator("#media-grid .media-card[data-status=ready]")).to_have_count(1)
    assert MediaItem.objects.count() == 1
    print(f"worker restarts by the supervisor: {supervisor.restarts}")
