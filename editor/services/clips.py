"""Clip edits. Each is one transaction that locks the timeline, applies the change to the
clip and its linked partners (a video and its audio move, trim, split and delete
together), validates the whole affected tracks (no overlaps, within the source, right
kind of track) and records one undoable EditOperation. Anything invalid raises
django.core.exceptions.ValidationError with a sentence for the user and stores nothing."""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction

from editor.models import Clip, Timeline, Track
from media_library.models import MediaItem

from .clip_batches import clips_delete, clips_ripple_delete
from .common import (
    IMAGE_DEFAULT_S,
    MIN_CLIP_S,
    VOLUME_MAX,
    clips_on_timeline,
    cut_clips,
    edit,
    fit_fades,
    kind_for_media,
    linked_clips,
    lock_timeline,
    media_length_s,
    ms,
    new_link_group,
    refuse_locked,
    splits_inside,
    validate_fades,
)
from .timelines import track_create_locked

EDGES = {"in": "in", "start": "in", "out": "out", "end": "out"}


def _own_track(timeline: Timeline, track: Track | int) -> Track:
    pk = track.pk if isinstance(track, Track) else track
    try:
        return Track.objects.get(pk=pk, timeline=timeline)
    except (Track.DoesNotExist, ValueError, TypeError):
        raise ValidationError("That track is not part of this timeline.") from None


def _timeline_of(clip: Clip) -> Timeline:
    try:
        return Timeline.objects.get(tracks__clips=clip.pk)
    except Timeline.DoesNotExist:
        raise ValidationError("That clip is no longer on the timeline.") from None


def _fits(track_clips: list[Clip], start: float, end: float) -> bool:
    return all(c.end_s <= start + 1e-9 or c.start_s >= end - 1e-9 for c in track_clips)


def _free_audio_track(timeline: Timeline, rec, start: float, end: float) -> Track:
    """The first unlocked audio track with room for [start, end), else a new one."""
    tracks = list(timeline.tracks.filter(kind=Track.Kind.AUDIO, locked=False).order_by("order"))
    by_track = defaultdict(list)
    for clip in Clip.objects.filter(track__in=tracks):
        by_track[clip.track_id].append(clip)
    for track in tracks:
        if _fits(by_track[track.pk], start, end):
            return track
    return track_create_locked(timeline, rec, Track.Kind.AUDIO)


def clip_add(
    *,
    timeline: Timeline,
    media_item: MediaItem,
    start_s: float,
    track: Track | int | None = None,
    in_s: float | None = None,
    out_s: float | None = None,
) -> list[Clip]:
    """Place a media item on the timeline; returns [the clip, its linked audio clip?].

    track=None makes a new track of the right kind (the "dropped below the last track"
    case). A video with sound dropped on a video track also gets a linked audio clip on
    the first audio track with room (or a new audio track)."""
    if media_item.owner_id != timeline.owner_id:
        raise ValidationError("That media item is not in your library.")
    if media_item.status != MediaItem.Status.READY:
        raise ValidationError(f"“{media_item.title}” is not ready yet.")
    length = media_length_s(media_item)
    start = ms(start_s)
    clip_in = ms(in_s) if in_s is not None else 0.0
    if out_s is not None:
        clip_out = ms(out_s)
    else:
        clip_out = IMAGE_DEFAULT_S if media_item.kind == MediaItem.Kind.IMAGE else length
    with edit(timeline, f"Add {media_item.title}") as (tl, rec):
        if track is None:
            target = track_create_locked(tl, rec, kind_for_media(media_item))
        else:
            target = _own_track(tl, track)
            refuse_locked([target])
        with_audio = (
            target.kind == Track.Kind.VIDEO
            and media_item.kind == MediaItem.Kind.VIDEO
            and media_item.has_audio
        )
        group = new_link_group() if with_audio else None
        fields = {"media_item": media_item, "start_s": start, "in_s": clip_in, "out_s": clip_out}
        clip = Clip.objects.create(track=target, link_group=group, **fields)
        rec.created_clip(clip)
        clips = [clip]
        if with_audio:
            audio_track = _free_audio_track(tl, rec, start, clip.end_s)
            audio = Clip.objects.create(track=audio_track, link_group=group, **fields)
            rec.created_clip(audio)
            clips.append(audio)
    return clips


def clip_append(*, timeline: Timeline, media_item: MediaItem) -> list[Clip]:
    """Put a media item right after the last clip of its track: V1 (the bottom video
    track) for video and images, A1 for audio, skipping locked tracks; a new track when
    none is left. The media card's "Add to timeline", for screens where nothing can be
    dragged onto the timeline (a phone shows one panel at a time). One undoable edit."""
    kind = kind_for_media(media_item)
    with transaction.atomic():
        # Locked before the end is read, so two appends at once cannot pick the same spot.
        tl = lock_timeline(timeline)
        tracks = list(tl.tracks.filter(kind=kind, locked=False).order_by("order", "id"))
        # Video tracks are shown top to bottom in `order`, so V1 is the last of them.
        track = (tracks[-1] if kind == Track.Kind.VIDEO else tracks[0]) if tracks else None
        start = 0.0
        if track is not None:
            start = max((c.end_s for c in Clip.objects.filter(track=track)), default=0.0)
        return clip_add(timeline=tl, media_item=media_item, start_s=start, track=track)


def clip_move(
    *, clip: Clip, start_s: float, track: Track | int | None = None, new_track: bool = False
) -> Clip:
    """Move a clip in time and optionally to another track (`new_track=True`: to a new
    track of its kind). Linked clips shift by the same amount on their own tracks."""
    with edit(_timeline_of(clip), "Move clip") as (tl, rec):
        (current,) = clips_on_timeline(tl, [clip])
        group = linked_clips([current])
        if new_track:
            target = track_create_locked(tl, rec, current.track.kind)
        elif track is not None:
            target = _own_track(tl, track)
        else:
            target = current.track
        refuse_locked({c.track for c in group} | {target})
        delta = ms(start_s) - current.start_s
        rec.touch_clips(group)
        for c in group:
            c.start_s = ms(c.start_s + delta)
            if c.pk == current.pk:
                c.track = target
            c.save(update_fields=["start_s", "track"])
    current.refresh_from_db()
    return current


def clip_trim(
    *, clip: Clip, edge: str, in_s: float | None = None, out_s: float | None = None
) -> Clip:
    """Trim one edge. edge="in" takes `in_s` (the new in point in the source; the clip's
    end stays where it is on the timeline); edge="out" takes `out_s`. Never past the
    source's ends: out of range is refused (the UI clamps with data-src-duration)."""
    side = EDGES.get(edge)
    if side is None:
        raise ValidationError("Trim the in or the out edge.")
    value = in_s if side == "in" else out_s
    if value is None:
        raise ValidationError(f"Say where the new {side} point is.")
    point = ms(value)
    with edit(_timeline_of(clip), "Trim clip") as (tl, rec):
        (current,) = clips_on_timeline(tl, [clip])
        length = media_length_s(current.media_item)
        if side == "in":
            if point < 0:
                raise ValidationError("Can't trim before the start of the source.")
            if point > current.out_s - MIN_CLIP_S:
                raise ValidationError("That would make the clip too short.")
            delta = ms(point - current.in_s)
            if current.start_s + delta < 0:
                raise ValidationError("Can't trim past the start of the timeline.")
        else:
            if point > length:
                raise ValidationError(f"Can't trim past the end of the source ({length:.2f} s).")
            if point < current.in_s + MIN_CLIP_S:
                raise ValidationError("That would make the clip too short.")
            delta = ms(point - current.out_s)
        group = linked_clips([current])
        refuse_locked({c.track for c in group})
        rec.touch_clips(group)
        for c in group:
            if side == "in":
                c.in_s = ms(c.in_s + delta)
                c.start_s = ms(c.start_s + delta)
            else:
                c.out_s = ms(c.out_s + delta)
            fit_fades(c)
            c.save(update_fields=["in_s", "out_s", "start_s", "fade_in_s", "fade_out_s"])
    current.refresh_from_db()
    return current


def clip_split(*, clip: Clip, at_s: float) -> tuple[Clip, Clip]:
    """Cut a clip (and its linked partners) at timeline time `at_s`; returns the primary
    clip's (left, right) halves. The right halves form a new linked group."""
    at = ms(at_s)
    with edit(_timeline_of(clip), "Split clip") as (tl, rec):
        (current,) = clips_on_timeline(tl, [clip])
        if not splits_inside(current, at):
            raise ValidationError("Put the playhead inside the clip to split it.")
        group = [c for c in linked_clips([current]) if splits_inside(c, at)]
        refuse_locked({c.track for c in group})
        right_of_current = cut_clips(rec, group, at)[current.pk]
    current.refresh_from_db()
    return current, right_of_current


def clip_delete(*, clip: Clip) -> int:
    """Delete a clip and its linked partners; returns how many clips went."""
    return clips_delete(clips=[clip], timeline=_timeline_of(clip))


def clip_ripple_delete(*, clip: Clip) -> int:
    return clips_ripple_delete(clips=[clip], timeline=_timeline_of(clip))


def _finite(value, sentence: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(sentence, code="not_a_number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValidationError(sentence, code="not_a_number")
    return number


def clip_set_volume(*, clip: Clip, volume: float) -> Clip:
    """Linear gain 0..2 (0 % to 200 %) for the clip's sound."""
    value = round(_finite(volume, "Volume must be a number."), 3)
    if not 0 <= value <= VOLUME_MAX:
        raise ValidationError("Volume must be between 0 and 200 %.", code="volume_range")
    with edit(_timeline_of(clip), "Change volume") as (tl, rec):
        (current,) = clips_on_timeline(tl, [clip])
        refuse_locked([current.track])
        rec.touch_clips([current])
        current.volume = value
        current.save(update_fields=["volume"])
    return current


def clip_unlink(*, clip: Clip) -> None:
    """Let a video and its audio be edited separately from now on."""
    with edit(_timeline_of(clip), "Unlink") as (tl, rec):
        (current,) = clips_on_timeline(tl, [clip])
        group = linked_clips([current])
        rec.touch_clips(group)
        Clip.objects.filter(pk__in=[c.pk for c in group]).update(link_group=None)


FADE_EDGES = {"in": "fade_in_s", "out": "fade_out_s"}


def clip_set_fade(*, clip: Clip, edge: str, seconds: float) -> Clip:
    """The clip's fade in (edge="in") or fade out (edge="out"), in seconds: from / to
    black on a video track, from / to silence on an audio track. Only this clip changes
    (a video's linked audio keeps its own fades: the inspector edits each on its own)."""
    field = FADE_EDGES.get(edge)
    if field is None:
        raise ValidationError("Set the fade in or the fade out.", code="fade_edge")
    name = f"fade {edge}"
    value = ms(_finite(seconds, f"The {name} must be a number of seconds."))
    with edit(_timeline_of(clip), f"Fade {edge}") as (tl, rec):
        (current,) = clips_on_timeline(tl, [clip])
        refuse_locked([current.track])
        fades = {"fade_in_s": current.fade_in_s, "fade_out_s": current.fade_out_s, field: value}
        validate_fades(fades["fade_in_s"], fades["fade_out_s"], current.out_s - current.in_s)
        rec.touch_clips([current])
        setattr(current, field, value)
        current.save(update_fields=[field])
    return current
