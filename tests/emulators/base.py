"""Shared machinery for the provider emulators: a threaded stdlib HTTP server on a free
loopback port, per-request fault injection, progression, webhooks and a real MP4.

An emulator is usable three ways: from pytest fixtures (tests/emulators/fixtures.py), from a
bench script (`with FalEmulator() as emu: ...`), and from another process (a Celery worker
only needs `emu.url`; tests steer it in-process, other processes through the small control
API under /__emulator__/).
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

_MP4_CACHE: bytes | None = None
_MP4_LOCK = threading.Lock()


def sample_mp4() -> bytes:
    """A real 1 s 160×90 H.264 + AAC clip, made once per process with PyAV."""
    global _MP4_CACHE
    with _MP4_LOCK:
        if _MP4_CACHE is None:
            _MP4_CACHE = _make_mp4()
        return _MP4_CACHE


def _make_mp4() -> bytes:
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 160, 90, "yuv420p"
        audio = container.add_stream("aac", rate=48000, layout="stereo")
        for i in range(24):
            frame = av.VideoFrame(160, 90, "rgb24")
            shade = bytes([i * 10 % 256, 80, 160]) * (160 * 90)
            frame.planes[0].update(_pad_rows(shade, 160 * 3, frame.planes[0].line_size, 90))
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            container.mux(video.encode(frame))
        for start in range(0, 48000, 1024):
            count = min(1024, 48000 - start)
            frame = av.AudioFrame(format="fltp", layout="stereo", samples=count)
            for plane in frame.planes:
                plane.update(bytes(count * 4))
            frame.sample_rate, frame.pts, frame.time_base = 48000, start, Fraction(1, 48000)
            container.mux(audio.encode(frame))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    return buffer.getvalue()


def fetch_like_a_runner(url: Any, local: dict[str, bytes] | None = None) -> bytes | None:
    """Download an input image the way a provider's runner does: anonymously — no cookie,
    no session, no Authorization header — following redirects. Returns the bytes when they
    are a decodable image, else None. `local` maps URLs the provider serves itself (its
    own storage) to their bytes."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(url, str) or not url:
        return None
    data: bytes | None
    if local is not None and url in local:
        data = local[url]
    elif url.startswith("data:"):
        header, _, payload = url.partition(",")
        if ";base64" not in header:
            return None
        try:
            data = base64.b64decode(payload, validate=True)
        except (ValueError, binascii.Error):
            return None
    elif url.startswith(("http://", "https://")):
        try:
            response = httpx.get(url, timeout=5.0, follow_redirects=True)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        data = response.content
    else:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return None
    return data


def _pad_rows(data: bytes, row: int, line_size: int, rows: int) -> bytes:
    if row == line_size:
        return data
    pad = bytes(line_size - row)
    return b"".join(data[r * row : (r + 1) * row] + pad for r in range(rows))


# --- faults ---------------------------------------------------------------------------
FAULT_KINDS = {
    "unauthorized",  # 401
    "locked",  # fal 403 "User is locked … Exhausted balance"
    "insufficient_credit",  # Replicate 402
    "field_error",  # 422 with a field message
    "content_policy",  # 422 content policy violation
    "rate_limited",  # 429 with Retry-After
    "server_error",  # 500 with error_type
    "unavailable",  # 503 with error_type
    "hang",  # answer only after hang_s (past the client's timeout)
    "reset",  # drop the connection with a TCP RST, no answer
    "malformed_json",  # 200 with a body that is not JSON
    "accept_then_hang",  # submit: create the request, then hang (ambiguous submit)
    "accept_then_reset",  # submit: create the request, then reset
    "completed_error",  # status: fal COMPLETED with error / Replicate failed
    "expired",  # file: 404
    "huge_content_length",  # file: Content-Length above the limit
    "big_body",  # file: stream big_mb megabytes with no Content-Length
    "trickle_body",  # file: half the body, then a byte every trickle_s for hang_s (stalls)
}


@dataclass
class Fault:
    op: str  # submit | status | result | cancel | file | list | any
    kind: str
    request_id: str | None = None
    times: int | None = 1  # None = every matching call
    retry_after: float = 2.0
    error_type: str = ""
    error: str = ""
    hang_s: float = 5.0
    big_mb: float = 2.0
    trickle_s: float = 0.5

    def matches(self, op: str, request_id: str | None) -> bool:
        if self.op not in (op, "any"):
            return False
        return self.request_id is None or self.request_id == request_id


@dataclass
class Record:
    id: str
    app: str
    endpoint: str
    input: dict[str, Any]
    webhook: str | None
    created: float = field(default_factory=time.monotonic)
    created_at: str = field(
        default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    )
    polls: int = 0
    completed: bool = False
    cancelled: bool = False
    error: Fault | None = None  # completed_error fault attached to this request
    webhook_sent: bool = False
    # Image inputs as the runner downloaded them: field -> bytes.
    fetched: dict[str, bytes] = field(default_factory=dict)
    # Set when a cancel arrived while the request was running (billed as it ran).
    cancel_requested_running: bool = False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # noqa: D401 - quiet: faults are expected
        pass


class Emulator:
    """Base class; subclasses implement route(handler, method, path, query, body)."""

    name = "emulator"

    def __init__(
        self,
        *,
        key: str = "test-key",
        queue_polls: int = 2,
        running_polls: int = 2,
        seconds_to_complete: float | None = None,
    ):
        self.key = key
        self.queue_polls = queue_polls
        self.running_polls = running_polls
        self.seconds_to_complete = seconds_to_complete
        self.records: dict[str, Record] = {}
        self.faults: list[Fault] = []
        self.counters: dict[str, int] = {}
        self.webhooks: list[dict[str, Any]] = []
        self.lock = threading.RLock()
        self.stop_event = threading.Event()
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> Emulator:
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._server = _Server(("127.0.0.1", 0), Handler)
        thread = threading.Thread(
            target=self._server.serve_forever, name=f"{self.name}-http", daemon=True
        )
        thread.start()
        ticker = threading.Thread(target=self._tick, name=f"{self.name}-tick", daemon=True)
        ticker.start()
        self._threads = [thread, ticker]
        return self

    def stop(self) -> None:
        self.stop_event.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "emulator not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- test API -----------------------------------------------------------------------
    def fail(self, op: str, kind: str, **options: Any) -> Fault:
        """Switch a fault on for the next matching call(s): fail("submit", "rate_limited",
        retry_after=3), fail("status", "completed_error", request_id=rid, error_type=...)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}")
        fault = Fault(op=op, kind=kind, **options)
        with self.lock:
            if kind == "completed_error" and fault.request_id in self.records:
                # The request finishes now, with this error (fal COMPLETED+error, Replicate failed).
                self.records[fault.request_id].error = fault
                self.records[fault.request_id].completed = True
            else:
                self.faults.append(fault)
        return fault

    def complete_now(self, request_id: str) -> None:
        with self.lock:
            record = self.records[request_id]
            record.completed = True
        self._maybe_webhook(record)

    def count(self, name: str) -> int:
        with self.lock:
            return self.counters.get(name, 0)

    def reset(self) -> None:
        with self.lock:
            self.records.clear()
            self.faults.clear()
            self.counters.clear()
            self.webhooks.clear()

    def file_url(self, request_id: str) -> str:
        return f"{self.url}/files/{request_id}/output.mp4"

    # --- internals ----------------------------------------------------------------------
    def bump(self, name: str) -> None:
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + 1

    def take_fault(self, op: str, request_id: str | None) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(op, request_id):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def new_id(self) -> str:
        return f"{self.name}-{next(self._ids):04d}-{int(time.time() * 1000) % 100000:05d}"

    def phase(self, record: Record, *, poll: bool) -> tuple[str, int]:
        """('queued', position) | ('running', step) | ('completed', 0)."""
        with self.lock:
            if poll:
                record.polls += 1
            if record.cancelled:
                return "cancelled", 0
            if record.completed:
                return "completed", 0
            if self.seconds_to_complete is not None:
                elapsed = time.monotonic() - record.created
                share = elapsed / max(self.seconds_to_complete, 1e-6)
                if share >= 1:
                    record.completed = True
                    return "completed", 0
                if share < 1 / 3:
                    return "queued", max(0, int((1 / 3 - share) * 9))
                return "running", int(share * 100)
            n = record.polls
            if n <= self.queue_polls:
                return "queued", self.queue_polls - n
            if n <= self.queue_polls + self.running_polls:
                return "running", n - self.queue_polls
            record.completed = True
            return "completed", 0

    def _tick(self) -> None:
        while not self.stop_event.wait(0.02):
            with self.lock:
                records = list(self.records.values())
            for record in records:
                if not record.webhook or record.webhook_sent:
                    continue
                if self.seconds_to_complete is not None:
                    self.phase(record, poll=False)
                if record.completed or record.cancelled:
                    self._maybe_webhook(record)

    def _maybe_webhook(self, record: Record) -> None:
        with self.lock:
            if not record.webhook or record.webhook_sent:
                return
            record.webhook_sent = True
        payload = self.webhook_payload(record)
        threading.Thread(target=self._post_webhook, args=(record, payload), daemon=True).start()

    def _post_webhook(self, record: Record, payload: dict[str, Any]) -> None:
        entry = {"request_id": record.id, "url": record.webhook, "payload": payload, "status": None}
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **self.webhook_headers(record, body)}
        try:
            response = httpx.post(record.webhook, content=body, headers=headers, timeout=10)
            entry["status"] = response.status_code
        except httpx.HTTPError as exc:
            entry["status"] = f"error: {type(exc).__name__}"
        with self.lock:
            self.webhooks.append(entry)

    def webhook_payload(self, record: Record) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def webhook_headers(self, record: Record, body: bytes) -> dict[str, str]:
        return {}

    def control(self, handler: _Handler, method: str, parts: list[str], body: Any) -> None:
        """/__emulator__/fault (POST json), /__emulator__/complete/<id>, /__emulator__/state."""
        if method == "POST" and parts[:1] == ["fault"] and isinstance(body, dict):
            self.fail(body.pop("op"), body.pop("kind"), **body)
            return handler.send_json(200, {"ok": True})
        if method == "POST" and parts[:1] == ["complete"] and len(parts) == 2:
            if parts[1] not in self.records:
                return handler.send_json(404, {"detail": "unknown request"})
            self.complete_now(parts[1])
            return handler.send_json(200, {"ok": True})
        if method == "GET" and parts[:1] == ["state"]:
            with self.lock:
                return handler.send_json(
                    200,
                    {
                        "counters": dict(self.counters),
                        "requests": list(self.records),
                        "webhooks": self.webhooks,
                    },
                )
        return handler.send_json(404, {"detail": "unknown control call"})

    def serve_file(self, handler: _Handler, request_id: str) -> None:
        self.bump("file_downloads")
        fault = self.take_fault("file", request_id)
        data = sample_mp4()
        if fault and fault.kind == "expired":
            return handler.send_json(404, {"detail": "File not found or expired"})
        if fault and fault.kind == "huge_content_length":
            handler.send_response(200)
            handler.send_header("Content-Type", "video/mp4")
            handler.send_header("Content-Length", str(10 * 1024**4))
            handler.end_headers()
            handler.safe_write(data)
            return
        if fault and fault.kind == "big_body":
            handler.send_response(200)
            handler.send_header("Content-Type", "video/mp4")
            handler.end_headers()  # HTTP/1.0 without Content-Length: body ends at close
            chunk = bytes(256 * 1024)
            for _ in range(int(fault.big_mb * 4) + 1):
                if not handler.safe_write(chunk):
                    break
            return
        if fault and fault.kind == "trickle_body":
            # A stalled CDN: headers and half the file, then one byte at a time, each
            # within the client's read timeout, so only a whole-download deadline ends it.
            handler.send_response(200)
            handler.send_header("Content-Type", "video/mp4")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            half = len(data) // 2
            if not handler.safe_write(data[:half]):
                return
            deadline = time.monotonic() + fault.hang_s
            for i in range(half, len(data)):
                if time.monotonic() > deadline or self.stop_event.wait(fault.trickle_s):
                    break
                if not handler.safe_write(data[i : i + 1]):
                    break
            self.bump("file_stalls_ended")
            handler.close_connection = True
            return
        if fault and self.apply_transport_fault(handler, fault):
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "video/mp4")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.safe_write(data)

    def apply_transport_fault(self, handler: _Handler, fault: Fault) -> bool:
        """hang / reset / malformed_json; True when the fault has produced the answer."""
        if fault.kind in ("hang", "accept_then_hang"):
            self.stop_event.wait(fault.hang_s)
            handler.send_json(504, {"detail": "late answer"})
            return True
        if fault.kind in ("reset", "accept_then_reset"):
            handler.reset_connection()
            return True
        if fault.kind == "malformed_json":
            handler.send_raw(200, b'{"request_id": "oops", "status_url": ', "application/json")
            return True
        return False


class _Handler(BaseHTTPRequestHandler):
    emulator: Emulator
    protocol_version = "HTTP/1.0"
    server_version = "ProviderEmulator/1.0"

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.body_invalid_json = False
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
            self.body_invalid_json = True
        parts = [p for p in split.path.split("/") if p]
        if parts[:1] == ["__emulator__"]:
            return self.emulator.control(self, method, parts[1:], body)
        if method == "GET" and len(parts) == 3 and parts[0] == "files":
            return self.emulator.serve_file(self, parts[1])
        self.query_all = parse_qs(split.query)
        query = {k: v[-1] for k, v in self.query_all.items()}
        self.emulator.route(self, method, parts, query, body, raw)

    def do_GET(self):  # noqa: N802
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self):  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self):  # noqa: N802
        self._dispatch("DELETE")

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.send_raw(status, json.dumps(payload).encode(), "application/json", headers)

    def send_raw(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (it timed out): expected with the hang fault

    def safe_write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            return True
        except OSError:
            return False

    def reset_connection(self) -> None:
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass

    def bearer(self) -> str:
        return self.headers.get("Authorization", "")
