"""Server-side undo and redo: apply an EditOperation's `before` (undo) or `after` (redo)
snapshot. Rows that did not exist in the snapshot are deleted, rows that did are restored
with their original ids, so clip ids stay stable across undo/redo (the UI's `clip-<id>`
elements and selections keep working)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from editor.models import Clip, EditOperation, Slot, Timeline, Track
from media_library.models import MediaItem

from .common import lock_timeline, validate_tracks


def timeline_undo(*, timeline: Timeline) -> EditOperation | None:
    """Undo the latest edit; returns it, or None when there is nothing to undo."""
    return _step(timeline, undo=True)


def timeline_redo(*, timeline: Timeline) -> EditOperation | None:
    """Redo the earliest undone edit; returns it, or None when there is nothing to redo."""
    return _step(timeline, undo=False)


def _step(timeline: Timeline, *, undo: bool) -> EditOperation | None:
    from editor.live import push_timeline

    with transaction.atomic():
        locked = lock_timeline(timeline)
        ops = EditOperation.objects.filter(timeline=locked, undone=not undo)
        op = ops.order_by("-seq" if undo else "seq").first()
        if op is None:
            return None
        apply_snapshot(locked, op.before if undo else op.after)
        op.undone = undo
        op.save(update_fields=["undone"])
        push_timeline(locked)
        return op


def apply_snapshot(timeline: Timeline, snapshot: dict) -> None:
    tracks = {int(k): v for k, v in snapshot.get("tracks", {}).items()}
    clips = {int(k): v for k, v in snapshot.get("clips", {}).items()}
    affected_tracks = set()
    for clip in Clip.objects.filter(pk__in=clips):
        affected_tracks.add(clip.track_id)
    going = [pk for pk, f in tracks.items() if f is None]
    # A track going away would take its unfilled slots with it (their jobs running on,
    # placed nowhere): a storyboard's new track right after Generate all, say.
    if Slot.objects.filter(track_id__in=going, filled=False).exists():
        raise ValidationError(
            "Can't undo that: its track holds generations not placed yet; remove their "
            "slots (or wait for them) first."
        )
    # Delete clips first (a track may be going away), then tracks, then (re)create.
    Clip.objects.filter(pk__in=[pk for pk, f in clips.items() if f is None]).delete()
    Track.objects.filter(
        pk__in=[pk for pk, f in tracks.items() if f is None], timeline=timeline
    ).delete()
    for pk, fields in tracks.items():
        if fields is not None:
            Track.objects.update_or_create(pk=pk, defaults={**fields, "timeline": timeline})
    wanted = {f["media_item_id"] for f in clips.values() if f}
    present = set(MediaItem.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - present:
        raise ValidationError("Can't undo that: a clip's media was deleted from the library.")
    # Two passes: move every clip out of the way first would need temp positions; instead
    # we write all rows and validate the final state once (inside the transaction).
    for pk, fields in clips.items():
        if fields is not None:
            Clip.objects.update_or_create(pk=pk, defaults=fields)
            affected_tracks.add(fields["track_id"])
    existing = set(
        Track.objects.filter(pk__in=affected_tracks, timeline=timeline).values_list("pk", flat=True)
    )
    validate_tracks(timeline, existing)
    # A slot's fill (editor.services.slots) records whether the slot is filled and by which
    # clip; undo shows the placeholder again, redo hides it. `filled_job_id` is not part of
    # the snapshot: the job's result stays placed-once, so nothing refills it behind the
    # creator's back. A slot removed since then has nothing to restore.
    for pk, fields in snapshot.get("slots", {}).items():
        if fields is not None:
            Slot.objects.filter(pk=int(pk), timeline=timeline).update(**fields)
