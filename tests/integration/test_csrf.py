"""CSRF is enforced on every POST route (forms, htmx fragments, the session-authenticated
API), enumerated from the URL resolver; a cross-origin websocket is refused.

Exempt: provider webhooks (authenticated by a per-job secret in the URL, no cookies) and
the API with a bearer token (no ambient credential for a forged request to ride on).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from generation.models import PromptTemplate
from tests.integration import test_owner_scoping as scoping
from tests.integration.test_owner_scoping import OBJECT_ROUTES, all_route_names, snapshot

pytestmark = pytest.mark.django_db
world = scoping.world  # the fixture: alice's objects, mallory's client

CSRF_EXEMPT = {
    "generation:webhook": "per-job secret in the URL; providers send no cookies",
    "api:media_download": "GET only (a POST is 405): a signed link, changes nothing",
}
# django-ninja marks its operations csrf_exempt and checks the token itself in session
# auth (403), so its GET-only operations answer a POST with 405 (refused either way).
API_POST_ROUTES = {"api:generate_video", "api:estimate_cost", "api:cancel_job", "api:retry_job"}


def route_url(name: str, w) -> str:
    if name.startswith("/"):
        return name  # an unnamed route, by its path
    if name in OBJECT_ROUTES:
        return reverse(name, kwargs=OBJECT_ROUTES[name][0](w))
    return reverse(name)


def alice_client(w) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(w.alice)
    return client


@pytest.mark.parametrize("name", sorted(all_route_names() - set(CSRF_EXEMPT)))
def test_post_without_token_is_refused(world, name, django_capture_on_commit_callbacks):
    """As the owner (so only the missing token stands in the way), as a form post and as
    an htmx post; nothing changes."""
    client = alice_client(world)
    url = route_url(name, world)
    data = OBJECT_ROUTES.get(name, (None, None))[1]
    body = data(world) if data else {"name": "x", "title": "x", "prompt": "x"}
    before = snapshot(world)
    with django_capture_on_commit_callbacks(execute=True):
        if url.startswith("/api/"):
            response = client.post(url, body, content_type="application/json")
            expected = {403} if name in API_POST_ROUTES else {403, 405}
            assert response.status_code in expected, (url, response.status_code)
        else:
            for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                response = client.post(url, body, **headers)
                assert response.status_code == 403, (url, headers, response.status_code)
    assert snapshot(world) == before


def test_the_same_post_with_the_token_is_accepted(world):
    """The control: htmx sends the token in X-CSRFToken (base.html's hx-headers)."""
    client = alice_client(world)
    page = client.get(reverse("editor:workspace"))
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else None
    assert token, "the workspace sets the CSRF cookie"
    assert "X-CSRFToken" in page.content.decode()
    response = client.post(
        reverse("generation:template_save"),
        {"title": "kept", "prompt": "a kept prompt"},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200
    assert PromptTemplate.objects.filter(owner=world.alice, title="kept").exists()


def test_api_with_a_bearer_token_needs_no_csrf(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("api:estimate_cost"),
        {"model": "local", "prompt": "a fox", "duration": 4},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world.mallory_token}",
    )
    assert response.status_code == 200, response.content


def test_webhook_is_the_only_csrf_exempt_route(world, fal_settings):
    client = Client(enforce_csrf_checks=True)
    url = reverse("generation:webhook", args=["fal", world.live_job.webhook_token])
    assert scoping.signed_fal_post(client, url, world.live_job, fal_settings).status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        ("http://localhost", True),
        ("http://evil.example", False),
        ("http://localhost.evil.example", False),
        ("null", False),
    ],
)
def test_cross_origin_websocket_is_refused(user, live_client, origin, accepted):
    assert live_client(user, origin=origin).connected is accepted
