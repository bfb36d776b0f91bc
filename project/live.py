"""Push rendered HTML fragments to every open tab of one user.

`broadcast(user_id, html)` works from views, from sync Celery tasks and from async code.

Why a private event loop: channels-redis keeps its Redis connections per event loop.
`async_to_sync(layer.group_send)` inside a Celery worker runs each call on a fresh loop
that is closed afterwards, and the next call trips over a connection bound to the dead
loop ("Event loop is closed"). Sync callers therefore hand the coroutine to one
long-lived loop running in a daemon thread of this process (re-created after fork, since
prefork workers inherit the parent's memory but not its threads).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterable

from channels.layers import get_channel_layer
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

SEND_TIMEOUT_S = 5.0
_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def group_name(user_id: int) -> str:
    return f"user.{user_id}"


def _private_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-broadcast", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def _join(html: str | Iterable[str]) -> str:
    return html if isinstance(html, str) else "\n".join(html)


async def abroadcast(user_id: int, html: str | Iterable[str]) -> None:
    """Async form, for consumers and async views (runs on the caller's loop)."""
    layer = get_channel_layer()
    await layer.group_send(group_name(user_id), {"type": "live.html", "html": _join(html)})


def broadcast(user_id: int, html: str | Iterable[str]) -> bool:
    """Send fragments to the user's tabs. Returns False (and logs) if Redis is unreachable:
    a missed push is repaired by the tab's re-sync on reconnect, so it must never fail
    the caller's work."""
    future = asyncio.run_coroutine_threadsafe(abroadcast(user_id, html), _private_loop())
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        # Sync code called from inside a running loop (or a greenlet-driven one, such as
        # Playwright's sync API): never block that loop; report failures from the callback.
        future.add_done_callback(_log_failure(user_id))
        return True
    try:
        future.result(timeout=SEND_TIMEOUT_S)
        return True
    except Exception:  # noqa: BLE001 - a push is best effort; see docstring
        future.cancel()
        logger.warning("live broadcast to user %s failed", user_id, exc_info=True)
        return False


def _log_failure(user_id: int):
    def callback(future) -> None:
        if not future.cancelled() and future.exception() is not None:
            logger.warning("live broadcast to user %s failed: %r", user_id, future.exception())

    return callback


def broadcast_on_commit(user_id: int, html_factory) -> None:
    """Render and push after the surrounding transaction commits, so a tab never sees a
    state that a rollback then erases. `html_factory` is called at commit time.

    A push never fails its caller, even after the commit: the factory reads the database,
    and a connection lost right after COMMIT used to raise out of this callback, which
    skipped the commit hooks after it (the next poll's enqueue) and stopped a job's chain
    of steps until the sweeper found it."""

    def send() -> None:
        try:
            html = html_factory()
        except Exception:  # noqa: BLE001 - best effort, see above
            logger.warning("live push to user %s skipped: rendering failed", user_id, exc_info=True)
            return
        broadcast(user_id, html)

    transaction.on_commit(send, robust=True)


def render_fragment(template_name: str, context: dict | None = None) -> str:
    """Fragments are templates (autoescaped), never f-strings."""
    return render_to_string(template_name, context or {})
