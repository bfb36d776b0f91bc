"""Resumable, chunked uploads (tus-like; the protocol is in docs/uploads.md).

A client creates an UploadSession (name, declared size, type), then PATCHes raw bytes at
the session's offset, chunk by chunk. The bytes live in one partial file per session under
UPLOAD_PARTIAL_DIR (shared by every web node); `offset` counts the bytes durably written
(fsynced before the row is updated). When offset == size the assembled file goes through
`services.media_upload_create`, so the result is exactly what a single-request upload
gives, and the partial file is removed.

Every refusal is an UploadError with a `code`; `refusal` below is the one mapping to an
HTTP answer (the status from STATUS, the code, the message, the offset), used by both
doors (media_library/views.py and generation/api/uploads.py), which never read the message.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.files import File
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import services
from .models import UploadSession
from .sniffing import MediaRejected

logger = logging.getLogger(__name__)

READ_BYTES = 1024 * 1024  # the request body is streamed in reads of this size

# Fail-fast checks on what the client declares (the bytes are still sniffed at the end,
# exactly as a single-request upload's are: these only save sending a PDF for nothing).
MEDIA_EXTENSIONS = frozenset(
    "mp4 m4v mov qt 3gp 3g2 mj2 mkv webm mp3 wav wave ogg oga ogv opus flac m4a "
    "png jpg jpeg jfif webp gif".split()
)
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
MEDIA_TYPE_PREFIXES = ("video/", "image/", "audio/")

# code -> HTTP status, shared by the browser views and the API.
STATUS = {
    "invalid": 400,
    "empty": 400,
    "unsupported_type": 415,
    "too_large": 413,
    "chunk_too_large": 413,
    "beyond_size": 413,
    "too_many": 429,
    "not_found": 404,
    "expired": 410,
    "offset_mismatch": 409,
    "busy": 409,
    "not_open": 409,
    "rejected": 400,
}


class UploadError(Exception):
    """A refusal. `code` is for programs (see STATUS), `message` for people; `offset` is
    the stored offset when it helps the client resume (offset_mismatch, busy)."""

    def __init__(self, code: str, message: str, *, offset: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 400)


# --- HTTP: one mapping for both doors (the browser views and the API) -----------------------


def refusal(exc: UploadError, *, message_key: str) -> tuple[int, dict, dict[str, str]]:
    """An UploadError as an HTTP answer: (status, JSON body, headers). The body carries the
    message under `message_key` (the browser routes say "error", the API's envelope says
    "message"), the `code`, and the stored `offset` when there is one (also a header, so a
    client resumes the same way from a refusal as from a HEAD)."""
    body: dict = {message_key: exc.message, "code": exc.code}
    headers = {"Cache-Control": "no-store"}
    if exc.offset is not None:
        body["offset"] = exc.offset
        headers["Upload-Offset"] = str(exc.offset)
    return exc.status, body, headers


def session_headers(session: UploadSession) -> dict[str, str]:
    """The headers of every answer about a session: where it stands, never cached."""
    return {
        "Upload-Offset": str(session.offset),
        "Upload-Length": str(session.size),
        "Cache-Control": "no-store",
    }


def session_fields(session: UploadSession) -> dict:
    """What both doors say about a session, besides its URL and what follows completion."""
    return {
        "offset": session.offset,
        "size": session.size,
        "status": session.status,
        "chunk_size": chunk_size(),
        "chunk_max_bytes": chunk_max_bytes(),
        "expires_at": session.expires_at.isoformat(),
    }


def declared_length(raw) -> int | None:
    """A request's Content-Length as a byte count; None when absent or unreadable (the
    chunk is then read to its end, within the chunk cap)."""
    if raw in (None, ""):
        return None
    try:
        return max(0, int(raw))
    except (TypeError, ValueError):
        return None


def chunk_from_request(request) -> dict:
    """The arguments of `upload_append` a PATCH brings, the same for both doors: the
    Upload-Offset header, the body as a stream, its declared length."""
    return {
        "offset": request.headers.get("Upload-Offset"),
        "stream": request,
        "length": declared_length(request.META.get("CONTENT_LENGTH")),
    }


class _Busy(Exception):
    pass


class Readable(Protocol):
    def read(self, n: int = -1) -> bytes: ...


# --- settings ------------------------------------------------------------------------------


def partial_dir() -> Path:
    path = Path(settings.UPLOAD_PARTIAL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def partial_path(session_id) -> Path:
    return partial_dir() / f"{uuid.UUID(str(session_id)).hex}.part"


def chunk_size() -> int:
    return max(1, min(settings.UPLOAD_CHUNK_BYTES, settings.UPLOAD_CHUNK_MAX_BYTES))


def chunk_max_bytes() -> int:
    return settings.UPLOAD_CHUNK_MAX_BYTES


def small_upload_max_bytes() -> int:
    return settings.SMALL_UPLOAD_MAX_MB * 1024 * 1024


def _expiry():
    return timezone.now() + timedelta(hours=settings.UPLOAD_EXPIRE_HOURS)


# --- create --------------------------------------------------------------------------------


def _check_declared(*, filename: str, size, content_type: str) -> tuple[str, int, str]:
    filename = (filename or "").strip()
    if not filename or len(filename) > 255 or "\x00" in filename:
        raise UploadError("invalid", "Please give the file's name (at most 255 characters).")
    try:
        size = int(size)
    except (TypeError, ValueError):
        raise UploadError("invalid", "The file's size must be a whole number of bytes.") from None
    if size <= 0:
        raise UploadError("empty", services.EMPTY)
    if size > settings.MEDIA_MAX_UPLOAD_MB * 1024 * 1024:
        raise UploadError(
            "too_large",
            f"This file is too large: the limit is {settings.MEDIA_MAX_UPLOAD_MB:,} MB.",
        )
    content_type = (content_type or "").split(";")[0].strip().lower()
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename.strip(".") else ""
    type_ok = content_type in GENERIC_TYPES or content_type.startswith(MEDIA_TYPE_PREFIXES)
    if not type_ok or (ext and ext not in MEDIA_EXTENSIONS):
        raise UploadError(
            "unsupported_type", "This file is not a video, image or audio file we can read."
        )
    return filename, size, content_type[:100]


def upload_create(*, owner, filename: str, size, content_type: str = "") -> UploadSession:
    """Open a session after checking the declared name, size and type (fail fast)."""
    filename, size, content_type = _check_declared(
        filename=filename, size=size, content_type=content_type
    )
    open_count = UploadSession.objects.filter(
        owner=owner,
        status__in=[UploadSession.Status.OPEN, UploadSession.Status.COMPLETING],
        expires_at__gt=timezone.now(),
    ).count()
    if open_count >= settings.UPLOAD_MAX_OPEN_PER_USER:
        raise UploadError(
            "too_many",
            f"You have {open_count} unfinished uploads: finish or cancel one first "
            f"(at most {settings.UPLOAD_MAX_OPEN_PER_USER}).",
        )
    session = UploadSession.objects.create(
        owner=owner,
        filename=filename,
        size=size,
        content_type=content_type,
        expires_at=_expiry(),
    )
    partial_path(session.pk).touch()
    return session


# --- read ----------------------------------------------------------------------------------


def _parse_id(session_id) -> uuid.UUID:
    try:
        return uuid.UUID(str(session_id))
    except ValueError:
        raise UploadError("not_found", "No such upload.") from None


def upload_get(*, owner, session_id) -> UploadSession:
    """The owner's session (another user's is not_found, like a missing one)."""
    session = UploadSession.objects.filter(pk=_parse_id(session_id), owner=owner).first()
    if session is None:
        raise UploadError("not_found", "No such upload.")
    if session.status == UploadSession.Status.OPEN and session.expires_at <= timezone.now():
        raise UploadError("expired", "This upload expired: please start it again.")
    return session


# --- append --------------------------------------------------------------------------------


def _stream_into(fh, stream: Readable, *, limit: int) -> int:
    """Copy from `stream` into `fh` in READ_BYTES reads until it ends or `limit` bytes
    were taken; reading one byte past `limit` is how an over-long body is noticed."""
    written = 0
    while written <= limit:
        data = stream.read(min(READ_BYTES, limit + 1 - written))
        if not data:
            break
        fh.write(data)
        written += len(data)
    return written


def upload_append(
    *, owner, session_id, offset, stream: Readable, length: int | None
) -> UploadSession:
    """Write one chunk at `offset` (which must equal the stored offset) and return the
    session. `length` is the request's Content-Length when it sent one; a body shorter
    than declared stores what arrived (the offset says how much) and never more.

    When the last byte arrives the session is completed in the same call: the result has
    status DONE and `media_item`, or an UploadError('rejected') was raised."""
    try:
        offset = int(offset)
    except (TypeError, ValueError):
        raise UploadError(
            "invalid", "Send the chunk's position as the Upload-Offset header."
        ) from None
    if length is not None and length > settings.UPLOAD_CHUNK_MAX_BYTES:
        raise UploadError(
            "chunk_too_large",
            f"A chunk may carry at most {settings.UPLOAD_CHUNK_MAX_BYTES:,} bytes.",
        )
    sid = _parse_id(session_id)
    try:
        with transaction.atomic():
            try:
                session = (
                    UploadSession.objects.select_for_update(nowait=True)
                    .filter(pk=sid, owner=owner)
                    .first()
                )
            except OperationalError as exc:
                # Locked by another request writing a chunk of this upload (nowait).
                raise _Busy() from exc
            _write_chunk(session, offset=offset, stream=stream, length=length)
    except _Busy as exc:
        stored = list(
            UploadSession.objects.filter(pk=sid, owner=owner).values_list("offset", flat=True)
        )
        if not stored:
            raise UploadError("not_found", "No such upload.") from None
        logger.info("upload %s: chunk refused while another is written (%s)", sid, exc.__cause__)
        raise UploadError(
            "busy", "Another chunk of this upload is being written.", offset=stored[0]
        ) from None
    if session.offset == session.size:
        return upload_complete(owner=owner, session_id=session.pk)
    return session


def _write_chunk(session, *, offset: int, stream: Readable, length: int | None) -> None:
    if session is None:
        raise UploadError("not_found", "No such upload.")
    if session.status != UploadSession.Status.OPEN:
        raise UploadError("not_open", f"This upload is {session.status}.", offset=session.offset)
    if session.expires_at <= timezone.now():
        raise UploadError("expired", "This upload expired: please start it again.")
    if offset != session.offset:
        raise UploadError(
            "offset_mismatch",
            f"This upload has {session.offset} bytes stored; send from there.",
            offset=session.offset,
        )
    remaining = session.size - session.offset
    if length is not None and length > remaining:
        raise UploadError(
            "beyond_size",
            f"This chunk goes past the declared size ({session.size:,} bytes).",
            offset=session.offset,
        )
    limit = min(remaining, settings.UPLOAD_CHUNK_MAX_BYTES)
    path = partial_path(session.pk)
    mode = "r+b" if path.exists() else "w+b"
    with open(path, mode) as fh:
        # Bytes past the stored offset are from an attempt that died before its
        # offset was saved: drop them so a re-sent chunk never duplicates bytes.
        fh.truncate(session.offset)
        fh.seek(session.offset)
        written = _stream_into(fh, stream, limit=limit)
        if written > limit:
            fh.truncate(session.offset)
            code = "beyond_size" if limit == remaining else "chunk_too_large"
            raise UploadError(
                code,
                f"This chunk is too long (at most {limit:,} more bytes fit).",
                offset=session.offset,
            )
        fh.flush()
        os.fsync(fh.fileno())
    session.offset += written
    session.expires_at = _expiry()
    session.save(update_fields=["offset", "expires_at", "updated_at"])


# --- complete / abort ----------------------------------------------------------------------


def upload_complete(*, owner, session_id) -> UploadSession:
    """OPEN with every byte -> COMPLETING -> DONE (a MediaItem) or ABORTED (refused by
    today's validation: nothing stored, the refusal kept as error_message)."""
    sid = _parse_id(session_id)
    claimed = UploadSession.objects.filter(
        pk=sid,
        owner=owner,
        status=UploadSession.Status.OPEN,
        offset=F("size"),
    ).update(status=UploadSession.Status.COMPLETING, updated_at=timezone.now())
    session = upload_get(owner=owner, session_id=sid) if not claimed else None
    if not claimed:
        if session.status == UploadSession.Status.DONE:
            return session
        raise UploadError("not_open", f"This upload is {session.status}.", offset=session.offset)
    session = UploadSession.objects.get(pk=sid)
    path = partial_path(sid)
    try:
        with open(path, "rb") as fh:
            item = services.media_upload_create(
                owner=owner, uploaded_file=File(fh, name=session.filename)
            )
    except MediaRejected as exc:
        UploadSession.objects.filter(pk=sid, status=UploadSession.Status.COMPLETING).update(
            status=UploadSession.Status.ABORTED,
            error_message=exc.message[:300],
            updated_at=timezone.now(),
        )
        path.unlink(missing_ok=True)
        raise UploadError("rejected", exc.message, offset=session.offset) from None
    except BaseException:
        # Unexpected (storage down, ...): the bytes are kept, the client may complete again.
        UploadSession.objects.filter(pk=sid, status=UploadSession.Status.COMPLETING).update(
            status=UploadSession.Status.OPEN, updated_at=timezone.now()
        )
        raise
    UploadSession.objects.filter(pk=sid, status=UploadSession.Status.COMPLETING).update(
        status=UploadSession.Status.DONE, media_item=item, updated_at=timezone.now()
    )
    path.unlink(missing_ok=True)
    session.refresh_from_db()
    return session


def upload_abort(*, owner, session_id) -> None:
    """Cancel: the partial file goes; a session already completing or done is left alone."""
    sid = _parse_id(session_id)
    session = UploadSession.objects.filter(pk=sid, owner=owner).first()
    if session is None:
        raise UploadError("not_found", "No such upload.")
    aborted = UploadSession.objects.filter(pk=sid, status=UploadSession.Status.OPEN).update(
        status=UploadSession.Status.ABORTED,
        error_message="Cancelled.",
        updated_at=timezone.now(),
    )
    if not aborted and session.status != UploadSession.Status.ABORTED:
        raise UploadError("not_open", f"This upload is {session.status}.", offset=session.offset)
    partial_path(sid).unlink(missing_ok=True)


# --- expiry --------------------------------------------------------------------------------

ORPHAN_GRACE_S = 3600  # a partial file with no live session, untouched this long, goes


def expire_partial_uploads(*, now=None) -> dict[str, int]:
    """Remove sessions idle past UPLOAD_EXPIRE_HOURS (their rows and partial files), and
    partial files that no live session owns. Returns counts for the log."""
    now = now or timezone.now()
    idle_cutoff = now - timedelta(hours=settings.UPLOAD_EXPIRE_HOURS)
    stale = UploadSession.objects.filter(
        # open ones by their rolling expiry; finished ones a full period after their end;
        # a completing one only if it has been stuck that long (its process died).
        Q(status=UploadSession.Status.OPEN, expires_at__lte=now) | Q(updated_at__lte=idle_cutoff)
    )
    sessions = 0
    for sid in list(stale.values_list("pk", flat=True)[:5000]):
        deleted, _ = (
            UploadSession.objects.filter(pk=sid)
            .filter(
                Q(status=UploadSession.Status.OPEN, expires_at__lte=now)
                | Q(updated_at__lte=idle_cutoff)
            )
            .delete()
        )
        if deleted:
            partial_path(sid).unlink(missing_ok=True)
            sessions += 1
    live = {
        sid.hex
        for sid in UploadSession.objects.filter(
            status__in=[UploadSession.Status.OPEN, UploadSession.Status.COMPLETING]
        ).values_list("pk", flat=True)
    }
    orphans = 0
    for entry in partial_dir().iterdir():
        stem = entry.name.removesuffix(".part")
        if stem in live or not entry.is_file():
            continue
        try:
            age = now.timestamp() - entry.stat().st_mtime
        except FileNotFoundError:
            continue
        if age >= ORPHAN_GRACE_S:
            entry.unlink(missing_ok=True)
            orphans += 1
    if sessions or orphans:
        logger.info("expired %s upload session(s), removed %s orphan file(s)", sessions, orphans)
    return {"sessions": sessions, "orphans": orphans}
