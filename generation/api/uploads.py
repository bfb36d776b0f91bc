"""Resumable, chunked uploads in the API (the protocol: docs/uploads.md). Same service as
the browser's /media/uploads/ routes (media_library/uploads.py); a file larger than
SMALL_UPLOAD_MAX_MB must come this way rather than through POST /api/media."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponse
from ninja import Schema

from media_library import uploads

from .base import api
from .routes import media_out
from .schemas import ErrorOut, MediaOut

PROTOCOL = """
1. `POST /api/uploads` with JSON `{"filename", "size", "type"}` → 201 with `id`, `url`,
   `offset` (0) and `chunk_size` (send chunks of this size; at most `chunk_max_bytes`).
2. `PATCH /api/uploads/{id}` with headers `Upload-Offset: <offset>` and
   `Content-Type: application/offset+octet-stream`, and the next bytes of the file as the
   raw body → 204 with the new `Upload-Offset` header. The chunk that brings the offset to
   `size` returns 201 with the media item (the same validation and processing as
   `POST /api/media`; a refused file leaves nothing stored and answers 400).
3. On a dropped connection or a 5xx: `HEAD /api/uploads/{id}` (or GET) gives the stored
   offset in `Upload-Offset`; resume from there. A PATCH whose `Upload-Offset` is not the
   stored offset is answered 409 with the stored offset (header and `offset` field).
4. `DELETE /api/uploads/{id}` cancels. Uploads idle for UPLOAD_EXPIRE_HOURS are removed.

Errors carry a `code`: invalid, empty, unsupported_type, too_large, chunk_too_large,
beyond_size, too_many, not_found, expired, offset_mismatch, busy, not_open, rejected.
The chunk routes (PATCH, HEAD/GET) do not count against API_RATE."""


class UploadIn(Schema):
    filename: str
    size: int
    type: str = ""


class UploadOut(Schema):
    id: uuid.UUID
    url: str
    offset: int
    size: int
    status: str
    chunk_size: int
    chunk_max_bytes: int
    expires_at: str
    error: str | None = None
    media: MediaOut | None = None


class UploadErrorOut(ErrorOut):
    # Absent only from the API's generic errors (a malformed body, a missing token).
    code: str | None = None
    offset: int | None = None


UPLOAD_ERRORS = {
    400: UploadErrorOut,
    401: ErrorOut,
    404: UploadErrorOut,
    409: UploadErrorOut,
    410: UploadErrorOut,
    413: UploadErrorOut,
    415: UploadErrorOut,
    429: ErrorOut,
}

# tus's media type; plain application/octet-stream is accepted as well (the body is raw
# bytes either way, the type is not checked).
CHUNK_BODY = {
    "required": True,
    "content": {
        "application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}
OFFSET_HEADER = [
    {
        "name": "Upload-Offset",
        "in": "header",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
        "description": "Where this chunk starts: must equal the stored offset.",
    }
]


def _with_headers(response: HttpResponse, headers: dict[str, str]) -> HttpResponse:
    for name, value in headers.items():
        response[name] = value
    return response


def _refused(request, exc: uploads.UploadError) -> HttpResponse:
    # The API's error envelope: the message under "message", and "errors" (none here).
    status, body, headers = uploads.refusal(exc, message_key="message")
    response = api.create_response(request, {**body, "errors": {}}, status=status)
    return _with_headers(response, headers)


def _url(request, session) -> str:
    return request.build_absolute_uri(f"/api/uploads/{session.pk}")


def _out(request, session) -> dict[str, Any]:
    return {
        "id": session.pk,
        "url": _url(request, session),
        **uploads.session_fields(session),
        "error": session.error_message or None,
        "media": media_out(request, session.media_item) if session.media_item_id else None,
    }


def _with_offset(response: HttpResponse, session) -> HttpResponse:
    return _with_headers(response, uploads.session_headers(session))


@api.post(
    "/uploads",
    response={201: UploadOut, **UPLOAD_ERRORS},
    summary="Start a resumable upload (for files larger than the POST /api/media limit)",
    description=PROTOCOL,
)
def upload_start(request, body: UploadIn):
    try:
        session = uploads.upload_create(
            owner=request.user, filename=body.filename, size=body.size, content_type=body.type
        )
    except uploads.UploadError as exc:
        return _refused(request, exc)
    response = api.create_response(request, _out(request, session), status=201)
    response["Location"] = _url(request, session)
    return _with_offset(response, session)


@api.api_operation(
    ["GET", "HEAD"],
    "/uploads/{upload_id}",
    response={200: UploadOut, **UPLOAD_ERRORS},
    throttle=[],
    summary="A resumable upload's stored offset (also in the Upload-Offset header)",
    description=PROTOCOL,
)
def upload_status(request, upload_id: uuid.UUID):
    try:
        session = uploads.upload_get(owner=request.user, session_id=upload_id)
    except uploads.UploadError as exc:
        return _refused(request, exc)
    return _with_offset(api.create_response(request, _out(request, session), status=200), session)


@api.patch(
    "/uploads/{upload_id}",
    response={201: MediaOut, 204: None, **UPLOAD_ERRORS},
    throttle=[],
    openapi_extra={"requestBody": CHUNK_BODY, "parameters": OFFSET_HEADER},
    summary="Send the next chunk of a resumable upload (raw bytes at Upload-Offset)",
    description=PROTOCOL,
)
def upload_chunk(request, upload_id: uuid.UUID):
    try:
        session = uploads.upload_append(
            owner=request.user, session_id=upload_id, **uploads.chunk_from_request(request)
        )
    except uploads.UploadError as exc:
        return _refused(request, exc)
    if session.status == session.Status.DONE:
        response = api.create_response(request, media_out(request, session.media_item), status=201)
    else:
        response = HttpResponse(status=204)
    return _with_offset(response, session)


@api.delete(
    "/uploads/{upload_id}",
    response={204: None, **UPLOAD_ERRORS},
    summary="Cancel a resumable upload (its stored bytes are deleted)",
)
def upload_cancel(request, upload_id: uuid.UUID):
    try:
        uploads.upload_abort(owner=request.user, session_id=upload_id)
    except uploads.UploadError as exc:
        return _refused(request, exc)
    return HttpResponse(status=204)
