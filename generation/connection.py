"""One cheap authenticated call per hosted provider, for the admin's "Test connection".

fal's queue has no "who am I" call, so we ask for the status of a request id that cannot
exist: a valid key gets 404 (the key was accepted, the request is unknown), a bad one 401,
a locked account 403. Replicate has GET /account. Either way the answer goes through the
provider adapter's own error mapping, so the admin reads the same sentence a creator would.
Nothing is created and nothing is billed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings

from . import catalog
from .checks import key_format_problem
from .providers.base import USER_MESSAGES, ProviderError
from .providers.fal import fal_http_error
from .providers.http import Caller
from .providers.replicate import replicate_http_error

HOSTED = ("fal", "replicate")
# Any app works for the bogus status call; the queue answers 401 before it looks the id up.
FAL_PROBE_APP = "fal-ai/minimax"


@dataclass(frozen=True)
class ConnectionResult:
    provider: str
    ok: bool
    message: str
    detail: str = ""


def _fal() -> ConnectionResult:
    caller = Caller("fal", (settings.FAL_KEY,))
    url = (
        f"{settings.FAL_QUEUE_URL.rstrip('/')}/{FAL_PROBE_APP}/requests/"
        f"connection-test-{uuid.uuid4().hex}/status"
    )
    response = caller.call(
        "GET",
        url,
        op="connection_test",
        headers={"Authorization": f"Key {settings.FAL_KEY}", "Accept": "application/json"},
    )
    if response.status_code in (200, 404):
        return ConnectionResult("fal", True, "fal accepted the key.")
    raise fal_http_error(response, caller)


def _replicate() -> ConnectionResult:
    caller = Caller("replicate", (settings.REPLICATE_API_TOKEN,))
    response = caller.call(
        "GET",
        f"{settings.REPLICATE_API_URL.rstrip('/')}/account",
        op="connection_test",
        headers={
            "Authorization": f"Bearer {settings.REPLICATE_API_TOKEN}",
            "Accept": "application/json",
        },
    )
    if response.status_code == 200:
        body = caller.json(response)
        name = body.get("username", "") if isinstance(body, dict) else ""
        suffix = f" (account {name})" if name else ""
        return ConnectionResult("replicate", True, f"Replicate accepted the token{suffix}.")
    raise replicate_http_error(response, caller)


def provider_test_connection(*, provider: str) -> ConnectionResult:
    """Never raises for provider trouble: the result carries the taxonomy sentence."""
    if provider not in HOSTED:
        raise ValueError(f"unknown hosted provider {provider!r}")
    configured, reason = catalog.provider_configured(provider)
    if not configured:
        return ConnectionResult(provider, False, reason)
    setting = catalog.PROVIDER_KEYS[provider][0]
    problem = key_format_problem(setting, getattr(settings, setting))
    try:
        result = _fal() if provider == "fal" else _replicate()
    except ProviderError as exc:
        message = USER_MESSAGES[exc.code]
        if problem:
            message = f"{message} ({problem}.)"
        return ConnectionResult(provider, False, message, exc.detail)
    return result
