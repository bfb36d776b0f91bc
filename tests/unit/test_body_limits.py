"""Request body caps in the ASGI layer: an oversized request is answered 413 from its
headers without the body being read, a length-less (chunked) body is cut off at the cap,
and each kind of request gets its own cap. The app behind is a probe that records
whether it ran and how much it read."""

from __future__ import annotations

import asyncio
import json

import pytest

from project.body_limits import MULTIPART_SLACK, RequestBodyLimit, body_cap

MB = 1024 * 1024
CHUNK_PATH = "/media/uploads/0b9f3c1e-9c53-4a0e-9a4a-6f6f2f0f6a11/"


class Probe:
    """Reads the whole body like Django's ASGI handler, then answers 200."""

    def __init__(self):
        self.called = False
        self.read = 0

    async def __call__(self, scope, receive, send):
        self.called = True
        while True:
            message = await receive()
            self.read += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def run(*, path="/anything/", method="POST", headers=(), pieces=(b"",)):
    probe = Probe()
    sent: list[dict] = []
    pulled = 0
    queue = list(pieces)

    async def receive():
        nonlocal pulled
        pulled += 1
        body = queue.pop(0) if queue else b""
        return {"type": "http.request", "body": body, "more_body": bool(queue)}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.encode(), v.encode()) for k, v in headers],
    }
    asyncio.run(RequestBodyLimit(probe)(scope, receive, send))
    status = sent[0]["status"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return status, body, probe, pulled, dict(sent[0]["headers"])


def test_declared_length_over_the_cap_is_refused_without_reading(settings):
    settings.SMALL_UPLOAD_MAX_MB = 8
    length = 128 * MB
    status, body, probe, pulled, headers = run(
        headers=[
            ("content-type", "multipart/form-data; boundary=x"),
            ("content-length", str(length)),
        ]
    )
    assert status == 413
    assert not probe.called and pulled == 0
    assert headers[b"connection"] == b"close"
    assert b"limit for a form upload is 8 MB" in body


def test_a_body_within_the_cap_reaches_the_app_whole(settings):
    settings.REQUEST_BODY_MAX_BYTES = 1000
    status, _, probe, _, _ = run(
        headers=[("content-type", "application/json"), ("content-length", "1000")],
        pieces=(b"x" * 600, b"y" * 400),
    )
    assert status == 200 and probe.called and probe.read == 1000


def test_a_chunked_body_without_length_is_cut_off_at_the_cap(settings):
    settings.REQUEST_BODY_MAX_BYTES = 1000
    pieces = tuple(b"z" * 400 for _ in range(10))  # 4000 bytes, no Content-Length
    status, body, probe, pulled, _ = run(
        headers=[("content-type", "application/x-www-form-urlencoded")], pieces=pieces
    )
    assert status == 413
    assert probe.called and pulled == 3  # stopped at the piece that crossed 1000 bytes
    assert b"limit for a request is 1000 bytes" in body


def test_api_refusals_are_json_with_a_code(settings):
    settings.REQUEST_BODY_MAX_BYTES = 10
    status, body, *_ = run(path="/api/generate-video", headers=[("content-length", "11")])
    assert status == 413
    payload = json.loads(body)
    assert payload["code"] == "body_too_large" and "/api/uploads" in payload["message"]


@pytest.mark.parametrize("bad", ["-1", "12abc", "1e9", " "])
def test_a_malformed_content_length_is_refused(bad):
    status, _, probe, _, _ = run(headers=[("content-length", bad)])
    assert status == 413 and not probe.called


def test_each_kind_of_request_has_its_own_cap(settings):
    settings.UPLOAD_CHUNK_MAX_BYTES = 16 * MB
    settings.SMALL_UPLOAD_MAX_MB = 8
    settings.REQUEST_BODY_MAX_BYTES = 2 * MB
    octets = "application/offset+octet-stream"
    assert body_cap(method="PATCH", path=CHUNK_PATH, content_type=octets)[0] == 16 * MB
    api_chunk = "/api/uploads/0b9f3c1e9c534a0e9a4a6f6f2f0f6a11"
    assert body_cap(method="PATCH", path=api_chunk, content_type=octets)[0] == 16 * MB
    # Only PATCH on a chunk URL gets the chunk cap: not a POST there, not a lookalike path.
    assert body_cap(method="POST", path=CHUNK_PATH, content_type=octets)[0] == 2 * MB
    lookalike = "/media/uploads/0b9f3c1e-9c53-4a0e-9a4a-6f6f2f0f6a11/x/"
    assert body_cap(method="PATCH", path=lookalike, content_type=octets)[0] == 2 * MB
    multipart = "multipart/form-data; boundary=b"
    assert body_cap(method="POST", path="/media/upload/", content_type=multipart)[0] == (
        8 * MB + MULTIPART_SLACK
    )
    assert body_cap(method="POST", path="/x/", content_type="MULTIPART/mixed")[0] == (
        8 * MB + MULTIPART_SLACK
    )
    assert body_cap(method="POST", path="/x/", content_type="application/json")[0] == 2 * MB


def test_a_chunk_within_its_cap_passes(settings):
    settings.UPLOAD_CHUNK_MAX_BYTES = 4000
    status, _, probe, _, _ = run(
        method="PATCH",
        path=CHUNK_PATH,
        headers=[("content-length", "4000")],
        pieces=(b"a" * 4000,),
    )
    assert status == 200 and probe.read == 4000
