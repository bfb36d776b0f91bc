"""Edits of a multi-selection: move, split, delete, ripple delete and paste several clips (with
their linked partners) in one transaction and one undoable EditOperation, like the
single-clip edits in .clips. Anything invalid raises ValidationError and stores nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import ValidationError

from editor.models import Clip, Timeline, Track

from .common import (
    clips_on_timeline,
    cut_clips,
    edit,
    linked_clips,
    ms,
    new_link_group,
    refuse_locked,
    splits_inside,
)
from .timelines import track_create_locked


def clips_move(*, clips: Iterable[Clip | int], delta_s: float, timeline: Timeline) -> list[Clip]:
    """Shift several clips (a multi-selection, plus their linked partners) in time."""
    delta = ms(delta_s)
    with edit(timeline, "Move clips") as (tl, rec):
        group = linked_clips(clips_on_timeline(tl, clips))
        refuse_locked({c.track for c in group})
        rec.touch_clips(group)
        for c in group:
            c.start_s = ms(c.start_s + delta)
            c.save(update_fields=["start_s"])
    return list(Clip.objects.filter(pk__in=[c.pk for c in group]))


def clips_split_at(
    *, timeline: Timeline, at_s: float, clips: Iterable[Clip | int] | None = None
) -> list[Clip]:
    """Cut the given clips at timeline time `at_s`, or with clips=None every clip under
    the playhead on an unlocked track; a linked partner is cut along with its clip.
    Selected clips the playhead is not inside are left alone. One transaction and one
    undo step for the whole cut; returns the right halves."""
    at = ms(at_s)
    with edit(timeline, "Split clips") as (tl, rec):
        if clips is None:
            candidates = list(
                Clip.objects.select_related("track", "media_item").filter(
                    track__timeline=tl, track__locked=False
                )
            )
        else:
            candidates = clips_on_timeline(tl, clips)
        targets = [c for c in candidates if splits_inside(c, at)]
        if not targets:
            raise ValidationError("Put the playhead inside a clip to split it.")
        group = [c for c in linked_clips(targets) if splits_inside(c, at)]
        refuse_locked({c.track for c in group})
        rights = cut_clips(rec, sorted(group, key=lambda c: (c.track_id, c.pk)), at)
    return list(rights.values())


def clips_delete(*, clips: Iterable[Clip | int], timeline: Timeline) -> int:
    with edit(timeline, "Delete") as (tl, rec):
        group = linked_clips(clips_on_timeline(tl, clips))
        refuse_locked({c.track for c in group})
        rec.touch_clips(group)
        Clip.objects.filter(pk__in=[c.pk for c in group]).delete()
    return len(group)


def clips_ripple_delete(*, clips: Iterable[Clip | int], timeline: Timeline) -> int:
    """Delete, then close the gap: later clips on each affected track move left by the
    length of the deleted clips before them (gaps that were already there stay). Clips
    linked to a moved clip on a track without deletions move with it."""
    with edit(timeline, "Ripple delete") as (tl, rec):
        group = linked_clips(clips_on_timeline(tl, clips))
        deleted_by_track = defaultdict(list)
        for c in group:
            deleted_by_track[c.track_id].append(c)
        deleted_ids = {c.pk for c in group}
        remaining = [
            c
            for c in Clip.objects.select_related("track").filter(track_id__in=deleted_by_track)
            if c.pk not in deleted_ids
        ]
        shifts: dict[int, float] = {}
        for c in remaining:
            shift = sum(
                d.duration_s for d in deleted_by_track[c.track_id] if d.end_s <= c.start_s + 1e-9
            )
            if shift:
                shifts[c.pk] = shift
        moved = [c for c in remaining if c.pk in shifts]
        partners = [
            p for p in linked_clips(moved) if p.pk not in shifts and p.pk not in deleted_ids
        ]
        by_group = {c.link_group: shifts[c.pk] for c in moved if c.link_group}
        for p in partners:
            shifts[p.pk] = by_group[p.link_group]
        moved += partners
        refuse_locked({c.track for c in group} | {c.track for c in moved})
        rec.touch_clips(group)
        rec.touch_clips(moved)
        Clip.objects.filter(pk__in=deleted_ids).delete()
        for c in sorted(moved, key=lambda c: c.start_s):
            c.start_s = ms(c.start_s - shifts[c.pk])
            c.save(update_fields=["start_s"])
    return len(group)


def clips_paste(*, timeline: Timeline, clips: Iterable[Clip | int], at_s: float) -> list[Clip]:
    """Paste copies of clips (from any of the owner's timelines, with their linked
    partners) so the earliest lands at `at_s`, keeping their relative timing. Copies go
    to the same track when pasting into the same timeline, otherwise to the track of the
    same kind at the same position (created when missing). Refused if anything would
    overlap."""
    at = ms(at_s)
    ids = {c.pk if isinstance(c, Clip) else int(c) for c in clips}
    sources = list(
        Clip.objects.select_related("track", "media_item").filter(
            pk__in=ids, track__timeline__owner_id=timeline.owner_id
        )
    )
    if not sources or len(sources) != len(ids):
        raise ValidationError("Nothing to paste: copy a clip first.")
    sources = linked_clips(sources)
    with edit(timeline, "Paste") as (tl, rec):
        earliest = min(c.start_s for c in sources)
        kind_tracks = {
            kind: list(tl.tracks.filter(kind=kind).order_by("order", "id"))
            for kind in Track.Kind.values
        }
        source_index = {}
        for source_timeline in {c.track.timeline_id for c in sources}:
            for kind in Track.Kind.values:
                ordered = Track.objects.filter(timeline_id=source_timeline, kind=kind)
                for i, t in enumerate(ordered.order_by("order", "id")):
                    source_index[t.pk] = i
        groups: dict = {}
        pasted = []
        for c in sorted(sources, key=lambda c: (c.start_s, c.pk)):
            if c.track.timeline_id == tl.pk:
                target = c.track
            else:
                tracks = kind_tracks[c.track.kind]
                while len(tracks) <= source_index[c.track_id]:
                    tracks.append(track_create_locked(tl, rec, c.track.kind))
                target = tracks[source_index[c.track_id]]
            refuse_locked([target])
            copy = Clip.objects.create(
                track=target,
                media_item_id=c.media_item_id,
                start_s=ms(at + c.start_s - earliest),
                in_s=c.in_s,
                out_s=c.out_s,
                volume=c.volume,
                fade_in_s=c.fade_in_s,
                fade_out_s=c.fade_out_s,
                link_group=(
                    groups.setdefault(c.link_group, new_link_group()) if c.link_group else None
                ),
            )
            rec.created_clip(copy)
            pasted.append(copy)
    return pasted
