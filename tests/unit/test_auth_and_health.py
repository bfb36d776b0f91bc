"""Login is required everywhere except login, /healthz and static; /healthz reports truthfully."""

import pytest
from django.urls import reverse

from project import health

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/media/panel/", "/generation/panel/", "/editor/panel/"])
def test_pages_redirect_anonymous_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_htmx_fragment_for_anonymous_is_401_with_redirect_header(client):
    response = client.get("/media/panel/", HTTP_HX_REQUEST="true")
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/"


def test_login_page_is_public_and_styled(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "css/app.css" in body and 'name="username"' in body


def test_login_then_workspace(client, user):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct-horse-battery-staple-9"}
    )
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'ws-connect="/ws/live/"' in body
    assert 'id="live-indicator"' in body
    assert "htmx-2" in body and "hx-ws-2" in body  # served by django-htmx, not committed copies


def test_wrong_password_is_refused(client, user):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_healthz_is_public_and_reports_each_part(client, monkeypatch):
    monkeypatch.setattr(health, "check_workers", lambda timeout=1.0: (True, "1 worker(s)"))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"]["ok"] is True
    assert response.json()["redis"]["ok"] is True
    assert response.json()["status"] == "ok"


def test_healthz_503_when_worker_down(client, monkeypatch):
    monkeypatch.setattr(health, "check_workers", lambda timeout=1.0: (False, "no worker answered"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"] == {"ok": False, "detail": "no worker answered"}


def test_healthz_503_when_redis_down(client, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(health, "check_workers", lambda timeout=1.0: (True, "1"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"]["ok"] is False


def test_security_headers_on_pages(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "nonce-" in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_login_is_throttled_per_username(client, user, settings, monkeypatch):
    from django.core.cache import cache

    from tests.unit.test_signin_throttle import FrozenTime

    # A fixed window can roll over between the attempts (seen once in a loaded run): the
    # clock stands still inside one window, as in test_signin_throttle.
    monkeypatch.setattr("django_ratelimit.core.time", FrozenTime)
    cache.clear()
    settings.LOGIN_RATE_PER_USER = "3/m"
    for _ in range(3):
        assert (
            client.post(reverse("login"), {"username": "alice", "password": "guess"}).status_code
            == 200
        )
    blocked = client.post(
        reverse("login"), {"username": "alice", "password": "correct-horse-battery-staple-9"}
    )
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == "60"
    assert "Too many sign-in attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session  # even the right password waits


def test_production_profile_passes_check_deploy():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DEBUG="false",
        SECRET_KEY="q7-Vx2pLm9sT4wZ8nB1cR6yH3jK5dF0gA-uE7iO2Zx_PqW8e-Lm3Nb5Vc7Xz9",
        ALLOWED_HOSTS="cutroom.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
