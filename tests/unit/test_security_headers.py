"""Security headers on a page and on the API; CORS only for /api/ and only from
CORS_ALLOWED_ORIGINS (never with credentials); HSTS and secure cookies in production."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from generation.services.tokens import api_token_create

pytestmark = pytest.mark.django_db
ALLOWED = "https://app.example.com"


@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]
    return settings


def assert_common_headers(response):
    csp = response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Request-ID"]


def test_headers_on_a_page_and_on_the_api(user):
    client = Client()
    client.force_login(user)
    page = client.get("/")
    assert page.status_code == 200
    assert_common_headers(page)
    nonce = page["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in page.content.decode()
    _, raw = api_token_create(user=user)
    api = client.get("/api/jobs", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 200
    assert_common_headers(api)


def preflight(path: str, origin: str):
    return Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
    )


def test_cors_preflight_for_the_api_from_an_allowed_origin(cors):
    response = preflight("/api/generate-video", ALLOWED)
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert "authorization" in response["Access-Control-Allow-Headers"].lower()
    # Cookies never ride along cross-origin: other origins use bearer tokens.
    assert "Access-Control-Allow-Credentials" not in response


def test_cors_simple_request_with_a_token(cors, user):
    _, raw = api_token_create(user=user)
    response = Client().get("/api/jobs", HTTP_ORIGIN=ALLOWED, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "https://app.example.com.evil.example", "null"]
)
def test_cors_refuses_other_origins(cors, origin):
    assert "Access-Control-Allow-Origin" not in preflight("/api/generate-video", origin)


@pytest.mark.parametrize(
    "path", ["/media/panel/", "/generation/generate/", "/accounts/login/", "/"]
)
def test_no_cors_outside_the_api(cors, path):
    assert "Access-Control-Allow-Origin" not in preflight(path, ALLOWED)


def test_no_cors_at_all_by_default(settings):
    settings.CORS_ALLOWED_ORIGINS = []
    assert "Access-Control-Allow-Origin" not in preflight("/api/jobs", ALLOWED)


def test_production_profile_sets_hsts_and_secure_cookies():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY="q7-Vx2pLm9sT4wZ8nB1cR6yH3jK5dF0gA-uE7iO2Zx_PqW8e-Lm3Nb5Vc7Xz9",
        ALLOWED_HOSTS="cutroom.example.com",
        DJANGO_SETTINGS_MODULE="project.settings",
    )
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.LOG_JSON, "
        "s.SECURE_PROXY_SSL_HEADER]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    debug, hsts, subdomains, session_secure, csrf_secure, redirect, log_json, proxy = json.loads(
        out.stdout.strip().splitlines()[-1]
    )
    assert debug is False and hsts >= 31536000 and subdomains is True
    assert session_secure and csrf_secure and redirect and log_json
    assert proxy == ["HTTP_X_FORWARDED_PROTO", "https"]
