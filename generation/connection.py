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
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from . import catalog
from .checks import key_format_problem
from .providers.base import USER_MESSAGES, ProviderError
from .providers.comfyui import ComfyUIProvider, display_url, server_memory, server_urls
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


# --- your own GPUs -------------------------------------------------------------------------
@dataclass(frozen=True)
class GpuDevice:
    name: str
    vram_total: int | None  # bytes
    vram_free: int | None


@dataclass(frozen=True)
class ComfyUIServerHealth:
    """One ComfyUI server as the admin sees it. `state` is one word for the table:
    "answering", "not answering" (this check failed), "skipped" (a recent call failed and
    new submits pass it over until `skipped_until`) or "not checked"."""

    url: str
    state: str
    running: int | None = None
    pending: int | None = None
    devices: tuple[GpuDevice, ...] = ()
    version: str = ""
    error: str = ""
    last_error: str = ""
    last_error_at: datetime | None = None
    skipped_until: datetime | None = None
    silent_since: datetime | None = None


def _when(epoch: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(epoch), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _health(url: str, memory: dict[str, Any], probe: dict[str, Any] | None) -> ComfyUIServerHealth:
    last = memory.get("last_error") if isinstance(memory.get("last_error"), dict) else {}
    if probe is None:
        state = "skipped" if memory.get("skipped") else "not checked"
    else:
        state = "answering" if probe["ok"] else "not answering"
    probe = probe or {}
    return ComfyUIServerHealth(
        url=display_url(url),
        state=state,
        running=probe.get("running"),
        pending=probe.get("pending"),
        devices=tuple(GpuDevice(**d) for d in probe.get("devices") or ()),
        version=probe.get("version") or "",
        error=probe.get("error") or "",
        last_error=str(last.get("detail") or ""),
        last_error_at=_when(last.get("at")),
        skipped_until=_when(memory.get("skipped_until")),
        silent_since=_when(memory.get("silent_since")),
    )


def comfyui_server_health(*, check: bool) -> list[ComfyUIServerHealth]:
    """Every server in COMFYUI_URLS. Without `check`, only what the shared cache knows
    (no call: a server that hangs must not hang the admin page); with it, one GET /queue
    and one GET /system_stats each, the way the hosted providers' "Test connection" asks."""
    if not check:
        return [_health(url, server_memory(url), None) for url in server_urls()]
    return [_health(row["url"], row["memory"], row) for row in ComfyUIProvider().server_health()]
