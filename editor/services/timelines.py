"""Timelines and tracks: create, rename, duplicate, delete; add and toggle tracks."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from editor.models import Clip, Timeline, Track

from .common import edit, new_link_group

DEFAULT_NAME = "Untitled timeline"
FPS_CHOICES = (23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0)


def _clean_name(name: str) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError("Give the timeline a name.")
    if len(name) > 120:
        raise ValidationError("A timeline name can be at most 120 characters.")
    return name


def _size_for(preset: str) -> tuple[int, int]:
    if preset not in Timeline.Preset.values:
        raise ValidationError("Pick one of the timeline sizes offered.")
    width, height = preset.split("x")
    return int(width), int(height)


def clean_fps(fps) -> float:
    """One of the offered frame rates (timelines and exports share them), or refused."""
    try:
        value = float(fps)
    except (TypeError, ValueError):
        raise ValidationError("Frame rate must be a number.") from None
    if not any(abs(value - choice) < 0.01 for choice in FPS_CHOICES):
        raise ValidationError("Pick one of the frame rates offered.")
    return value


def timeline_create(
    *,
    owner,
    name: str = DEFAULT_NAME,
    preset: str = Timeline.Preset.LANDSCAPE_1080,
    fps: float = 30.0,
) -> Timeline:
    """A new timeline with one video track (V1) and one audio track (A1)."""
    width, height = _size_for(preset)
    with transaction.atomic():
        timeline = Timeline.objects.create(
            owner=owner, name=_clean_name(name), width=width, height=height, fps=clean_fps(fps)
        )
        Track.objects.create(timeline=timeline, kind=Track.Kind.VIDEO, order=0)
        Track.objects.create(timeline=timeline, kind=Track.Kind.AUDIO, order=1)
    return timeline


def timeline_rename(*, timeline: Timeline, name: str) -> Timeline:
    timeline.name = _clean_name(name)
    timeline.save(update_fields=["name", "updated_at"])
    return timeline


def timeline_set_format(*, timeline: Timeline, preset: str, fps: float) -> Timeline:
    """Change the canvas size and frame rate (not an undoable edit: it moves no clips)."""
    timeline.width, timeline.height = _size_for(preset)
    timeline.fps = clean_fps(fps)
    timeline.save(update_fields=["width", "height", "fps", "updated_at"])
    return timeline


def timeline_duplicate(*, timeline: Timeline, name: str | None = None) -> Timeline:
    """A copy with the same tracks and clips (linked pairs stay linked), no history."""
    with transaction.atomic():
        copy = Timeline.objects.create(
            owner=timeline.owner,
            name=_clean_name(name or f"{timeline.name} (copy)"[:120]),
            width=timeline.width,
            height=timeline.height,
            fps=timeline.fps,
        )
        track_map: dict[int, Track] = {}
        for track in timeline.tracks.order_by("order", "id"):
            track_map[track.pk] = Track.objects.create(
                timeline=copy,
                kind=track.kind,
                order=track.order,
                muted=track.muted,
                hidden=track.hidden,
                locked=track.locked,
            )
        groups: dict = {}
        Clip.objects.bulk_create(
            [
                Clip(
                    track=track_map[clip.track_id],
                    media_item_id=clip.media_item_id,
                    start_s=clip.start_s,
                    in_s=clip.in_s,
                    out_s=clip.out_s,
                    volume=clip.volume,
                    fade_in_s=clip.fade_in_s,
                    fade_out_s=clip.fade_out_s,
                    link_group=(
                        groups.setdefault(clip.link_group, new_link_group())
                        if clip.link_group
                        else None
                    ),
                )
                for clip in Clip.objects.filter(track__timeline=timeline).order_by("id")
            ]
        )
    return copy


def timeline_delete(*, timeline: Timeline) -> None:
    """Deletes tracks, clips and history; past exports keep their records and files."""
    timeline.delete()


def _insert_position(timeline: Timeline, kind: str) -> int:
    """New video tracks go below the existing video tracks (above the audio ones); new
    audio tracks go at the very bottom."""
    tracks = list(timeline.tracks.order_by("order", "id"))
    if kind == Track.Kind.AUDIO or not tracks:
        return (tracks[-1].order + 1) if tracks else 0
    video = [t for t in tracks if t.kind == Track.Kind.VIDEO]
    return (video[-1].order + 1) if video else 0


def track_create_locked(timeline: Timeline, recorder, kind: str) -> Track:
    """Inside an edit: make room and add a track of `kind`, recorded for undo."""
    if kind not in Track.Kind.values:
        raise ValidationError("A track is either video or audio.")
    position = _insert_position(timeline, kind)
    shifted = list(timeline.tracks.filter(order__gte=position))
    recorder.touch_tracks(shifted)
    timeline.tracks.filter(order__gte=position).update(order=F("order") + 1)
    track = Track.objects.create(timeline=timeline, kind=kind, order=position)
    recorder.created_track(track)
    return track


def track_create(*, timeline: Timeline, kind: str) -> Track:
    with edit(timeline, f"Add {kind} track") as (tl, rec):
        return track_create_locked(tl, rec, kind)


def track_update(
    *,
    track: Track,
    muted: bool | None = None,
    hidden: bool | None = None,
    locked: bool | None = None,
) -> Track:
    """Toggle mute / hide / lock; each change is an undoable edit."""
    with edit(track.timeline, "Change track") as (_tl, rec):
        current = Track.objects.select_for_update().get(pk=track.pk)
        rec.touch_tracks([current])
        for name, value in (("muted", muted), ("hidden", hidden), ("locked", locked)):
            if value is not None:
                setattr(current, name, bool(value))
        current.save(update_fields=["muted", "hidden", "locked"])
    return current


def track_delete(*, track: Track) -> None:
    """Removes the track and its clips (undoable)."""
    with edit(track.timeline, "Delete track") as (_tl, rec):
        current = Track.objects.select_for_update().get(pk=track.pk)
        if current.locked:
            raise ValidationError("That track is locked; unlock it to delete it.")
        rec.touch_tracks([current])
        rec.touch_clips(current.clips.all())
        current.delete()
