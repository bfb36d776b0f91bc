"""Editor reads; the views, template tags and receivers read through these. Lookups
scoped to an owner or a timeline raise the model's DoesNotExist for anything outside it
(the views answer 404: another user's timeline, clip or export is never confirmed).
`timeline_state` gives everything the timeline UI needs in a fixed number of queries
(tracks, clips + media, slots + jobs, undo/redo heads), however many clips there are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import models
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from editor.models import Clip, EditOperation, Export, Slot, Timeline, Track


@dataclass
class TrackRow:
    track: Track
    label: str  # V1 is the bottom video layer, A1 the first audio track
    clips: list[Clip] = field(default_factory=list)
    # Unfilled slots (placeholders for generations, editor.services.slots) and the slots
    # filled in the last few seconds (their note says how the clip fit).
    slots: list[Slot] = field(default_factory=list)
    recent_fills: list[Slot] = field(default_factory=list)


@dataclass
class TimelineState:
    timeline: Timeline
    rows: list[TrackRow]
    duration_s: float
    can_undo: bool
    can_redo: bool
    undo_label: str
    redo_label: str

    @property
    def clips(self) -> list[Clip]:
        return [c for row in self.rows for c in row.clips]


def timeline_list(*, owner) -> QuerySet[Timeline]:
    return Timeline.objects.filter(owner=owner).order_by("-updated_at", "-id")


def timeline_get(*, owner, timeline_id: int) -> Timeline:
    """Raises Timeline.DoesNotExist for someone else's timeline (views turn it into 404)."""
    return Timeline.objects.get(owner=owner, pk=timeline_id)


def timeline_current(*, owner, timeline_id: int | None = None) -> Timeline | None:
    """The owner's timeline `timeline_id` (the one last opened), else their most recently
    edited one, else None."""
    owned = Timeline.objects.filter(owner=owner)
    timeline = owned.filter(pk=timeline_id).first() if timeline_id else None
    return timeline or owned.order_by("-updated_at", "-id").first()


def track_get(*, timeline: Timeline, track_id: int) -> Track:
    """Raises Track.DoesNotExist for a track of another timeline."""
    return Track.objects.get(pk=track_id, timeline=timeline)


def clip_get(*, timeline: Timeline, clip_id: int) -> Clip:
    """Raises Clip.DoesNotExist for a clip of another timeline."""
    return Clip.objects.get(pk=clip_id, track__timeline=timeline)


def clip_ids_on_timeline(*, timeline: Timeline, clip_ids) -> set[int]:
    """Which of these clip ids are on this timeline."""
    found = Clip.objects.filter(pk__in=clip_ids, track__timeline=timeline)
    return set(found.values_list("pk", flat=True))


def clip_ids_owned(*, owner, clip_ids) -> set[int]:
    """Which of these clip ids are on any of the owner's timelines (copy and paste may
    cross timelines)."""
    found = Clip.objects.filter(pk__in=clip_ids, track__timeline__owner=owner)
    return set(found.values_list("pk", flat=True))


def clips_using_media(*, media_item) -> QuerySet[Clip]:
    """Every clip of the item, with its timeline (to edit them timeline by timeline)."""
    return Clip.objects.filter(media_item=media_item).select_related("track__timeline")


def timeline_state(timeline: Timeline) -> TimelineState:
    """Tracks top to bottom (video above audio) with their clips and slots in time order.
    4 queries (6 when something was undone)."""
    tracks = list(
        Track.objects.filter(timeline=timeline)
        .order_by("order", "id")
        .prefetch_related(
            Prefetch(
                "clips",
                queryset=Clip.objects.select_related("media_item").order_by("start_s", "id"),
            )
        )
    )
    video = [t for t in tracks if t.kind == Track.Kind.VIDEO]
    audio = [t for t in tracks if t.kind == Track.Kind.AUDIO]
    rows = [TrackRow(t, f"V{len(video) - i}", list(t.clips.all())) for i, t in enumerate(video)]
    rows += [TrackRow(t, f"A{i + 1}", list(t.clips.all())) for i, t in enumerate(audio)]
    _attach_slots(timeline, rows)
    duration = max((c.end_s for row in rows for c in row.clips), default=0.0)
    duration = max([duration, *(s.end_s for row in rows for s in row.slots)])
    undo = redo = None
    # The undo head is the last not-undone op, the redo head the first undone one: one
    # query fetching both candidates' labels.
    heads = list(
        EditOperation.objects.filter(timeline=timeline)
        .order_by("-seq")
        .values("seq", "label", "undone")[:1]
    )
    if heads:
        if heads[0]["undone"]:
            redo_row = (
                EditOperation.objects.filter(timeline=timeline, undone=True)
                .order_by("seq")
                .values("label")
                .first()
            )
            redo = redo_row["label"] if redo_row else None
            undo_row = (
                EditOperation.objects.filter(timeline=timeline, undone=False)
                .order_by("-seq")
                .values("label")
                .first()
            )
            undo = undo_row["label"] if undo_row else None
        else:
            undo = heads[0]["label"]
    return TimelineState(
        timeline=timeline,
        rows=rows,
        duration_s=round(duration, 3),
        can_undo=undo is not None,
        can_redo=redo is not None,
        undo_label=undo or "",
        redo_label=redo or "",
    )


# A filled slot's note stays on the timeline this long (seconds).
FILL_NOTE_SHOWN_S = 30


def _attach_slots(timeline: Timeline, rows: list[TrackRow]) -> None:
    """One query: the unfilled slots and the just-filled ones, with their jobs."""
    by_track = {row.track.pk: row for row in rows}
    recent = timezone.now() - timedelta(seconds=FILL_NOTE_SHOWN_S)
    for slot in (
        Slot.objects.filter(timeline=timeline)
        .filter(models.Q(filled=False) | models.Q(filled_at__gte=recent))
        .select_related("job")
        .order_by("start_s", "id")
    ):
        row = by_track.get(slot.track_id)
        if row is not None:
            (row.recent_fills if slot.filled else row.slots).append(slot)


def slot_list(*, timeline: Timeline, include_filled: bool = True) -> list[Slot]:
    """The timeline's slots in time order, with their jobs (callers scope the timeline)."""
    qs = Slot.objects.filter(timeline=timeline).select_related("job")
    if not include_filled:
        qs = qs.filter(filled=False)
    return list(qs.order_by("start_s", "id"))


def slot_get(*, timeline: Timeline, slot_id: int) -> Slot:
    """Raises Slot.DoesNotExist for a slot of another timeline."""
    return Slot.objects.select_related("job", "timeline", "track").get(
        pk=slot_id, timeline=timeline
    )


def clip_generation_prompt(*, clip: Clip) -> str:
    """The prompt that generated the clip's media ("" for an upload or an export)."""
    from generation.models import GenerationJob

    job = GenerationJob.objects.filter(media_item_id=clip.media_item_id).only("prompt").first()
    return job.prompt if job else ""


def timelines_using_media(*, media_item) -> QuerySet[Timeline]:
    """For the media library's delete confirmation: the timelines that use an item."""
    return Timeline.objects.filter(tracks__clips__media_item=media_item).distinct()


def export_list(*, owner, timeline: Timeline | None = None, limit: int = 20) -> list[Export]:
    qs = Export.objects.filter(owner=owner).select_related("result")
    if timeline is not None:
        qs = qs.filter(timeline=timeline)
    return list(qs.order_by("-created_at", "-id")[:limit])


def export_get(*, owner, export_id: int) -> Export:
    return Export.objects.select_related("result").get(owner=owner, pk=export_id)
