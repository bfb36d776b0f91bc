"""Request body caps enforced in the ASGI layer, before Django (or anything) parses a byte.

Why here and not in a view: Django's ASGI handler reads the whole body (spooling it to a
temporary file) before the first middleware runs, and a multipart body is then parsed
before any view can look at who sent it. So an anonymous client could make every web node
write and parse gigabytes. This wrapper looks at the declared `Content-Length` and refuses
an oversized request at once with 413 (the body is never read); a body sent without a
length (chunked transfer encoding) is counted as it streams and cut off at the cap.

Three caps, by what the request is:
- a chunk of a resumable upload (`PATCH /media/uploads/<id>/`, `PATCH /api/uploads/<id>`):
  up to UPLOAD_CHUNK_MAX_BYTES — the only way large files come in;
- a multipart form (the small single-request upload, a start image): SMALL_UPLOAD_MAX_MB;
- everything else (forms, JSON, webhooks): REQUEST_BODY_MAX_BYTES.
nginx applies the same numbers in front (see README, "Deployment"); this layer makes
`make run` and any proxy misconfiguration just as safe.
"""

from __future__ import annotations

import json
import re

from django.conf import settings

# Room for multipart framing around the file (boundaries, part headers, a title field).
MULTIPART_SLACK = 64 * 1024
CHUNK_ROUTE = re.compile(r"^/(?:media/uploads|api/uploads)/[0-9a-fA-F-]{32,36}/?$")


class BodyTooLarge(Exception):
    """Raised into the app's receive() when a streamed body passes its cap."""


def body_cap(*, method: str, path: str, content_type: str) -> tuple[int, str]:
    """(cap in bytes, what the cap is for) for one request."""
    if method == "PATCH" and CHUNK_ROUTE.match(path):
        return settings.UPLOAD_CHUNK_MAX_BYTES, "an upload chunk"
    if content_type.lower().startswith("multipart/"):
        return settings.SMALL_UPLOAD_MAX_MB * 1024 * 1024 + MULTIPART_SLACK, "a form upload"
    return settings.REQUEST_BODY_MAX_BYTES, "a request"


def refusal_sentence(cap: int, what: str) -> str:
    if cap >= 1024 * 1024:
        size = f"{cap / (1024 * 1024):.0f} MB"
    else:
        size = f"{cap // 1024} KB" if cap >= 1024 else f"{cap} bytes"
    sentence = f"This request is too large: the limit for {what} is {size}."
    if what != "an upload chunk":
        sentence += (
            " Larger files are uploaded in chunks (the media panel does this; API: /api/uploads)."
        )
    return sentence


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


async def _refuse(scope, send, cap: int, what: str) -> None:
    sentence = refusal_sentence(cap, what)
    wants_json = scope["path"].startswith("/api/") or "json" in _header(scope, b"accept")
    if wants_json:
        body = json.dumps({"message": sentence, "errors": {}, "code": "body_too_large"}).encode()
        ctype = b"application/json"
    else:
        body = sentence.encode()
        ctype = b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", ctype),
                (b"content-length", str(len(body)).encode()),
                # The unread body is still on the wire: this connection cannot be reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cap, what = body_cap(
            method=scope["method"],
            path=scope["path"],
            content_type=_header(scope, b"content-type"),
        )
        declared = _header(scope, b"content-length")
        if declared:
            if not declared.isdigit() or int(declared) > cap:
                return await _refuse(scope, send, cap, what)

        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await _refuse(scope, send, cap, what)
