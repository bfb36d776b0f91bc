"""Redis down is a 503 with Retry-After and a sentence, never a 500, and fast.

The app is pointed at a closed port on loopback (cache, channel layer, Celery broker): a
connection there is refused at once, as it is when Redis has stopped. Each route that
needs Redis is asked once: the JSON API (token and session), the sign-in POST, a
generation start, and an HTML page that needs it."""

from __future__ import annotations

import copy
import socket
import time

import pytest
from django.urls import path

from generation.models import GenerationJob
from generation.services.tokens import api_token_create
from project.celery import app as celery_app
from project.middleware import BACKEND_DOWN_MESSAGE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

FAST_S = 2.0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = url
    settings.CACHES = caches
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["hosts"][0]["address"] = url
    settings.CHANNEL_LAYERS = layers
    settings.REDIS_URL = url
    # The Celery app read its broker at import: point it (and its pools) at the port too.
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield url
    celery_app.conf.broker_url = saved
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _timed(send):
    started = time.monotonic()
    response = send()
    elapsed = time.monotonic() - started
    print(
        f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']}: "
        f"{response.status_code} in {elapsed:.2f} s"
    )
    return response, elapsed


def _assert_json_503(response, elapsed):
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"].isdigit() and int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body == {"message": BACKEND_DOWN_MESSAGE, "errors": {"service": "redis_unavailable"}}
    assert elapsed < FAST_S


def _assert_page_503(response, elapsed):
    assert response.status_code == 503, response.content[:300]
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html")
    assert "errors/503.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "Redis is not answering" in html and "<h1>Temporarily unavailable</h1>" in html
    assert elapsed < FAST_S


def test_api_with_a_token_is_503(client, user, redis_down):
    _token, raw = api_token_create(user=user, name="down")
    response, elapsed = _timed(
        lambda: client.get("/api/jobs", headers={"Authorization": f"Bearer {raw}"})
    )
    _assert_json_503(response, elapsed)


def test_api_with_a_session_is_503(client, user, redis_down):
    # A session skips the token throttle; the API's rate throttle is what needs Redis.
    client.force_login(user)
    response, elapsed = _timed(lambda: client.get("/api/jobs"))
    _assert_json_503(response, elapsed)


def test_sign_in_post_is_a_503_page(client, user, redis_down):
    response, elapsed = _timed(
        lambda: client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    )
    _assert_page_503(response, elapsed)
    # Not signed in by the outage either.
    assert "_auth_user_id" not in client.session


def test_generation_start_is_503_and_starts_nothing(client, user, redis_down, settings):
    settings.FAL_KEY = "k"
    client.force_login(user)
    response, elapsed = _timed(
        lambda: client.post(
            "/generation/generate/",
            {"model": "local", "prompt": "a red fox in the snow"},
            headers={"HX-Request": "true"},
        )
    )
    _assert_json_503(response, elapsed)
    assert not GenerationJob.objects.exists()


def _needs_the_broker(request):
    """A view that enqueues a task: what every "start" does once its row is committed."""
    celery_app.send_task("cutroom.redis_down_probe")
    raise AssertionError("the broker accepted a task on a closed port")


urlpatterns = [path("probe/", _needs_the_broker)]


@pytest.mark.urls(__name__)
def test_a_broker_refusal_is_a_503_page(client, user, redis_down):
    client.force_login(user)
    response, elapsed = _timed(lambda: client.get("/probe/"))
    _assert_page_503(response, elapsed)


def test_pages_that_do_not_need_redis_keep_working(client, user, redis_down):
    """The 503 is for what needs Redis; the workspace and the sign-in form still open."""
    client.force_login(user)
    response, elapsed = _timed(lambda: client.get("/generation/panel/"))
    assert response.status_code == 200 and elapsed < FAST_S
    client.logout()
    response, elapsed = _timed(lambda: client.get("/accounts/login/"))
    assert response.status_code == 200 and elapsed < FAST_S


def test_redis_up_is_untouched(client, user):
    """The control: with Redis answering, the same requests are not 503s."""
    _token, raw = api_token_create(user=user, name="up")
    response = client.get("/api/jobs", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
