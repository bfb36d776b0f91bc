"""A broadcast sent from inside a real Celery worker reaches a connected client via Redis,
and /healthz sees the worker come and go."""

import pytest

from project.tasks import notify_user
from tests.harness.processes import CeleryWorker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_broadcast_from_real_worker_reaches_client(celery_worker, live_client, user):
    tab = live_client(user)
    # Several tasks in a row: the same prefork child must not trip on a closed event loop.
    for n in range(4):
        notify_user.delay(user.id, f"hello-{n} <b>bold</b>")
    for n in range(4):
        message = tab.wait_for_text(f"hello-{n}", timeout=30)
        assert "&lt;b&gt;bold&lt;/b&gt;" in message  # rendered by a template, escaped
    assert 'hx-swap-oob="beforeend:#toasts"' in message


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
