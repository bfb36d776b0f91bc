"""Websocket clients for tests.

`LiveClient` drives the real consumer in-process through channels' WebsocketCommunicator
(on the real Redis channel layer), from synchronous tests, on a private event loop.
`SocketClient` connects to a running daphne over a real socket with a session cookie.
Both collect every message so a test can wait for the one it expects.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from channels.testing import WebsocketCommunicator
from django.test import Client

from tests.harness.processes import wait_until


def session_cookie_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class _LoopThread:
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


_shared_loop: _LoopThread | None = None


def shared_loop() -> _LoopThread:
    """One loop for every in-process client: channels-redis refuses to receive on one
    layer from two event loops at once."""
    global _shared_loop
    if _shared_loop is None:
        _shared_loop = _LoopThread()
    return _shared_loop


class _Collector:
    messages: list[str]

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 15) -> str:
        seen = 0

        def next_match():
            # Each message is judged once, in arrival order, however many polls it takes.
            nonlocal seen
            while seen < len(self.messages):
                message = self.messages[seen]
                seen += 1
                if predicate(message):
                    return message
            return None

        try:
            return wait_until(
                next_match, timeout=timeout, interval=0.02, what="a websocket message"
            )
        except TimeoutError as exc:
            raise TimeoutError(
                f"no matching websocket message within {timeout}s; got {len(self.messages)}: "
                f"{self.messages[-3:]!r}; reader error: {getattr(self, 'reader_error', None)!r}"
            ) from exc

    def wait_for_text(self, text: str, timeout: float = 15) -> str:
        return self.wait_for(lambda m: text in m, timeout)


class LiveClient(_Collector):
    def __init__(self, user=None, *, origin: str = "http://localhost", path: str = "/ws/live/"):
        from project.asgi import application

        self.messages = []
        self._loop = shared_loop()
        headers = [(b"origin", origin.encode()), (b"host", b"localhost")]
        if user is not None:
            headers.append((b"cookie", f"sessionid={session_cookie_for(user)}".encode()))
        self.communicator = WebsocketCommunicator(application, path, headers=headers)
        self.connected = False
        self.reader_error: BaseException | None = None
        self._reader = None

    def connect(self) -> bool:
        connected, _ = self._loop.run(self.communicator.connect(timeout=10), timeout=15)
        self.connected = connected
        if connected:
            self._reader = asyncio.run_coroutine_threadsafe(self._read_forever(), self._loop.loop)
        return connected

    async def _read_forever(self):
        while True:
            try:
                self.messages.append(await self.communicator.receive_from(timeout=3600))
            except (asyncio.CancelledError, Exception) as exc:  # noqa: BLE001 - closed socket ends the reader
                self.reader_error = exc
                return

    def close(self):
        if self._reader:
            self._reader.cancel()
        try:
            self._loop.run(self.communicator.disconnect(), timeout=5)
        except Exception:  # noqa: BLE001 - already closed
            pass


class SocketClient(_Collector):
    """A real websocket to daphne (for browser-free end-to-end checks and benches)."""

    def __init__(self, base_url: str, user=None, cookie: str | None = None):
        import websockets.sync.client as ws_client

        self.messages = []
        cookie = cookie or (session_cookie_for(user) if user is not None else None)
        headers = {"Origin": base_url}
        if cookie:
            headers["Cookie"] = f"sessionid={cookie}"
        self.ws = ws_client.connect(
            base_url.replace("http", "ws", 1) + "/ws/live/",
            additional_headers=headers,
            open_timeout=10,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        try:
            for message in self.ws:
                self.messages.append(message)
        except Exception:  # noqa: BLE001 - closed
            return

    def close(self):
        self.ws.close()
