"""Writes to the media library. Every state change is one guarded function; every change
a user could see is pushed to their open tabs after the transaction commits."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from project.live import broadcast_on_commit, render_fragment
from project.state_machine import IllegalTransition, StateMachine

from . import processing
from .models import MediaItem
from .signals import media_item_deleting, media_item_poster_changed
from .sniffing import MediaRejected, clean_title, sniff

logger = logging.getLogger(__name__)

__all__ = [
    "IllegalTransition",
    "MediaRejected",
    "media_create_from_file",
    "media_delete",
    "media_give_up",
    "media_mark_failed",
    "media_mark_ready",
    "media_process",
    "media_refine_thumbnails",
    "media_rename",
    "media_upload_create",
]

EMPTY = "This file is empty (0 bytes)."
PROCESSING_FAILED = "We could not read this file's video or audio, so it cannot be used."


CARD_UPDATE = "media_library/live/card_update.html"

Status = MediaItem.Status

# metadata["thumbnails"]: "keyframe" while a ready video shows its first keyframe poster
# and waits for its filmstrip and refined poster, "complete" once they are made.
THUMBS_KEYFRAME = "keyframe"
THUMBS_COMPLETE = "complete"

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
    """Process an item (the worker's job) in two steps, each committed and pushed:

    1. probe and first images (for a video, a keyframe poster: tens of milliseconds),
       then mark it ready (playable) or failed: its card, and the card of the job that
       made it, show the poster at once;
    2. for a video, decode the clip once for the filmstrip and the refined poster
       (`media_refine_thumbnails`), pushed again.

    Returns the item as it ends, or None if it is gone or there is nothing left to do (a
    redelivered task). A ready video still waiting for step 2 (a worker killed between
    the steps) gets step 2 only."""
    item = MediaItem.objects.filter(pk=media_id).first()
    if item is None:
        return None
    if item.status == Status.PROCESSING:
        item = _process_first(item)
        if item is None or item.status != Status.READY:
            return item
    elif not (item.status == Status.READY and item.metadata.get("thumbnails") == THUMBS_KEYFRAME):
        return None
    return media_refine_thumbnails(media_id=media_id) or item


def _process_first(item: MediaItem) -> MediaItem | None:
    try:
        with _local_path(item) as path:
            first = processing.probe_and_first_images(path)
    except (OSError, ValueError, processing.av.error.FFmpegError):
        logger.warning("media %s could not be processed", item.pk, exc_info=True)
        return media_mark_failed(media_id=item.pk, message=PROCESSING_FAILED)
    return media_mark_ready(
        media_id=item.pk,
        info=first.info,
        thumbnails=first.thumbnails,
        refine=processing.needs_refining(first.info),
        timings_ms={"probe": _ms(first.probe_s), "first_images": _ms(first.images_s)},
    )


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _media_transition(item: MediaItem, to: str, **fields) -> MediaItem | None:
    """The guarded move; None when the item was deleted meanwhile (nothing to mark)."""
    try:
        return MEDIA.transition_or_raise(item, to, **fields)
    except IllegalTransition as exc:
        if exc.code == IllegalTransition.STALE and exc.found is None:
            return None
        raise


def media_mark_ready(
    *,
    media_id: int,
    info: processing.Probe,
    thumbnails: processing.Thumbnails,
    refine: bool = False,
    timings_ms: dict | None = None,
) -> MediaItem | None:
    """PROCESSING -> READY with the probed facts and the derived images. `refine`: these
    are first images, `media_refine_thumbnails` will complete them."""
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
            "metadata": {
                **item.metadata,
                "probe": info.extra,
                "thumbnails": THUMBS_KEYFRAME if refine else THUMBS_COMPLETE,
                "processing_ms": timings_ms or {},
            },
            "filmstrip_frames": thumbnails.filmstrip_frames,
            "error_message": "",
        }
        _store_derived(item, thumbnails, fields, saved)
        with transaction.atomic():
            moved = _media_transition(item, Status.READY, **fields)
            if moved is not None and moved.poster:
                # The job card that made this item shows its poster (generation listens).
                media_item_poster_changed.send(sender=MediaItem, item=moved)
    finally:
        if moved is None:
            # Not marked ready (error, lost race, deleted item): the images belong to no row.
            storage = MediaItem._meta.get_field("poster").storage
            for name in saved:
                storage.delete(name)
    return moved


def _store_derived(
    item: MediaItem, thumbnails: processing.Thumbnails, fields: dict, saved: list[str]
) -> None:
    """Store the images `thumbnails` has (new names, never overwriting), put their names
    in `fields` and append each to `saved` as soon as it exists, so a caller that does not
    commit (or fails half-way) can delete them."""
    for field, data, name in (
        ("poster", thumbnails.poster_jpeg, "poster.jpg"),
        ("filmstrip", thumbnails.filmstrip_jpeg, "filmstrip.jpg"),
        ("waveform", thumbnails.waveform_png, "waveform.png"),
    ):
        if data:
            getattr(item, field).save(name, ContentFile(data), save=False)
            saved.append(getattr(item, field).name)
            fields[field] = getattr(item, field).name


def media_refine_thumbnails(*, media_id: int) -> MediaItem | None:
    """Step 2 for a ready video showing its keyframe poster: decode the clip once for the
    filmstrip and the best-scored poster, replace the first poster, push the card (and,
    through the signal, the job card). The item stays ready whatever happens: a clip that
    fails to decode here keeps its first poster. None if there is nothing to refine."""
    item = MediaItem.objects.filter(pk=media_id, status=Status.READY).first()
    if item is None or item.metadata.get("thumbnails") != THUMBS_KEYFRAME:
        return None
    old_poster, old_filmstrip = item.poster.name, item.filmstrip.name
    started = time.perf_counter()
    try:
        with _local_path(item) as path:
            thumbs = processing.video_thumbnails(path, item.duration_s)
    except (OSError, ValueError, processing.av.error.FFmpegError):
        logger.warning("media %s: filmstrip failed, first poster kept", media_id, exc_info=True)
        thumbs = processing.Thumbnails()
    fields = {
        "metadata": {
            **item.metadata,
            "thumbnails": THUMBS_COMPLETE,
            "processing_ms": {
                **item.metadata.get("processing_ms", {}),
                "filmstrip": _ms(time.perf_counter() - started),
            },
        },
        "filmstrip_frames": thumbs.filmstrip_frames,
        "updated_at": timezone.now(),
    }
    storage = MediaItem._meta.get_field("poster").storage
    saved: list[str] = []
    updated = 0
    try:
        _store_derived(item, thumbs, fields, saved)
        with transaction.atomic():
            # Conditional on the images this run replaces: of two runs racing (a
            # redelivered task) one writes, the other's images are deleted below.
            updated = MediaItem.objects.filter(
                pk=media_id, status=Status.READY, poster=old_poster, filmstrip=old_filmstrip
            ).update(**fields)
            if not updated:
                return None
            item = MediaItem.objects.get(pk=media_id)
            replaced = [
                name
                for name, new in (
                    (old_poster, item.poster.name),
                    (old_filmstrip, item.filmstrip.name),
                )
                if name and name != new
            ]
            transaction.on_commit(lambda: [storage.delete(name) for name in replaced])
            _push_on_commit(item, CARD_UPDATE)
            if "poster" in fields:
                media_item_poster_changed.send(sender=MediaItem, item=item)
    finally:
        if not updated:
            for name in saved:
                storage.delete(name)
    return item


def media_mark_failed(*, media_id: int, message: str) -> MediaItem | None:
    """PROCESSING -> FAILED with a sentence for the user."""
    item = MediaItem.objects.filter(pk=media_id).first()
    if item is None:
        return None
    with transaction.atomic():
        return _media_transition(item, Status.FAILED, error_message=message[:300])


def media_give_up(*, media_id: int, message: str) -> MediaItem | None:
    """Stop working on an item (time limit, repeated worker crashes): a processing item
    fails with `message`; a ready video still waiting for its filmstrip stays ready with
    its first poster, marked complete so no run tries again."""
    item = MediaItem.objects.filter(pk=media_id).first()
    if item is None:
        return None
    if item.status != Status.READY:
        return media_mark_failed(media_id=media_id, message=message)
    if item.metadata.get("thumbnails") == THUMBS_KEYFRAME:
        logger.warning("media %s: filmstrip given up (%s), first poster kept", media_id, message)
        MediaItem.objects.filter(pk=media_id, status=Status.READY).update(
            metadata={**item.metadata, "thumbnails": THUMBS_COMPLETE}, updated_at=timezone.now()
        )
        item.refresh_from_db()
    return item


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
