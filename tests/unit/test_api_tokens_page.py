"""API tokens from the user menu: named, shown once, hashed at rest, revocable, last use shown."""

import hashlib

import pytest

from generation.models import ApiToken

pytestmark = pytest.mark.django_db


def test_create_shows_token_once_and_stores_only_its_hash(client, user):
    client.force_login(user)
    response = client.post("/generation/tokens/new/", {"name": "batch <script>"})
    assert response.status_code == 200
    body = response.content.decode()
    token = ApiToken.objects.get(user=user)
    raw = body.split('aria-label="New API token">')[1].split("</pre>")[0]
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiToken.objects.values_list())  # not stored in clear
    assert "batch &lt;script&gt;" in body  # names are escaped
    again = client.get("/generation/tokens/").content.decode()
    assert raw not in again and token.prefix in again


def test_token_authenticates_api_and_records_last_use(client, user):
    client.force_login(user)
    body = client.post("/generation/tokens/new/", {"name": "cli"}).content.decode()
    raw = body.split('aria-label="New API token">')[1].split("</pre>")[0]
    client.logout()
    response = client.get("/api/jobs", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert ApiToken.objects.get(user=user).last_used_at is not None


def test_revoked_token_stops_working(client, user):
    client.force_login(user)
    body = client.post("/generation/tokens/new/", {"name": "cli"}).content.decode()
    raw = body.split('aria-label="New API token">')[1].split("</pre>")[0]
    token = ApiToken.objects.get(user=user)
    assert client.post(f"/generation/tokens/{token.pk}/revoke/").status_code == 302
    client.logout()
    assert client.get("/api/jobs", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_blank_name_is_refused_with_a_message(client, user):
    client.force_login(user)
    response = client.post("/generation/tokens/new/", {"name": "  \x00 "})
    assert response.status_code == 400
    assert "Give the token a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_other_users_token_cannot_be_revoked(client, user, other_user):
    from generation.services.tokens import api_token_create

    token, _ = api_token_create(user=other_user, name="theirs")
    client.force_login(user)
    assert client.post(f"/generation/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_needs_post_and_csrf(user):
    from django.test import Client

    from generation.services.tokens import api_token_create

    token, _ = api_token_create(user=user, name="mine")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.get(f"/generation/tokens/{token.pk}/revoke/").status_code == 405
    assert strict.post(f"/generation/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
