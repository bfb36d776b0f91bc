"""One throttle for every way to authenticate: the sign-in page, the admin's login and
API bearer tokens.

Counters are django-ratelimit's (an atomic add/incr per fixed window on the shared Redis
cache, so every web node counts together), in two groups shared by all doors:

- per name (LOGIN_RATE_PER_USER, default 5/m): every password attempt, keyed on the
  name as authentication reads it — stripped, NFKC-normalised like Django's
  UsernameField, then case-folded — so " alice", "alice\\t" and "ａｌｉｃｅ" are one
  budget (and "Alice", which case-insensitive collations sign in as alice, too);
- per client address (LOGIN_RATE_PER_IP, default 30/m, the address from
  project.client_ip): every password attempt from the sign-in page or the admin, and
  every request whose bearer token is not valid.

A password attempt is counted before the password is checked, whatever its outcome, so
parallel guesses cannot slip past a read-then-write, and a success neither resets nor
refunds anything: an attacker who signs in to their own account between guesses gains
nothing. Over either budget even the right credential is refused (429 + Retry-After)
until the window ends. A bearer token is checked against the address's budget first and
counted only when it fails, so a valid token in steady use costs nothing.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django_ratelimit.core import get_usage

from .client_ip import client_network

GROUP_USER = "signin-user"
GROUP_IP = "signin-ip"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SPOKEN = {1: "a second", 60: "a minute", 3600: "an hour", 86400: "a day"}


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # seconds; the whole window, after which the count has surely reset
    message: str


def normalise_username(raw: str) -> str:
    """The name as authentication sees it (UsernameField: strip + NFKC), case-folded.
    NFKC first: it turns full-width and other compatibility spaces into plain ones."""
    return unicodedata.normalize("NFKC", raw or "").strip().casefold()


def _period(rate: str) -> int:
    _count, _, per = rate.partition("/")
    unit = per[-1:].lower() if per[-1:].isalpha() else "s"
    digits = per[:-1] if per[-1:].isalpha() else per
    return (int(digits) if digits.isdigit() else 1) * _UNITS.get(unit, 1)


def _refusal(rate: str) -> Refusal:
    period = _period(rate)
    wait = _SPOKEN.get(period, f"{period} seconds")
    return Refusal(
        retry_after=period,
        message=f"Too many sign-in attempts. Wait {wait}, then try again.",
    )


def _user_key(_group, request) -> str:
    return request._signin_name


def _ip_key(_group, request) -> str:
    return client_network(request)


def _count(request, *, group: str, key, rate: str, increment: bool) -> bool:
    """Whether this request is over `rate` in `group` (counting it if `increment`)."""
    if not rate:
        return False
    usage = get_usage(request, group=group, key=key, rate=rate, increment=increment)
    if usage is None:  # RATELIMIT_ENABLE = False
        return False
    if increment:
        return usage["should_limit"]
    # A peek: the budget is spent once `limit` attempts were counted (limit 0 from a
    # failed cache read means refuse, as django-ratelimit itself does).
    return usage["count"] >= usage["limit"]


def password_attempt(request, *, username: str) -> Refusal | None:
    """Count one password attempt for `username` from this request's client; a Refusal
    when either budget is spent (the attempt must then not be checked at all)."""
    request._signin_name = normalise_username(username)
    refusals = []
    if _count(
        request,
        group=GROUP_USER,
        key=_user_key,
        rate=settings.LOGIN_RATE_PER_USER,
        increment=True,
    ):
        refusals.append(_refusal(settings.LOGIN_RATE_PER_USER))
    if _count(
        request, group=GROUP_IP, key=_ip_key, rate=settings.LOGIN_RATE_PER_IP, increment=True
    ):
        refusals.append(_refusal(settings.LOGIN_RATE_PER_IP))
    if not refusals:
        return None
    refusal = max(refusals, key=lambda r: r.retry_after)
    request.signin_refusal = refusal
    return refusal


def bearer_refusal(request) -> Refusal | None:
    """A Refusal when this client's budget is spent: even a valid token waits."""
    if _count(
        request, group=GROUP_IP, key=_ip_key, rate=settings.LOGIN_RATE_PER_IP, increment=False
    ):
        return _refusal(settings.LOGIN_RATE_PER_IP)
    return None


def bearer_failed(request) -> None:
    """Count a bearer token that authenticated nobody against this client's budget."""
    _count(request, group=GROUP_IP, key=_ip_key, rate=settings.LOGIN_RATE_PER_IP, increment=True)


def with_refusal_status(view):
    """Wrap a login view whose form called password_attempt: a refused attempt's page
    (rendered by the view with the refusal as the form's error) becomes a 429 with
    Retry-After."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        refusal = getattr(request, "signin_refusal", None)
        if refusal is not None:
            response.status_code = 429
            response["Retry-After"] = str(refusal.retry_after)
        return response

    return wrapped
