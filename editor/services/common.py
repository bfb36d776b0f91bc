"""Shared pieces of the editing services: time rounding, the timeline lock, snapshots,
validation of the stored state, and the recorder that turns every edit into one undoable
EditOperation and one live push."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max

from editor.models import Clip, EditOperation, Timeline, Track
from media_library.models import MediaItem

# Edits keep this many undo steps per timeline; older ones are dropped.
HISTORY_LIMIT = 200
# A clip shorter than this is refused (a sliver nobody can grab or see).
MIN_CLIP_S = 0.04
# Images have no length of their own: they are placed for this long and can be trimmed
# out to IMAGE_MAX_S.
IMAGE_DEFAULT_S = 5.0
IMAGE_MAX_S = 3600.0
MAX_TIMELINE_S = 6 * 3600.0
VOLUME_MAX = 2.0

CLIP_FIELDS = (
    "track_id",
    "media_item_id",
    "start_s",
    "in_s",
    "out_s",
    "volume",
    "fade_in_s",
    "fade_out_s",
    "link_group",
)
TRACK_FIELDS = ("kind", "order", "muted", "hidden", "locked")


def ms(value) -> float:
    """Times are stored rounded to the millisecond so comparisons are exact."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError("A time must be a number of seconds.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValidationError("A time must be a finite number of seconds.")
    return round(number, 3)


def new_link_group() -> uuid.UUID:
    return uuid.uuid4()


def lock_timeline(timeline: Timeline) -> Timeline:
    """Serialise edits of one timeline. The UPDATE takes the row lock on PostgreSQL and the
    database write lock on SQLite *before* anything is read, so two tabs editing at once
    cannot both validate against the same old state."""
    updated = Timeline.objects.filter(pk=timeline.pk).update(revision=F("revision") + 1)
    if not updated:
        raise ValidationError("This timeline no longer exists.")
    return Timeline.objects.select_for_update().get(pk=timeline.pk)


def media_length_s(item: MediaItem) -> float:
    """How far into the source a clip may reach."""
    if item.kind == MediaItem.Kind.IMAGE:
        return IMAGE_MAX_S
    if not item.duration_s:
        raise ValidationError(f"“{item.title}” is still being processed; try again in a moment.")
    return round(float(item.duration_s), 3)


def track_accepts(track_kind: str, item: MediaItem) -> bool:
    if track_kind == Track.Kind.VIDEO:
        return item.kind in (MediaItem.Kind.VIDEO, MediaItem.Kind.IMAGE)
    return item.kind == MediaItem.Kind.AUDIO or (
        item.kind == MediaItem.Kind.VIDEO and item.has_audio
    )


def kind_for_media(item: MediaItem) -> str:
    return Track.Kind.AUDIO if item.kind == MediaItem.Kind.AUDIO else Track.Kind.VIDEO


def clip_fields(clip: Clip) -> dict:
    return {
        "track_id": clip.track_id,
        "media_item_id": clip.media_item_id,
        "start_s": clip.start_s,
        "in_s": clip.in_s,
        "out_s": clip.out_s,
        "volume": clip.volume,
        "fade_in_s": clip.fade_in_s,
        "fade_out_s": clip.fade_out_s,
        "link_group": str(clip.link_group) if clip.link_group else None,
    }


def track_fields(track: Track) -> dict:
    return {f: getattr(track, f) for f in TRACK_FIELDS}


def clips_on_timeline(timeline: Timeline, clips: Iterable[Clip | int]) -> list[Clip]:
    """The clips (objects or ids) freshly read with their track and media, refused unless
    every one is on this timeline: the first step of every clip edit."""
    ids = {c.pk if isinstance(c, Clip) else int(c) for c in clips}
    if not ids:
        raise ValidationError("Select a clip first.")
    found = list(
        Clip.objects.select_related("track", "media_item").filter(
            pk__in=ids, track__timeline=timeline
        )
    )
    if len(found) != len(ids):
        raise ValidationError("That clip is no longer on this timeline.")
    return found


def linked_clips(clips: Iterable[Clip]) -> list[Clip]:
    """The clips plus every clip linked to one of them (same timeline), each once."""
    clips = list(clips)
    groups = {c.link_group for c in clips if c.link_group}
    by_id = {c.pk: c for c in clips}
    if groups:
        timeline_ids = {c.track.timeline_id for c in clips}
        for other in Clip.objects.select_related("track", "media_item").filter(
            link_group__in=groups, track__timeline_id__in=timeline_ids
        ):
            by_id.setdefault(other.pk, other)
    return list(by_id.values())


def splits_inside(clip: Clip, at: float) -> bool:
    """True when cutting at timeline time `at` leaves both halves at least MIN_CLIP_S long."""
    return clip.start_s + MIN_CLIP_S <= at <= clip.end_s - MIN_CLIP_S


def cut_clips(recorder, clips: Iterable[Clip], at: float) -> dict[int, Clip]:
    """Cut each clip at timeline time `at` inside the caller's edit; returns {left id:
    right half}. Right halves of clips that were linked together are linked together again
    (one new group per old group), so a split video and its audio stay a pair."""
    clips = list(clips)
    recorder.touch_clips(clips)
    new_groups: dict = {}
    rights: dict[int, Clip] = {}
    for c in clips:
        cut = ms(c.in_s + (at - c.start_s))
        right = Clip.objects.create(
            track_id=c.track_id,
            media_item_id=c.media_item_id,
            start_s=at,
            in_s=cut,
            out_s=c.out_s,
            volume=c.volume,
            # The fade out goes with the right half, the fade in stays on the left one.
            fade_out_s=c.fade_out_s,
            link_group=new_groups.setdefault(c.link_group, new_link_group())
            if c.link_group
            else None,
        )
        fit_fades(right)
        right.save(update_fields=["fade_out_s"])
        recorder.created_clip(right)
        c.out_s = cut
        c.fade_out_s = 0.0
        fit_fades(c)
        c.save(update_fields=["out_s", "fade_in_s", "fade_out_s"])
        rights[c.pk] = right
    return rights


def validate_tracks(timeline: Timeline, track_ids: Iterable[int]) -> None:
    """Refuse any stored state where a clip is out of its source, off the timeline, on the
    wrong kind of track, or overlapping a neighbour on its track."""
    track_ids = set(track_ids)
    if not track_ids:
        return
    clips = list(
        Clip.objects.select_related("media_item", "track")
        .filter(track_id__in=track_ids)
        .order_by("track_id", "start_s", "id")
    )
    previous: Clip | None = None
    for clip in clips:
        if clip.track.timeline_id != timeline.pk:
            raise ValidationError("A clip can only be placed on a track of its own timeline.")
        validate_clip_bounds(clip)
        if not track_accepts(clip.track.kind, clip.media_item):
            raise ValidationError(_wrong_track_message(clip.track.kind, clip.media_item))
        if previous is not None and previous.track_id == clip.track_id:
            if clip.start_s < previous.end_s - 1e-9:
                raise ValidationError(
                    f"Clips can't overlap on one track: “{clip.media_item.title}” at "
                    f"{clip.start_s:.2f} s would cover “{previous.media_item.title}” "
                    f"(until {previous.end_s:.2f} s)."
                )
        previous = clip


def _wrong_track_message(track_kind: str, item: MediaItem) -> str:
    if track_kind == Track.Kind.VIDEO:
        return f"“{item.title}” is audio; put it on an audio track."
    if item.kind == MediaItem.Kind.IMAGE:
        return f"“{item.title}” is an image; put it on a video track."
    return f"“{item.title}” has no sound; put it on a video track."


def validate_clip_bounds(clip: Clip) -> None:
    length = media_length_s(clip.media_item)
    if clip.in_s < 0:
        raise ValidationError("A clip can't start before the beginning of its source.")
    if clip.out_s > length + 1e-9:
        raise ValidationError(
            f"A clip can't run past the end of its source ({length:.2f} s of "
            f"“{clip.media_item.title}”)."
        )
    if clip.out_s - clip.in_s < MIN_CLIP_S - 1e-9:
        raise ValidationError("That would make the clip too short.")
    if clip.start_s < 0:
        raise ValidationError("A clip can't start before the beginning of the timeline.")
    if clip.end_s > MAX_TIMELINE_S:
        raise ValidationError("A timeline can be at most six hours long.")
    if not 0 <= clip.volume <= VOLUME_MAX:
        raise ValidationError("Volume must be between 0 and 200 %.")
    validate_fades(clip.fade_in_s, clip.fade_out_s, clip.out_s - clip.in_s)


def validate_fades(fade_in: float, fade_out: float, length: float) -> None:
    """Each fade at least 0 and at most the clip; both together at most the clip."""
    for name, value in (("fade in", fade_in), ("fade out", fade_out)):
        if value < 0:
            raise ValidationError(f"The {name} can't be negative.", code="fade_negative")
        if value > length + 1e-9:
            raise ValidationError(
                f"The {name} can't be longer than the clip ({length:.2f} s).",
                code="fade_too_long",
            )
    if fade_in + fade_out > length + 1e-9:
        raise ValidationError(
            f"The fade in and fade out together can't be longer than the clip ({length:.2f} s).",
            code="fades_too_long",
        )


def fit_fades(clip: Clip) -> None:
    """Shorten a clip's fades to fit it after a trim or split made it shorter (the fade
    out first, as the trimmed edge is usually the end): a cut never fails on a fade."""
    length = round(clip.out_s - clip.in_s, 3)
    clip.fade_out_s = min(clip.fade_out_s, length)
    clip.fade_in_s = min(clip.fade_in_s, round(length - clip.fade_out_s, 3))


def refuse_locked(tracks: Iterable[Track]) -> None:
    for track in tracks:
        if track.locked:
            raise ValidationError("That track is locked; unlock it to edit its clips.")


class Recorder:
    """Collects the before-state of everything an edit touches; `finish` validates the
    result, stores the EditOperation and schedules the live push."""

    def __init__(self, timeline: Timeline, label: str):
        self.timeline = timeline
        self.label = label
        self.clips_before: dict[int, dict | None] = {}
        self.tracks_before: dict[int, dict | None] = {}
        self.extra_tracks: set[int] = set()

    def touch_clips(self, clips: Iterable[Clip]) -> None:
        for clip in clips:
            self.clips_before.setdefault(clip.pk, clip_fields(clip))
            self.extra_tracks.add(clip.track_id)

    def created_clip(self, clip: Clip) -> None:
        self.clips_before.setdefault(clip.pk, None)

    def touch_tracks(self, tracks: Iterable[Track]) -> None:
        for track in tracks:
            self.tracks_before.setdefault(track.pk, track_fields(track))

    def created_track(self, track: Track) -> None:
        self.tracks_before.setdefault(track.pk, None)

    def finish(self) -> EditOperation | None:
        clips_after = {pk: None for pk in self.clips_before}
        for clip in Clip.objects.filter(pk__in=self.clips_before):
            clips_after[clip.pk] = clip_fields(clip)
        tracks_after = {pk: None for pk in self.tracks_before}
        for track in Track.objects.filter(pk__in=self.tracks_before):
            tracks_after[track.pk] = track_fields(track)
        if clips_after == self.clips_before and tracks_after == self.tracks_before:
            return None  # nothing changed: no history entry, no push
        track_ids = set(self.extra_tracks)
        track_ids |= {f["track_id"] for f in clips_after.values() if f}
        track_ids &= set(Track.objects.filter(pk__in=track_ids).values_list("pk", flat=True))
        validate_tracks(self.timeline, track_ids)
        return record_operation(
            self.timeline,
            self.label,
            before={"tracks": self.tracks_before, "clips": self.clips_before},
            after={"tracks": tracks_after, "clips": clips_after},
        )


def record_operation(timeline: Timeline, label: str, *, before: dict, after: dict):
    # A new edit ends the redo line.
    EditOperation.objects.filter(timeline=timeline, undone=True).delete()
    last = EditOperation.objects.filter(timeline=timeline).aggregate(m=Max("seq"))["m"] or 0
    op = EditOperation.objects.create(
        timeline=timeline,
        seq=last + 1,
        label=label[:60],
        before=_json_keys(before),
        after=_json_keys(after),
    )
    stale = last + 1 - HISTORY_LIMIT
    if stale > 0:
        EditOperation.objects.filter(timeline=timeline, seq__lte=stale).delete()
    return op


def _json_keys(snapshot: dict) -> dict:
    # JSON object keys are strings; make that explicit so a round trip compares equal.
    return {part: {str(k): v for k, v in rows.items()} for part, rows in snapshot.items()}


@contextmanager
def edit(timeline: Timeline, label: str):
    """`with edit(timeline, "Move clip") as (tl, rec): ...` — one atomic, locked,
    validated, recorded and pushed edit."""
    from editor.live import push_timeline  # avoid an import cycle at module load

    with transaction.atomic():
        locked = lock_timeline(timeline)
        recorder = Recorder(locked, label)
        yield locked, recorder
        op = recorder.finish()
        if op is None:
            return
        Timeline.objects.filter(pk=locked.pk).update(updated_at=op.created_at)
        push_timeline(locked)
