"""Slots: a generation placed on the timeline (see editor.models.Slot).

    slot_create(*, timeline, user, model_id, params, track=None, start_s=None, after_clip=None,
                bridge_to=None)
        validates the place, then starts the job through generation's own
        `jobs_create_batch` (same validation, pricing, budget and limits as every other
        door) in the same transaction: a refused job leaves no slot, a refused place no job.
        After a clip, the later clips of the track move right to make room (one undoable
        edit); at a start time, a busy place is refused. Bridge (`after_clip` A and
        `bridge_to` B, the clip right after A on its track): a first-and-last-frame model
        gets A's frame at its out point and B's at its in point, and the slot goes between.
    slot_delete(*, slot)       removes the slot; a live job is cancelled (generation's
                               `job_cancel`, whose rules settle or release the reservation).
    slot_cancel(*, slot)       cancel its running job; the slot stays with Retry.
    slot_retry(*, slot, user)  a failed or cancelled slot gets a new job (`job_retry`).
    slot_place(*, slot)        the creator places a finished job's clip again (after undo).
    slot_fill(*, slot_id, attempt=0)  the worker's step: place the clip once the job
                               succeeded and its media item is ready.

Filling is one undoable edit (its EditOperation carries a "slots" part next to tracks and
clips, applied by editor.services.history) and happens at most once per slot and job:
the timeline row lock is taken, then the slot row (select_for_update), and `filled_job_id`
is checked and written in that same transaction. A fill task redelivered after a SIGKILL,
the recovery sweep and a racing second task all find it set and do nothing.

How a clip that is not the length asked for fits: it takes its real length and the later
clips on the slot's track (with their linked partners) ripple by the difference; when
that ripple is refused (it would overlap something, or touch a locked track) the clip is
trimmed to the room before the next clip instead. The slot records which (`fill_mode`,
`fill_note`) and the UI and the API say so.

Errors are django ValidationError with a `code` (SLOT_* below); the views and the API map
codes to statuses and show the message.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from editor.models import Clip, Slot, Timeline, Track
from generation import catalog
from generation.models import GenerationJob, JobStatus
from generation.services.jobs import job_cancel, job_retry, jobs_create_batch
from generation.services.transitions import IllegalTransition
from media_library.models import MediaItem
from project.live import broadcast_on_commit, render_fragment

from .common import (
    MAX_TIMELINE_S,
    MIN_CLIP_S,
    Recorder,
    linked_clips,
    lock_timeline,
    media_length_s,
    ms,
    new_link_group,
    refuse_locked,
)
from .timelines import track_create_locked

logger = logging.getLogger("editor.slots")

SLOT_TEMPLATE = "editor/partials/slot.html"

# Error codes (ValidationError.code).
SLOT_NO_PLACE = "slot_no_place"  # neither a start nor a clip to follow was given
SLOT_BAD_TRACK = "slot_bad_track"  # not a video track of this timeline, or locked
SLOT_OVERLAP = "slot_overlap"  # a clip or another slot is already there
SLOT_NOT_RETRYABLE = "slot_not_retryable"
SLOT_NOT_READY = "slot_not_ready"  # Place pressed before the job delivered
SLOT_BLOCKED = "slot_blocked"  # something now covers the slot's place
SLOT_NO_BRIDGE = "slot_no_bridge"  # not two touching clips of one track, or the wrong model

# Bridge: B "follows" A when it starts within this of A's end (a frame at 24 fps is 0.042 s;
# snapping leaves clips exactly touching, hand placement within a frame).
BRIDGE_GAP_S = 0.05

# The fill task re-checks a processing media item after this many seconds (growing), up
# to FILL_WAIT_S in all; media processing has its own time limits well inside that.
FILL_RETRY_S = (0.25, 0.5, 1.0, 2.0, 4.0)
FILL_WAIT_S = 900


# --- reads used by the services, the receivers and the export check -------------------------


def _slot_query():
    return Slot.objects.select_related("job", "track", "timeline")


def slot_fragment(slot_id: int) -> str:
    """The slot's fragment for a live push, rendered from the row as it is now."""
    slot = _slot_query().filter(pk=slot_id).first()
    if slot is None:
        return ""
    try:
        return render_fragment(SLOT_TEMPLATE, {"slot": slot, "oob": True})
    except Exception:  # a push is best effort: never undo a committed step
        logger.exception("slot %s: push failed to render", slot_id)
        return ""


def push_slot(slot: Slot) -> None:
    broadcast_on_commit(slot.timeline.owner_id, lambda: slot_fragment(slot.pk))


def _push_timeline(timeline: Timeline) -> None:
    from editor.live import push_timeline  # editor.live renders templates that read us

    push_timeline(timeline)


def track_labels(timeline: Timeline) -> dict[int, str]:
    """{track id: "V1" | "A1" …}, the labels the timeline shows (V1 is the bottom layer)."""
    tracks = list(timeline.tracks.order_by("order", "id"))
    video = [t for t in tracks if t.kind == Track.Kind.VIDEO]
    audio = [t for t in tracks if t.kind == Track.Kind.AUDIO]
    labels = {t.pk: f"V{len(video) - i}" for i, t in enumerate(video)}
    labels.update({t.pk: f"A{i + 1}" for i, t in enumerate(audio)})
    return labels


def _clock(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def slot_title(slot: Slot) -> str:
    prompt = " ".join((slot.job.prompt if slot.job else "").split())
    if len(prompt) > 40:
        prompt = prompt[:39] + "…"
    return f"“{prompt}”" if prompt else "a generation"


def unfilled_slots_sentence(timeline: Timeline) -> str:
    """ "" when every slot is filled, else a sentence naming the unfilled ones."""
    slots = list(_slot_query().filter(timeline=timeline, filled=False).order_by("start_s", "id"))
    if not slots:
        return ""
    labels = track_labels(timeline)
    named = [
        f"{slot_title(s)} on {labels.get(s.track_id, 'a track')} at {_clock(s.start_s)}"
        for s in slots[:3]
    ]
    more = f" and {len(slots) - 3} more" if len(slots) > 3 else ""
    count = (
        "1 generation slot that is"
        if len(slots) == 1
        else f"{len(slots)} generation slots that are"
    )
    return (
        f"This timeline has {count} not filled yet: {'; '.join(named)}{more}. "
        "Wait for them to finish or remove them, then export."
    )


# --- create, delete, retry ------------------------------------------------------------------


def _video_track(timeline: Timeline, track: Track | int | None) -> Track:
    pk = track.pk if isinstance(track, Track) else track
    found = Track.objects.filter(pk=pk, timeline=timeline).first() if pk is not None else None
    if found is None:
        raise ValidationError("That track is not part of this timeline.", code=SLOT_BAD_TRACK)
    if found.kind != Track.Kind.VIDEO:
        raise ValidationError("Generate onto a video track.", code=SLOT_BAD_TRACK)
    if found.locked:
        raise ValidationError(
            "That track is locked; unlock it to generate onto it.", code=SLOT_BAD_TRACK
        )
    return found


def _refuse_overlap(track: Track, start: float, end: float, *, ignore: int | None = None):
    for clip in Clip.objects.select_related("media_item").filter(track=track):
        if clip.start_s < end - 1e-9 and clip.end_s > start + 1e-9:
            raise ValidationError(
                f"“{clip.media_item.title}” is already there ({clip.start_s:.2f}–"
                f"{clip.end_s:.2f} s); pick a free place on the track.",
                code=SLOT_OVERLAP,
            )
    others = Slot.objects.filter(track=track, filled=False).exclude(pk=ignore)
    for other in others:
        if other.start_s < end - 1e-9 and other.end_s > start + 1e-9:
            raise ValidationError(
                f"Another generation is already placed there ({other.start_s:.2f}–"
                f"{other.end_s:.2f} s).",
                code=SLOT_OVERLAP,
            )


def slot_create(
    *,
    timeline: Timeline,
    user,
    model_id: str,
    params: dict,
    track: Track | int | None = None,
    start_s: float | None = None,
    after_clip: Clip | int | None = None,
    bridge_to: Clip | int | None = None,
) -> Slot:
    """Place a generation on a video track at `start_s`, or right after `after_clip` (on
    that clip's track unless `track` is given); with `bridge_to`, between `after_clip` and
    that clip (see bridge_frames). Raises ValidationError (the place),
    generation's JobInvalid (the request) or LimitExceeded (budget, rate, concurrency)."""
    if user.pk != timeline.owner_id:
        raise ValidationError("That timeline is not yours.", code=SLOT_BAD_TRACK)
    if bridge_to is not None:
        # Checked (and the frames extracted) before anything is written: a refused bridge
        # changes nothing; the place is checked again under the timeline lock below.
        a, b = bridge_pair(timeline=timeline, clip_a=after_clip, clip_b=bridge_to)
        bridge_model_check(model_id)
        params = dict(params)
        if not params.get("image_id") or not params.get("end_image_id"):
            first, last = bridge_frames(clip_a=a, clip_b=b)
            params["image_id"] = params.get("image_id") or first.pk
            params["end_image_id"] = params.get("end_image_id") or last.pk
        after_clip, bridge_to, track = a, b, a.track_id
    with transaction.atomic():
        tl = lock_timeline(timeline)
        if after_clip is not None:
            pk = after_clip.pk if isinstance(after_clip, Clip) else after_clip
            clip = Clip.objects.filter(pk=pk, track__timeline=tl).first()
            if clip is None:
                raise ValidationError(
                    "That clip is no longer on this timeline.", code=SLOT_NO_PLACE
                )
            start = clip.end_s
            target = _video_track(tl, track if track is not None else clip.track_id)
            if bridge_to is not None:
                bridge_pair(timeline=tl, clip_a=clip, clip_b=bridge_to)
        elif start_s is not None:
            start = ms(start_s)
            target = _video_track(tl, track)
        else:
            raise ValidationError(
                "Say where the generation goes: a start time or a clip to follow.",
                code=SLOT_NO_PLACE,
            )
        if start < 0:
            raise ValidationError(
                "A generation can't start before the beginning of the timeline.",
                code=SLOT_NO_PLACE,
            )
        (job,) = jobs_create_batch(user=user, model_id=model_id, params=params)
        duration = _asked_duration(job)
        if start + duration > MAX_TIMELINE_S:
            raise ValidationError("A timeline can be at most six hours long.", code=SLOT_NO_PLACE)
        if after_clip is not None:
            # Inserted after a clip (Continue this shot): the clips after it move right to
            # make room, as one undoable edit, rather than refusing a busy track.
            _make_room(tl, target, start, duration)
        _refuse_overlap(target, start, start + duration)
        slot = Slot.objects.create(
            timeline=tl, track=target, job=job, start_s=start, duration_s=duration
        )
        _push_timeline(tl)
    return slot


def _make_room(tl: Timeline, track: Track, start: float, duration: float) -> None:
    later = list(
        Clip.objects.select_related("track", "media_item")
        .filter(track=track, start_s__gte=start - 1e-9)
        .order_by("start_s", "id")
    )
    if not later or later[0].start_s >= start + duration - 1e-9:
        return
    shift = ms(start + duration - later[0].start_s)
    rec = Recorder(tl, "Make room for a generation")
    group = linked_clips(later)
    refuse_locked({c.track for c in group})
    rec.touch_clips(group)
    for c in group:
        c.start_s = ms(c.start_s + shift)
        c.save(update_fields=["start_s"])
    rec.finish()


def _asked_duration(job: GenerationJob) -> float:
    value = job.params.get("duration")
    if value in (None, ""):
        spec = catalog.get(job.model_id)
        value = spec.durations[0] if spec.durations else 5
    return ms(value)


def slot_delete(*, slot: Slot) -> None:
    """Remove the slot; its job, when still running, is cancelled (generation's rules
    release or settle the reservation)."""
    with transaction.atomic():
        tl = lock_timeline(slot.timeline)
        current = Slot.objects.select_for_update().filter(pk=slot.pk, timeline=tl).first()
        if current is None:
            return
        job = current.job
        if job is not None and not current.filled and job.is_live:
            try:
                job_cancel(job=job)
            except IllegalTransition:
                pass  # it finished a moment ago: the slot goes all the same
        current.delete()
        _push_timeline(tl)


def slot_cancel(*, slot: Slot) -> Slot:
    """Cancel the slot's running job; the slot stays, cancelled, with Retry and Remove.
    Raises IllegalTransition when the job has already finished."""
    if slot.filled or slot.job is None:
        raise ValidationError("This slot has no running generation.", code=SLOT_NOT_RETRYABLE)
    with transaction.atomic():
        job_cancel(job=slot.job)
        push_slot(slot)
    return slot


def slot_retry(*, slot: Slot, user) -> Slot:
    """A new job with the failed or cancelled job's settings, in the same slot."""
    with transaction.atomic():
        tl = lock_timeline(slot.timeline)
        current = _slot_query().select_for_update(of=("self",)).get(pk=slot.pk, timeline=tl)
        job = current.job
        if current.filled or job is None or not job.can_retry:
            raise ValidationError(
                "Only a failed or cancelled generation can be retried.", code=SLOT_NOT_RETRYABLE
            )
        current.job = job_retry(job=job, user=user)
        current.fill_note = ""
        current.fill_mode = ""
        current.save(update_fields=["job", "fill_note", "fill_mode", "updated_at"])
        _push_timeline(tl)
    return current


# --- the job tells us (generation.signals.job_changed) --------------------------------------


def slots_job_changed(*, job: GenerationJob) -> None:
    """Re-render the job's unfilled slots; when it succeeded, schedule their fill. Runs
    inside the job step's transaction: both only happen once that commits."""
    from editor import tasks

    for slot in Slot.objects.select_related("timeline").filter(job_id=job.pk, filled=False):
        push_slot(slot)
        if job.status == JobStatus.SUCCEEDED:
            slot_id = slot.pk
            transaction.on_commit(lambda slot_id=slot_id: tasks.slot_fill.delay(slot_id))


def slots_recover() -> int:
    """Schedule the fill of every slot whose job succeeded but whose result was never
    placed (a worker killed between the job's success and the fill). A worker runs this
    when it starts; the fill itself is idempotent, so a slot being filled right now is
    harmless. Returns how many were scheduled."""
    from editor import tasks

    pending = Slot.objects.filter(
        filled=False, filled_job_id__isnull=True, job__status=JobStatus.SUCCEEDED
    ).values_list("pk", flat=True)
    count = 0
    for slot_id in pending:
        tasks.slot_fill.delay(slot_id)
        count += 1
    return count


# --- filling -------------------------------------------------------------------------------


def slot_fill(*, slot_id: int, attempt: int = 0) -> str:
    """The worker's step. Returns what happened: "filled", "already", "waiting" (media
    still processing: scheduled again), "not-ready" (the job has not succeeded), "gone",
    or "blocked" (the slot keeps a note saying why)."""
    slot = _slot_query().filter(pk=slot_id).first()
    if slot is None:
        return "gone"
    job = slot.job
    if job is None or job.status != JobStatus.SUCCEEDED or job.media_item_id is None:
        return "not-ready"
    if slot.filled_job_id == job.pk:
        return "already"
    item = MediaItem.objects.get(pk=job.media_item_id)
    if item.status == MediaItem.Status.PROCESSING:
        return _wait_for_media(slot, attempt)
    if item.status != MediaItem.Status.READY:
        _note(slot, "The generated clip could not be read, so it was not placed.")
        return "blocked"
    try:
        return _fill(slot_id=slot.pk, job_id=job.pk, automatic=True)
    except ValidationError as exc:
        _note(slot, exc.messages[0])
        return "blocked"


def slot_place(*, slot: Slot) -> Slot:
    """The creator asks again for a finished job's clip in its slot (after undoing the
    fill, or after clearing what blocked it). Raises ValidationError."""
    job = slot.job
    if job is None or job.status != JobStatus.SUCCEEDED or job.media_item_id is None:
        raise ValidationError("This generation has not delivered a clip yet.", code=SLOT_NOT_READY)
    item = MediaItem.objects.get(pk=job.media_item_id)
    if item.status != MediaItem.Status.READY:
        raise ValidationError(
            "The clip is still being processed; try again in a moment.", code=SLOT_NOT_READY
        )
    _fill(slot_id=slot.pk, job_id=job.pk, automatic=False)
    slot.refresh_from_db()
    return slot


def _wait_for_media(slot: Slot, attempt: int) -> str:
    from editor import tasks

    waited = sum(FILL_RETRY_S[min(i, len(FILL_RETRY_S) - 1)] for i in range(attempt))
    if waited > FILL_WAIT_S:
        _note(slot, "The generated clip took too long to process; press Place to try again.")
        return "blocked"
    delay = FILL_RETRY_S[min(attempt, len(FILL_RETRY_S) - 1)]
    tasks.slot_fill.apply_async((slot.pk, attempt + 1), countdown=delay)
    return "waiting"


def _note(slot: Slot, message: str) -> None:
    Slot.objects.filter(pk=slot.pk, filled=False).update(
        fill_note=message[:300], updated_at=timezone.now()
    )
    push_slot(slot)


def _fill(*, slot_id: int, job_id: int, automatic: bool) -> str:
    with transaction.atomic():
        # Timeline first (every edit's lock order), then the slot row.
        timeline = Timeline.objects.get(slots__pk=slot_id)
        tl = lock_timeline(timeline)
        slot = Slot.objects.select_for_update().filter(pk=slot_id, timeline=tl).first()
        if slot is None:
            return "gone"
        if slot.filled or (automatic and slot.filled_job_id == job_id) or slot.job_id != job_id:
            return "already"
        job = GenerationJob.objects.select_related("media_item").get(pk=job_id)
        item = job.media_item
        track = Track.objects.get(pk=slot.track_id)
        if track.locked:
            raise ValidationError(
                "The track is locked; unlock it and press Place.", code=SLOT_BLOCKED
            )
        length = slot.duration_s if item.kind == MediaItem.Kind.IMAGE else media_length_s(item)
        op, clip, mode, note = _place(tl, slot, track, item, length)
        op.before["slots"] = {str(slot.pk): {"filled": False, "clip_id": None}}
        op.after["slots"] = {str(slot.pk): {"filled": True, "clip_id": clip.pk}}
        _shift_later_slots(op, slot, track, clip, mode)
        op.save(update_fields=["before", "after"])
        now = timezone.now()
        Slot.objects.filter(pk=slot.pk).update(
            filled=True,
            clip_id=clip.pk,
            filled_job_id=job_id,
            fill_mode=mode,
            fill_note=note[:300],
            filled_at=now,
            updated_at=now,
        )
        Timeline.objects.filter(pk=tl.pk).update(updated_at=op.created_at)
        _push_timeline(tl)
        logger.info("slot %s filled with clip %s (%s)", slot.pk, clip.pk, mode)
        slot_pk = slot.pk
        transaction.on_commit(lambda: _chain_after_fill(slot_pk))
    return "filled"


def _shift_later_slots(op, slot: Slot, track: Track, clip: Clip, mode: str) -> None:
    """The unfilled slots after this one on its track move with the clips that rippled (a
    storyboard's next shots keep following this one), recorded in the same edit. Not when
    the clip was fitted to the room instead (the later clips stayed)."""
    delta = ms(clip.duration_s - slot.duration_s)
    later_clips = Clip.objects.filter(track=track, start_s__gte=slot.start_s).exclude(pk=clip.pk)
    moved = mode == Slot.FillMode.RIPPLED or (
        mode == Slot.FillMode.RESIZED and not later_clips.exists()
    )
    if not moved or abs(delta) < 0.001:
        return
    for other in Slot.objects.filter(
        track=track, filled=False, start_s__gte=slot.end_s - 1e-9
    ).exclude(pk=slot.pk):
        new_start = ms(max(0.0, other.start_s + delta))
        op.before["slots"][str(other.pk)] = {"start_s": other.start_s}
        op.after["slots"][str(other.pk)] = {"start_s": new_start}
        Slot.objects.filter(pk=other.pk).update(start_s=new_start)


def _chain_after_fill(slot_id: int) -> None:
    """A chained storyboard's next shot starts from this clip's last frame: the worker
    extracts it (editor.services.storyboards.storyboard_chain_next)."""
    from editor import tasks
    from editor.models import StoryboardShot

    if StoryboardShot.objects.filter(slot_id=slot_id, storyboard__chain=True).exists():
        tasks.storyboard_chain.delay(slot_id)


LABELS = {
    Slot.FillMode.EXACT: "Place generated clip",
    Slot.FillMode.RIPPLED: "Place generated clip (later clips rippled)",
    Slot.FillMode.TRIMMED: "Place generated clip (trimmed to slot)",
    Slot.FillMode.RESIZED: "Place generated clip (its real length)",
}


def _place(tl: Timeline, slot: Slot, track: Track, item: MediaItem, length: float):
    """Ripple first; when the ripple is refused, trim to the room. Returns (operation,
    clip, mode, note)."""
    start, asked = slot.start_s, slot.duration_s
    on_track = list(
        Clip.objects.select_related("track", "media_item")
        .filter(track=track)
        .order_by("start_s", "id")
    )
    covering = [c for c in on_track if c.start_s < start - 1e-9 and c.end_s > start + 1e-9]
    if covering:
        raise ValidationError(
            f"“{covering[0].media_item.title}” now covers the slot's start; move it and "
            "press Place.",
            code=SLOT_BLOCKED,
        )
    later = [c for c in on_track if c.start_s >= start - 1e-9]
    delta = ms(length - asked)
    said = f"The clip is {length:.2f} s ({asked:.2f} s asked)"
    if abs(delta) < 0.001:
        mode, note = Slot.FillMode.EXACT, ""
    elif later:
        direction = "later" if delta > 0 else "earlier"
        mode = Slot.FillMode.RIPPLED
        note = f"{said}: the later clips on this track moved {abs(delta):.2f} s {direction}."
    else:
        mode, note = Slot.FillMode.RESIZED, f"{said}: it takes its real length."
    try:
        with transaction.atomic():  # a savepoint: a refused ripple leaves no trace
            rec = Recorder(tl, LABELS[mode])
            if later and mode == Slot.FillMode.RIPPLED:
                group = linked_clips(later)
                refuse_locked({c.track for c in group})
                rec.touch_clips(group)
                for c in group:
                    c.start_s = ms(c.start_s + delta)
                    c.save(update_fields=["start_s"])
            clip = _create_clips(tl, rec, track, item, start, length)
            op = rec.finish()
        return op, clip, mode, note
    except ValidationError:
        if not later:
            raise
    room = ms(later[0].start_s - start)
    fit = min(length, room)
    if fit < MIN_CLIP_S:
        raise ValidationError(
            f"“{later[0].media_item.title}” now sits where the clip would go; move it and "
            "press Place.",
            code=SLOT_BLOCKED,
        )
    if fit < length - 1e-9:
        mode = Slot.FillMode.TRIMMED
        note = (
            f"{said}: trimmed to {fit:.2f} s to fit before “{later[0].media_item.title}” "
            "(rippling the later clips would have collided)."
        )
    else:
        mode = Slot.FillMode.RESIZED
        note = f"{said}: it takes its real length; the later clips stay where they are."
    rec = Recorder(tl, LABELS[mode])
    clip = _create_clips(tl, rec, track, item, start, fit)
    return rec.finish(), clip, mode, note


def _create_clips(tl, rec, track: Track, item: MediaItem, start: float, length: float) -> Clip:
    """The video clip and, for a video with sound, its linked audio clip (like clip_add)."""
    with_audio = item.kind == MediaItem.Kind.VIDEO and item.has_audio
    group = new_link_group() if with_audio else None
    fields = {"media_item": item, "start_s": start, "in_s": 0.0, "out_s": ms(length)}
    clip = Clip.objects.create(track=track, link_group=group, **fields)
    rec.created_clip(clip)
    if with_audio:
        audio_track = _audio_track_with_room(tl, rec, start, clip.end_s)
        rec.created_clip(Clip.objects.create(track=audio_track, link_group=group, **fields))
    return clip


def _audio_track_with_room(tl: Timeline, rec, start: float, end: float) -> Track:
    # The same rule as clip_add's (first unlocked audio track with room, else a new one);
    # kept here rather than importing that module's private helper.
    tracks = list(tl.tracks.filter(kind=Track.Kind.AUDIO, locked=False).order_by("order"))
    by_track = defaultdict(list)
    for clip in Clip.objects.filter(track__in=tracks):
        by_track[clip.track_id].append(clip)
    for track in tracks:
        if all(c.end_s <= start + 1e-9 or c.start_s >= end - 1e-9 for c in by_track[track.pk]):
            return track
    return track_create_locked(tl, rec, Track.Kind.AUDIO)


# --- Continue this shot: the clip's last frame as the next shot's start image ----------------

SLOT_NOT_VIDEO = "slot_not_video"


def end_frame_time(clip: Clip) -> float:
    """The source time whose frame is on screen at the clip's out point (out is exclusive:
    the last frame shown starts just before it)."""
    return round(max(clip.in_s, clip.out_s - 1e-3), 3)


def decode_frame_before(fileobj, at_s: float):
    """The last decoded video frame starting before `at_s` (a PIL image), seeking to the
    keyframe before it first so a long clip is not decoded from the start."""
    import av

    with av.open(fileobj) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if stream.time_base and at_s > 2:
            container.seek(int((at_s - 2) / stream.time_base), stream=stream, backward=True)
        chosen = None
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            if frame.time > at_s + 1e-6 and chosen is not None:
                break
            chosen = frame
        if chosen is None:
            raise ValidationError("No frame could be read from this clip.", code=SLOT_NOT_VIDEO)
        return chosen.to_image()


def clip_end_frame(*, clip: Clip) -> MediaItem:
    """The frame at the clip's out point as a ready image in the owner's library (made
    once per source and time; a second Continue reuses it). Decoded on the server with
    PyAV from the stored file, saved as PNG (lossless: the provider gets that frame)."""
    return _clip_frame(clip, end_frame_time(clip))


def _clip_frame(clip: Clip, at: float) -> MediaItem:
    import tempfile
    from pathlib import Path

    from media_library.services import media_create_from_file, media_process

    item = clip.media_item
    if item.kind != MediaItem.Kind.VIDEO or item.status != MediaItem.Status.READY:
        raise ValidationError(
            "Continue and Bridge work on a ready video clip.", code=SLOT_NOT_VIDEO
        )
    existing = MediaItem.objects.filter(
        owner_id=item.owner_id,
        kind=MediaItem.Kind.IMAGE,
        status=MediaItem.Status.READY,
        metadata__frame_of=item.pk,
        metadata__frame_at_s=at,
    ).first()
    if existing is not None:
        return existing
    with item.file.open("rb") as source:
        image = decode_frame_before(source, at)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.png"
        image.save(path, format="PNG")
        frame = media_create_from_file(
            owner=item.owner,
            path_or_file=str(path),
            title=f"{item.title} · frame at {at:.2f} s",
            source=MediaItem.Source.UPLOAD,
            metadata={"frame_of": item.pk, "frame_at_s": at},
        )
    # Processed here, not left to the media queue: the creator presses Generate next, and
    # the job's validation wants a ready image (a still is probed in milliseconds; the
    # queued task then finds it done).
    try:
        done = media_process(media_id=frame.pk)
    except IllegalTransition:
        # The media worker's task (enqueued by the create) got there first: the still is
        # probed in milliseconds and the loser of the transition finds it already marked
        # ready (seen in the Bridge browser test, which takes two frames).
        done = None
    return done or MediaItem.objects.get(pk=frame.pk)


# --- Bridge two shots: A's last frame and B's first frame, a model that takes both --------


def bridge_pair(*, timeline: Timeline, clip_a: Clip | int | None, clip_b: Clip | int | None):
    """(A, B) when B is the clip that follows A on the same video track (touching, within
    BRIDGE_GAP_S, nothing between); else ValidationError SLOT_NO_BRIDGE saying why."""
    ids = [c.pk if isinstance(c, Clip) else c for c in (clip_a, clip_b)]
    found = {
        c.pk: c
        for c in Clip.objects.select_related("track", "media_item").filter(
            pk__in=[i for i in ids if i is not None], track__timeline=timeline
        )
    }
    if ids[0] not in found or ids[1] not in found:
        raise ValidationError("Select two clips of this timeline to bridge.", code=SLOT_NO_BRIDGE)
    a, b = found[ids[0]], found[ids[1]]
    if b.start_s < a.start_s:
        a, b = b, a  # the order of selection does not matter: A is the earlier one
    if a.pk == b.pk or a.track_id != b.track_id or a.track.kind != Track.Kind.VIDEO:
        raise ValidationError(
            "Bridge works on two clips that follow each other on one video track.",
            code=SLOT_NO_BRIDGE,
        )
    for clip in (a, b):
        if clip.media_item.kind != MediaItem.Kind.VIDEO:
            raise ValidationError(
                f"“{clip.media_item.title}” is not a video clip; bridge two video clips.",
                code=SLOT_NO_BRIDGE,
            )
    between = Clip.objects.filter(
        track_id=a.track_id, start_s__gte=a.start_s, start_s__lt=b.start_s
    ).exclude(pk=a.pk)
    if between.exists() or abs(b.start_s - a.end_s) > BRIDGE_GAP_S:
        raise ValidationError(
            f"“{b.media_item.title}” does not follow “{a.media_item.title}” directly on "
            "the track; bridge two clips that touch.",
            code=SLOT_NO_BRIDGE,
        )
    return a, b


def bridge_models() -> list:
    """The offered, available models that take a first and a last frame; those made for
    it (first-last-frame, the last frame required) first."""
    out = []
    for spec in catalog.offered_models():
        if spec.needs_image and spec.takes_end_image and catalog.available(spec)[0]:
            out.append(spec)
    return sorted(out, key=lambda spec: not spec.needs_end_image)


def bridge_model_check(model_id: str) -> None:
    """Refuses (SLOT_NO_BRIDGE) a model that does not take a first and a last frame, or
    any when none is available, naming what is."""
    if not bridge_models():
        raise ValidationError(NO_BRIDGE_MODEL, code=SLOT_NO_BRIDGE)
    try:
        spec = catalog.get(model_id)
    except KeyError:
        spec = None
    if spec is not None and spec.needs_image and spec.takes_end_image:
        return
    offered = [s.name for s in bridge_models()]
    names = ", ".join(offered[:4]) + (f" and {len(offered) - 4} more" if len(offered) > 4 else "")
    what = f"“{spec.name}”" if spec else "That model"
    raise ValidationError(
        f"{what} can't take a first and a last frame; pick one that does: {names}.",
        code=SLOT_NO_BRIDGE,
    )


NO_BRIDGE_MODEL = (
    "No model that takes a first and a last frame is available here: they run at fal.ai "
    "(set FAL_KEY on the server)."
)


def bridge_frames(*, clip_a: Clip, clip_b: Clip) -> tuple[MediaItem, MediaItem]:
    """A's frame at its out point and B's at its in point, as ready images."""
    return clip_end_frame(clip=clip_a), clip_start_frame(clip=clip_b)


def clip_start_frame(*, clip: Clip) -> MediaItem:
    """The frame on screen at the clip's in point (the last one starting at or before it)."""
    return _clip_frame(clip, round(clip.in_s, 3))
