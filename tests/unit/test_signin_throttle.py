"""One sign-in throttle at every door (issue 13 §2), on the real Redis cache (each test
gets its own key prefix from tests/conftest.py):

- the admin's login is throttled like the sign-in page, and shares its counters;
- the per-name budget is keyed on the name as authentication reads it (whitespace,
  tabs, full-width forms and case are one budget);
- the per-address budget trusts only what TRUSTED_PROXY_HOPS proxies appended to
  X-Forwarded-For, never the entries the client writes;
- bad bearer tokens spend the address's budget, after which a good token is a 429 too.

The clock is frozen inside a fixed window so a window cannot roll over mid-test.
"""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from generation.services.tokens import api_token_create
from project.client_ip import client_ip
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# 20 s into a window of every jitter: django-ratelimit's window end is time - time % 60
# + crc32(key) % 60, so a frozen clock keeps every counter in one window.
NOW = 1_900_000_020


class FrozenTime:
    @staticmethod
    def time() -> float:
        return NOW


@pytest.fixture(autouse=True)
def rates(settings, monkeypatch):
    monkeypatch.setattr("django_ratelimit.core.time", FrozenTime)
    settings.LOGIN_RATE_PER_USER = "3/m"
    settings.LOGIN_RATE_PER_IP = "1000/m"
    settings.API_RATE = "1000/m"
    settings.TRUSTED_PROXY_HOPS = 0
    return settings


def sign_in(client, username, password="guess", *, path=None, **extra):
    return client.post(
        path or reverse("login"), {"username": username, "password": password}, **extra
    )


def assert_refused(response):
    assert response.status_code == 429, response.status_code
    assert response["Retry-After"] == "60"
    assert "Too many sign-in attempts. Wait a minute, then try again." in (
        response.content.decode()
    )


def signed_in_as(client) -> str | None:
    return client.session.get("_auth_user_id")


# --- the admin's login ---------------------------------------------------------------------
@pytest.fixture
def admin_user(make_user):
    return make_user("root", is_staff=True, is_superuser=True)


def test_admin_login_is_throttled_and_refuses_the_right_password(admin_user, other_user):
    # The admin's login page answers a signed-in non-staff user (anonymous visitors are
    # sent to the sign-in page): the door the attack used to guess an admin's password.
    client = Client()
    client.force_login(other_user)
    admin_login = reverse("admin:login")
    for _ in range(3):
        response = sign_in(client, "root", path=admin_login)
        assert response.status_code == 200
    refused = sign_in(client, "root", PASSWORD, path=admin_login)
    assert_refused(refused)
    assert "errornote" in refused.content.decode()  # the admin's own login page
    assert signed_in_as(client) == str(other_user.pk)


def test_admin_login_still_signs_in_within_the_budget(admin_user, other_user):
    client = Client()
    client.force_login(other_user)
    response = sign_in(client, "root", PASSWORD, path=reverse("admin:login"))
    assert response.status_code == 302
    assert signed_in_as(client) == str(admin_user.pk)


def test_admin_and_sign_in_page_share_one_budget(admin_user, other_user):
    client = Client()
    client.force_login(other_user)
    for _ in range(3):
        assert sign_in(client, "root", path=reverse("admin:login")).status_code == 200
    assert_refused(sign_in(Client(), "root", PASSWORD))


# --- the name as authentication reads it ------------------------------------------------------
VARIANTS = [" alice", "alice ", "\talice", "ａｌｉｃｅ", "ALICE", "alice   ", "\u3000alice"]


def test_name_variants_share_one_budget(user):
    client = Client()
    for name in VARIANTS[:3]:
        assert sign_in(client, name).status_code == 200
    for name in VARIANTS:
        assert_refused(sign_in(client, name, PASSWORD))
    assert signed_in_as(client) is None


def test_padded_name_with_the_right_password_is_refused_once_throttled(user):
    client = Client()
    for _ in range(3):
        assert sign_in(client, "alice").status_code == 200
    assert_refused(sign_in(client, "alice   ", PASSWORD))
    assert signed_in_as(client) is None


def test_another_name_keeps_its_own_budget(user, make_user):
    make_user("bob")
    client = Client()
    for _ in range(4):
        sign_in(client, "alice")
    assert sign_in(client, "bob", PASSWORD).status_code == 302


def test_success_does_not_reset_the_count(user, make_user):
    """An attacker signing in to their own account between guesses gains nothing."""
    make_user("eve")
    attacker = Client()
    for _ in range(2):
        assert sign_in(attacker, "alice").status_code == 200
    assert sign_in(Client(), "alice", PASSWORD).status_code == 302  # the 3rd attempt
    assert_refused(sign_in(attacker, "alice"))
    assert_refused(sign_in(Client(), "alice", PASSWORD))


# --- the client address --------------------------------------------------------------------
def test_rotating_forwarded_for_with_no_trusted_proxy_gets_no_fresh_budget(user, rates):
    rates.LOGIN_RATE_PER_USER = "1000/m"
    rates.LOGIN_RATE_PER_IP = "3/m"
    client = Client()
    statuses = [
        sign_in(
            client, f"user{i}", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}", REMOTE_ADDR="198.51.100.7"
        ).status_code
        for i in range(6)
    ]
    assert statuses == [200, 200, 200, 429, 429, 429]
    assert_refused(sign_in(client, "alice", PASSWORD, REMOTE_ADDR="198.51.100.7"))


def test_one_trusted_proxy_client_prepending_entries_gets_no_fresh_budget(user, rates):
    rates.LOGIN_RATE_PER_USER = "1000/m"
    rates.LOGIN_RATE_PER_IP = "3/m"
    rates.TRUSTED_PROXY_HOPS = 1
    client = Client()
    statuses = [
        sign_in(
            client,
            f"user{i}",
            # The client writes the left part; nginx appends the address it saw.
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}, 203.0.113.{i}, 198.51.100.7",
            REMOTE_ADDR="127.0.0.1",
        ).status_code
        for i in range(6)
    ]
    assert statuses == [200, 200, 200, 429, 429, 429]
    # Whereas a real client behind the same proxy is not caught in the attacker's budget.
    other = sign_in(
        Client(), "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8", REMOTE_ADDR="127.0.0.1"
    )
    assert other.status_code == 302


def test_one_trusted_proxy_tells_two_clients_apart(user, rates):
    rates.LOGIN_RATE_PER_USER = "1000/m"
    rates.LOGIN_RATE_PER_IP = "3/m"
    rates.TRUSTED_PROXY_HOPS = 1
    client = Client()
    for _ in range(4):
        sign_in(client, "nobody", HTTP_X_FORWARDED_FOR="198.51.100.7", REMOTE_ADDR="127.0.0.1")
    assert (
        sign_in(
            client, "nobody", HTTP_X_FORWARDED_FOR="198.51.100.7", REMOTE_ADDR="127.0.0.1"
        ).status_code
        == 429
    )
    # Same proxy (REMOTE_ADDR), another client: its own budget, and it signs in.
    other = sign_in(
        Client(), "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8", REMOTE_ADDR="127.0.0.1"
    )
    assert other.status_code == 302


# --- bearer tokens --------------------------------------------------------------------------
def test_bad_bearer_tokens_are_throttled_per_address_then_a_good_one_waits(user, rates):
    rates.LOGIN_RATE_PER_IP = "5/m"
    _, good = api_token_create(user=user, name="tests")
    client = Client(REMOTE_ADDR="198.51.100.9")
    for i in range(5):
        response = client.get(reverse("api:jobs"), HTTP_AUTHORIZATION=f"Bearer crt_bad{i}")
        assert response.status_code == 401, response.content
    refused = client.get(reverse("api:jobs"), HTTP_AUTHORIZATION=f"Bearer {good}")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    body = refused.json()
    assert body["message"] == "Too many sign-in attempts. Wait a minute, then try again."
    assert body["errors"] == {"limit": "signin"}
    # Another address is unaffected, and a good token in steady use costs nothing.
    other = Client(REMOTE_ADDR="198.51.100.10")
    for _ in range(8):
        assert (
            other.get(reverse("api:jobs"), HTTP_AUTHORIZATION=f"Bearer {good}").status_code == 200
        )


def test_bad_bearer_tokens_spend_the_sign_in_pages_budget(user, rates):
    rates.LOGIN_RATE_PER_USER = "1000/m"
    rates.LOGIN_RATE_PER_IP = "3/m"
    client = Client(REMOTE_ADDR="198.51.100.11")
    for i in range(3):
        client.get(reverse("api:jobs"), HTTP_AUTHORIZATION=f"Bearer crt_bad{i}")
    assert_refused(sign_in(client, "alice", PASSWORD))
    assert signed_in_as(client) is None


def test_bad_bearer_tokens_rotating_forwarded_for_get_no_fresh_budget(user, rates):
    rates.LOGIN_RATE_PER_IP = "3/m"
    _, good = api_token_create(user=user, name="tests")
    client = Client(REMOTE_ADDR="198.51.100.12")
    for i in range(3):
        client.get(
            reverse("api:jobs"),
            HTTP_AUTHORIZATION=f"Bearer crt_bad{i}",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        )
    refused = client.get(
        reverse("api:jobs"),
        HTTP_AUTHORIZATION=f"Bearer {good}",
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert refused.status_code == 429


# --- client_ip ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "hops, remote, forwarded, expected",
    [
        (0, "198.51.100.7", None, "198.51.100.7"),
        (0, "198.51.100.7", "203.0.113.1", "198.51.100.7"),  # hops 0: header ignored
        (0, "198.51.100.7", "203.0.113.1, 203.0.113.2", "198.51.100.7"),
        (1, "127.0.0.1", "203.0.113.1", "203.0.113.1"),
        (1, "127.0.0.1", "6.6.6.6, 203.0.113.1", "203.0.113.1"),  # rightmost wins
        (1, "127.0.0.1", "6.6.6.6,203.0.113.1", "203.0.113.1"),
        (2, "127.0.0.1", "6.6.6.6, 203.0.113.1, 10.0.0.2", "203.0.113.1"),
        (2, "127.0.0.1", "203.0.113.1", "127.0.0.1"),  # fewer entries than hops
        (1, "127.0.0.1", None, "127.0.0.1"),  # no header
        (1, "127.0.0.1", "", "127.0.0.1"),
        (1, "127.0.0.1", "6.6.6.6, not-an-ip", "127.0.0.1"),  # malformed
        (1, "127.0.0.1", "6.6.6.6, ", "127.0.0.1"),  # empty rightmost entry
        (1, "127.0.0.1", "203.0.113.1, unknown", "127.0.0.1"),
        (1, "127.0.0.1", "x" * 500, "127.0.0.1"),
        (1, "127.0.0.1", "2001:DB8::1", "2001:db8::1"),  # canonical form
        (1, "127.0.0.1", "[2001:db8::1]:4711", "2001:db8::1"),
        (1, "127.0.0.1", "203.0.113.1:4711", "203.0.113.1"),
        (1, "127.0.0.1", "::ffff:203.0.113.1", "203.0.113.1"),
        (0, "::ffff:198.51.100.7", None, "198.51.100.7"),
        (0, "", "203.0.113.1", "0.0.0.0"),  # no peer address: one shared budget
        (0, "not-an-ip", None, "0.0.0.0"),
    ],
)
def test_client_ip(settings, hops, remote, forwarded, expected):
    settings.TRUSTED_PROXY_HOPS = hops
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def test_ratelimit_key_ip_uses_client_ip(settings):
    from django_ratelimit.core import _SIMPLE_KEYS

    settings.TRUSTED_PROXY_HOPS = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.1"
    )
    assert _SIMPLE_KEYS["ip"](request) == "203.0.113.1"


def test_api_anonymous_rate_is_keyed_on_client_ip(rates):
    """The anonymous signed-download route's per-address rate ignores X-Forwarded-For."""
    rates.API_RATE = "3/m"
    url = reverse("api:media_download", args=[1]) + "?sig=forged"
    client = Client(REMOTE_ADDR="198.51.100.20")
    statuses = [
        client.get(url, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(4)
    ]
    assert 429 not in statuses[:3] and statuses[3] == 429
