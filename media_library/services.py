"""Writes to the media library. Every state change is one guarded function; every change
a user could see is pushed to their open tabs after the transaction commits."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction

from project.live import broadcast_on_commit, render_fragment
from project.state_machine import IllegalTransition, StateMachine

from . import processing
from .models import MediaItem
from .signals import media_item_deleting
from .sniffing import MediaRejected, clean_title, sniff

logger = logging.getLogger(__name__)

__all__ = [
    "IllegalTransition",
    "MediaRejected",
    "media_create_from_file",
    "media_delete",
    "media_mark_failed",
    "media_mark_ready",
    "media_process",
    "media_rename",
    "media_upload_create",
]

EMPTY = "This file is empty (0 bytes)."
PROCESSING_FAILED = "We could not read this file's video or audio, so it cannot be used."


CARD_UPDATE = "media_library/live/card_update.html"

Status = MediaItem.Status

# Processing runs once per upload; a finished item never changes state again (a failed
# one is deleted and uploaded anew).
ALLOWED: dict[str, frozenset[str]] = {
    Status.PROCESSING: frozenset({Status.READY, Status.FAILED}),
    Status.READY: frozenset(),
    Status.FAILED: frozenset(),
}

# Every transition pushes the updated card after commit.
MEDIA = StateMachine(
    "media", MediaItem, ALLOWED, push=lambda item: _push_on_commit(item, CARD_UPDATE)
)


def _max_bytes() -> int:
    return settings.MEDIA_MAX_UPLOAD_MB * 1024 * 1024


def media_check_size(*, size: int) -> None:
    """Refuse empty and oversized files. Views call it before reading the body too."""
    if size <= 0:
        raise MediaRejected(EMPTY, "empty")
    if size > _max_bytes():
        raise MediaRejected(
            f"This file is too large: the limit is {settings.MEDIA_MAX_UPLOAD_MB:,} MB.",
            "file_too_large",
        )


def _size_of(fileobj: BinaryIO) -> int:
    size = getattr(fileobj, "size", None)
    if size is None:
        fileobj.seek(0, os.SEEK_END)
        size = fileobj.tell()
    fileobj.seek(0)
    return size


# --- creation ------------------------------------------------------------------------------


def media_upload_create(*, owner, uploaded_file, metadata: dict | None = None) -> MediaItem:
    """A file the user uploaded. Its name only becomes the (cleaned) title."""
    return _media_create(
        owner=owner,
        fileobj=uploaded_file,
        title=clean_title(uploaded_file.name or ""),
        source=MediaItem.Source.UPLOAD,
        metadata=metadata or {},
    )


def media_create_from_file(
    *,
    owner,
    path_or_file: str | os.PathLike | BinaryIO,
    title: str,
    source: str,
    metadata: dict | None = None,
) -> MediaItem:
    """Register a file made on the server (a finished generation, an export): validate
    it like an upload, copy it into storage, enqueue processing and push the new card.

    The caller keeps ownership of `path_or_file` (it is copied, not moved). Raises
    MediaRejected for bad input, leaving nothing stored. Call it outside a transaction
    that may roll back afterwards, or the stored copy outlives the rolled-back row."""
    if source not in MediaItem.Source.values:
        raise ValueError(f"unknown media source {source!r}")
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "rb") as fh:
            return _media_create(
                owner=owner,
                fileobj=fh,
                title=clean_title(title),
                source=source,
                metadata=metadata or {},
            )
    return _media_create(
        owner=owner,
        fileobj=path_or_file,
        title=clean_title(title),
        source=source,
        metadata=metadata or {},
    )


def _media_create(*, owner, fileobj, title: str, source: str, metadata: dict) -> MediaItem:
    media_check_size(size=_size_of(fileobj))
    # Sniff the file object, never a path: FFmpeg would take the path's extension as a hint.
    sniffed = sniff(
        fileobj,
        max_image_pixels=settings.MEDIA_MAX_IMAGE_PIXELS,
        max_image_frames=settings.MEDIA_MAX_IMAGE_FRAMES,
        max_animation_pixels=settings.MEDIA_MAX_ANIMATION_PIXELS,
    )
    fileobj.seek(0)
    item = MediaItem(
        owner=owner,
        kind=sniffed.kind,
        title=title,
        mime_type=sniffed.mime_type,
        size_bytes=_size_of(fileobj),
        source=source,
        metadata=metadata,
        status=MediaItem.Status.PROCESSING,
    )
    stored: str | None = None
    committed: list[bool] = []
    try:
        with transaction.atomic():
            # Storage name is generated (see media_upload_to); the extension is the
            # sniffed one, never the user's.
            item.file.save(f"media.{sniffed.extension}", File(fileobj), save=False)
            stored = item.file.name
            item.save()
            transaction.on_commit(lambda: committed.append(True))
            # Robust: a broker hiccup after the commit must not look like a failed
            # upload (the row exists); the item is then re-enqueued by tasks.requeue_stuck.
            transaction.on_commit(lambda: _enqueue_processing(item.pk), robust=True)
            _push_on_commit(item, "media_library/live/card_insert.html")
    except BaseException:
        if stored and not committed:
            item.file.storage.delete(stored)
        raise
    return item


def _enqueue_processing(media_id: int) -> None:
    from .tasks import process_media

    process_media.delay(media_id)


# --- processing -------------------------------------------------------------------------


@contextmanager
def _local_path(item: MediaItem) -> Iterator[str]:
    """A filesystem path for the item's file, downloading it first for remote storage."""
    try:
        yield item.file.path
        return
    except NotImplementedError:
        pass
    suffix = Path(item.file.name).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with item.file.open("rb") as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                tmp.write(chunk)
        tmp.flush()
        yield tmp.name


def media_process(*, media_id: int) -> MediaItem | None:
    """Probe and thumbnail a PROCESSING item (the worker's job), then mark it ready or
    failed. Returns None if the item is gone or no longer processing (a redelivered task)."""
    item = MediaItem.objects.filter(pk=media_id).first()
    if item is None or item.status != MediaItem.Status.PROCESSING:
        return None
    try:
        with _local_path(item) as path:
            info = processing.probe(path)
            thumbs = processing.thumbnails_for(path, info)
    except (OSError, ValueError, processing.av.error.FFmpegError):
        logger.warning("media %s could not be processed", media_id, exc_info=True)
        return media_mark_failed(media_id=media_id, message=PROCESSING_FAILED)
    return media_mark_ready(media_id=media_id, info=info, thumbnails=thumbs)


def _media_transition(item: MediaItem, to: str, **fields) -> MediaItem | None:
    """The guarded move; None when the item was deleted meanwhile (nothing to mark)."""
    try:
        return MEDIA.transition_or_raise(item, to, **fields)
    except IllegalTransition as exc:
        if exc.code == IllegalTransition.STALE and exc.found is None:
            return None
        raise


def media_mark_ready(
    *, media_id: int, info: processing.Probe, thumbnails: processing.Thumbnails
) -> MediaItem | None:
    """PROCESSING -> READY with the probed facts and the derived images."""
    item = MediaItem.objects.filter(pk=media_id).first()
    if item is None:
        return None
    # Refused before the derived images are stored: a redelivered run changes nothing.
    MEDIA.check(item, Status.READY)
    saved: list[str] = []
    moved = None
    try:
        fields = {
            "duration_s": info.duration_s,
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "video_codec": info.video_codec,
            "audio_codec": info.audio_codec,
            "has_audio": info.has_audio,
            "metadata": {**item.metadata, "probe": info.extra},
            "filmstrip_frames": thumbnails.filmstrip_frames,
            "error_message": "",
        }
        for field, data, name in (
            ("poster", thumbnails.poster_jpeg, "poster.jpg"),
            ("filmstrip", thumbnails.filmstrip_jpeg, "filmstrip.jpg"),
            ("waveform", thumbnails.waveform_png, "waveform.png"),
        ):
            if data:
                getattr(item, field).save(name, ContentFile(data), save=False)
                saved.append(getattr(item, field).name)
                fields[field] = getattr(item, field).name
        with transaction.atomic():
            moved = _media_transition(item, Status.READY, **fields)
    finally:
        if moved is None:
            # Not marked ready (error, lost race, deleted item): the images belong to no row.
            storage = MediaItem._meta.get_field("poster").storage
            for name in saved:
                storage.delete(name)
    return moved


def media_mark_failed(*, media_id: int, message: str) -> MediaItem | None:
    """PROCESSING -> FAILED with a sentence for the user."""
    item = MediaItem.objects.filter(pk=media_id).first()
    if item is None:
        return None
    with transaction.atomic():
        return _media_transition(item, Status.FAILED, error_message=message[:300])


# --- user actions ----------------------------------------------------------------------


def media_rename(*, item: MediaItem, title: str) -> MediaItem:
    cleaned = clean_title(title, fallback="")
    if not cleaned:
        raise MediaRejected("Please enter a name.")
    with transaction.atomic():
        item.title = cleaned
        item.save(update_fields=["title", "updated_at"])
        _push_on_commit(item, "media_library/live/card_update.html")
    return item


def media_delete(*, item: MediaItem) -> None:
    """Delete the row and, once committed, its file and derived images. Receivers of
    `media_item_deleting` (the editor) remove clips that use it first; if clips remain,
    the editor's PROTECT foreign key raises ProtectedError and nothing is deleted."""
    names = [f.name for f in (item.file, item.poster, item.filmstrip, item.waveform) if f]
    storage = item.file.storage
    owner_id, dom_id = item.owner_id, item.dom_id
    with transaction.atomic():
        media_item_deleting.send(sender=MediaItem, item=item)
        item.delete()
        transaction.on_commit(lambda: [storage.delete(n) for n in names])
        broadcast_on_commit(
            owner_id,
            lambda: render_fragment("media_library/live/card_remove.html", {"dom_id": dom_id}),
        )


def _push_on_commit(item: MediaItem, template: str) -> None:
    broadcast_on_commit(item.owner_id, lambda: render_fragment(template, {"item": item}))
