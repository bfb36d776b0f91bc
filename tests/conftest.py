"""Shared fixtures: users, a real Celery worker, a real daphne, Chromium, websocket clients.

Isolation: CUTROOM_TEST_SLOT picks the test database name and REDIS_URL the Redis DB, so
several suites can run on one machine at once (the Makefile sets both for `make test`).
"""

from __future__ import annotations

import copy
import os
import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.emulators.fixtures import (  # noqa: F401 - fixtures shared by every test module
    fal_emulator,
    fal_settings,
    replicate_emulator,
    replicate_settings,
)
from tests.harness.live_client import LiveClient, SocketClient, session_cookie_for
from tests.harness.processes import CeleryWorker, DaphneServer, base_env, database_url_for
from tests.unit.job_fakes import enqueued  # noqa: F401 - tasks recorded, not sent (any test module)

PASSWORD = "correct-horse-battery-staple-9"  # noqa: S105 - test users only

# Playwright's sync API runs an event loop in the test thread; the ORM calls tests make
# beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    # Registered here, not in tests/integration/conftest.py: modules elsewhere import
    # integration modules (their helpers), which evaluates their marks.
    config.addinivalue_line(
        "markers",
        "pipeline(fal_polls=(q, r), replicate_polls=(q, r), **settings): a module's emulators' "
        "status pacing and its extra pipeline settings (tests/integration/conftest.py)",
    )


@pytest.fixture
def make_user(django_user_model):
    def make(username: str = "alice", password: str = PASSWORD, **extra):
        return django_user_model.objects.create_user(username=username, password=password, **extra)

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def other_user(make_user):
    return make_user("mallory")


@pytest.fixture(autouse=True)
def _fresh_cache_namespace(settings):
    """Each test counts rate limits and cooldowns from zero: its own cache key prefix
    (database ids repeat across tests, so user-keyed counters would otherwise carry over)."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:10]}"
    settings.CACHES = caches


@pytest.fixture(scope="session", autouse=True)
def _clean_test_broker():
    """Drop queued tasks a previous (killed) run of this slot left in its Redis DB."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.delete("default", "media", "unacked", "unacked_index", "unacked_mutex")
    except redis.RedisError:
        pass  # tests that need Redis will say so themselves
    yield


@pytest.fixture(scope="session")
def test_database_url(django_db_setup, django_db_blocker) -> str:
    with django_db_blocker.unblock():
        return database_url_for(connection.settings_dict)


@pytest.fixture(scope="session")
def process_env(test_database_url) -> dict[str, str]:
    """Environment for worker and daphne subprocesses. Tests that need provider emulators
    get them from the `provider_env` fixture below, which extends this."""
    return base_env(test_database_url)


@pytest.fixture(scope="session")
def celery_worker(process_env):
    """One real worker (prefork, concurrency 2) on both queues for the whole session."""
    worker = CeleryWorker(process_env, tag=f"s{os.getpid()}")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def daphne_server(process_env):
    server = DaphneServer(process_env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_client():
    """Factory for in-process websocket clients on the real channel layer."""
    clients: list[LiveClient] = []

    def connect(user=None, **kwargs) -> LiveClient:
        client = LiveClient(user, **kwargs)
        client.connect()
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


@pytest.fixture
def socket_client():
    """Factory for real-socket websocket clients against a running daphne."""
    clients: list[SocketClient] = []

    def connect(base_url: str, user=None) -> SocketClient:
        client = SocketClient(base_url, user)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


# --- Browser -----------------------------------------------------------------------------
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    # The desktop layout (every panel side by side); narrower layouts have their own tests
    # (tests/e2e/test_workspace_layout_e2e.py).
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def login(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form, as a new user would."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


@pytest.fixture(name="login")
def login_fixture():
    return login


def add_session_cookie(context, base_url: str, user) -> None:
    """Skip the form: put a real session cookie for `user` into a browser context."""
    context.add_cookies([{"name": "sessionid", "value": session_cookie_for(user), "url": base_url}])
