"""The websocket loop behind `manage.py comfyui_listen` (and the tests, which run it in a
thread): connect to one ComfyUI server, hand each JSON message to the service, reconnect
with capped backoff. Binary frames (preview images) are ignored."""

from __future__ import annotations

import json
import logging
import threading

from django.conf import settings
from django.db import close_old_connections
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from generation.providers.comfyui import display_url, server_urls
from generation.services.comfyui_events import comfyui_event_received

logger = logging.getLogger("generation.jobs")

BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)


def listener_servers(requested: list[str] | None = None) -> list[str]:
    """The servers one listener covers: every one in COMFYUI_URLS, or the `requested` part
    of them (a farm split between listeners). A server outside COMFYUI_URLS is refused: it
    holds none of our jobs, and a typo would leave a real server without progress."""
    known = server_urls()
    if not requested:
        return known
    wanted = [url.strip().rstrip("/") for url in requested if url.strip()]
    unknown = [url for url in wanted if url not in known]
    if unknown:
        raise ValueError(
            f"not in COMFYUI_URLS: {', '.join(display_url(u) for u in unknown)} "
            "(a listener follows the servers jobs are sent to)"
        )
    return list(dict.fromkeys(wanted))


def ws_url(server: str, client_id: str) -> str:
    scheme = "wss" if server.startswith("https://") else "ws"
    host = server.split("://", 1)[1]
    return f"{scheme}://{host}/ws?clientId={client_id}"


def listen_forever(
    server: str, stop: threading.Event, *, connected=None, client_id: str | None = None
) -> None:
    """Until `stop`: ComfyUI sends a prompt's messages only to the client_id that queued
    it, so this connects as COMFYUI_CLIENT_ID (the id every submit sends)."""
    client_id = client_id or settings.COMFYUI_CLIENT_ID
    failures = 0
    while not stop.is_set():
        try:
            with connect(
                ws_url(server, client_id), open_timeout=5, max_size=16 * 1024 * 1024
            ) as socket:
                failures = 0
                if connected is not None:
                    connected.set()
                while not stop.is_set():
                    try:
                        frame = socket.recv(timeout=0.5)
                    except TimeoutError:
                        continue
                    if isinstance(frame, str):
                        handle_frame(server, frame)
        except (OSError, WebSocketException) as exc:
            if connected is not None:
                connected.clear()
            delay = BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]
            failures += 1
            logger.info("comfyui listener %s: %s; reconnecting in %s s", server, exc, delay)
            stop.wait(delay)


def handle_frame(server: str, frame: str) -> None:
    try:
        message = json.loads(frame)
    except ValueError:
        return
    if not isinstance(message, dict):
        return
    try:
        comfyui_event_received(server=server, message=message)
    except Exception:  # noqa: BLE001 - one bad message must not stop the listener
        logger.exception("comfyui listener %s: message not applied", server)
    finally:
        close_old_connections()
