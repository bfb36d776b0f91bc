"""The timeline fragment and its edits: clips, tracks, undo and redo. Each answers with
the re-rendered timeline fragment, or 400 with the service's sentence."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.views.decorators.http import require_GET, require_POST

from editor import selectors, services
from editor.forms import (
    ClipAddForm,
    ClipMoveForm,
    ClipPropForm,
    ClipsForm,
    ClipsShiftForm,
    ClipTrimForm,
    PasteForm,
    SplitForm,
    TrackToggleForm,
    first_error,
)
from editor.models import Clip, Timeline, Track
from editor.services.clips import clip_append as append_service
from media_library.selectors import media_get_for_owner
from project import ids as id_fields

from .common import found_or_404, owned_timeline, refusal, refused_edit, timeline_response

# --- The timeline fragment and its edits ------------------------------------------------------


@login_required
@require_GET
def timeline_fragment(request, pk: int):
    return timeline_response(request, owned_timeline(request, pk))


def _own_clip(timeline: Timeline, clip_id: int) -> Clip:
    return found_or_404(selectors.clip_get, timeline=timeline, clip_id=clip_id)


def _own_track(timeline: Timeline, track_id: int) -> Track:
    return found_or_404(selectors.track_get, timeline=timeline, track_id=track_id)


def _own_clip_ids(timeline: Timeline, ids: list[int]) -> list[int]:
    """404 unless every id is a clip of this (the user's) timeline."""
    found = selectors.clip_ids_on_timeline(timeline=timeline, clip_ids=ids)
    if len(found) != len(set(ids)):
        raise Http404("No such clip on this timeline.")
    return ids


def _edit(request, pk: int, form_class, apply):
    """Parse, apply through the services, answer with the stored timeline."""
    timeline = owned_timeline(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        return refusal(first_error(form))
    try:
        apply(timeline, form.cleaned_data)
    except ValidationError as exc:
        return refused_edit(exc)
    return timeline_response(request, timeline)


@login_required
@require_POST
def clip_add(request, pk: int):
    def apply(timeline, data):
        media = media_get_for_owner(owner=request.user, media_id=data["media_id"])
        track = None
        if data["track_id"]:
            track = _own_track(timeline, data["track_id"])
        services.clip_add(timeline=timeline, media_item=media, start_s=data["start"], track=track)

    return _edit(request, pk, ClipAddForm, apply)


class ClipAppendForm(forms.Form):
    media_id = id_fields.IdField(label="media item")


# The clip's start goes back in a header: the media card says where the clip landed
# ("Added to the timeline at 0:12.0") on a phone, where the timeline is on another tab.
START_HEADER = "X-Clip-Start"


@login_required
@require_POST
def clip_append(request, pk: int):
    timeline = owned_timeline(request, pk)
    form = ClipAppendForm(request.POST)
    if not form.is_valid():
        return refusal(first_error(form))
    media = media_get_for_owner(owner=request.user, media_id=form.cleaned_data["media_id"])
    try:
        clips = append_service(timeline=timeline, media_item=media)
    except ValidationError as exc:
        return refused_edit(exc)
    response = timeline_response(request, timeline)
    response[START_HEADER] = f"{clips[0].start_s:.3f}"
    return response


@login_required
@require_POST
def clip_move(request, pk: int):
    def apply(timeline, data):
        clip = _own_clip(timeline, data["clip_id"])
        track = None
        if data["track_id"] and not data["new_track"]:
            track = _own_track(timeline, data["track_id"])
        services.clip_move(
            clip=clip, start_s=data["start"], track=track, new_track=data["new_track"]
        )

    return _edit(request, pk, ClipMoveForm, apply)


@login_required
@require_POST
def clips_shift(request, pk: int):
    def apply(timeline, data):
        ids = _own_clip_ids(timeline, data["clip_ids"])
        services.clips_move(timeline=timeline, clips=ids, delta_s=data["delta"])

    return _edit(request, pk, ClipsShiftForm, apply)


@login_required
@require_POST
def clip_trim(request, pk: int):
    def apply(timeline, data):
        clip = _own_clip(timeline, data["clip_id"])
        point = {"in_s" if data["edge"] == "in" else "out_s": data["point"]}
        services.clip_trim(clip=clip, edge=data["edge"], **point)

    return _edit(request, pk, ClipTrimForm, apply)


@login_required
@require_POST
def clip_prop(request, pk: int):
    """The inspector: one fade or the volume of one clip, one undoable edit."""

    def apply(timeline, data):
        clip = _own_clip(timeline, data["clip_id"])
        if data["field"] == "volume":
            services.clip_set_volume(clip=clip, volume=data["value"])
        else:
            edge = data["field"].removeprefix("fade_")
            services.clip_set_fade(clip=clip, edge=edge, seconds=data["value"])

    return _edit(request, pk, ClipPropForm, apply)


@login_required
@require_POST
def clips_split(request, pk: int):
    """Split the given clips at `at`; with no clips given, every clip under the playhead
    on an unlocked track (a linked partner is split along with its clip)."""

    def apply(timeline, data):
        ids = _own_clip_ids(timeline, data["clip_ids"]) if data["clip_ids"] else None
        services.clips_split_at(timeline=timeline, at_s=data["at"], clips=ids)

    return _edit(request, pk, SplitForm, apply)


@login_required
@require_POST
def clips_delete(request, pk: int):
    def apply(timeline, data):
        ids = _own_clip_ids(timeline, data["clip_ids"])
        if data["ripple"]:
            services.clips_ripple_delete(timeline=timeline, clips=ids)
        else:
            services.clips_delete(timeline=timeline, clips=ids)

    return _edit(request, pk, ClipsForm, apply)


@login_required
@require_POST
def clips_paste(request, pk: int):
    def apply(timeline, data):
        # Copies may come from another of the user's timelines; the service checks the
        # owner, and a clip of someone else's timeline is simply not found (404).
        ids = data["clip_ids"]
        if len(selectors.clip_ids_owned(owner=request.user, clip_ids=ids)) != len(ids):
            raise Http404("No such clip.")
        services.clips_paste(timeline=timeline, clips=ids, at_s=data["at"])

    return _edit(request, pk, PasteForm, apply)


@login_required
@require_POST
def track_toggle(request, pk: int, track_id: int):
    def apply(timeline, data):
        track = _own_track(timeline, track_id)
        services.track_update(track=track, **{data["field"]: data["value"]})

    return _edit(request, pk, TrackToggleForm, apply)


@login_required
@require_POST
def track_delete(request, pk: int, track_id: int):
    timeline = owned_timeline(request, pk)
    track = _own_track(timeline, track_id)
    try:
        services.track_delete(track=track)
    except ValidationError as exc:
        return refused_edit(exc)
    return timeline_response(request, timeline)


def _history_step(request, pk: int, step, nothing_left: str):
    """Undo and redo are the same request: one step through the timeline's history."""
    timeline = owned_timeline(request, pk)
    try:
        op = step(timeline=timeline)
    except ValidationError as exc:
        return refused_edit(exc)
    if op is None:
        return refusal(nothing_left)
    return timeline_response(request, timeline)


@login_required
@require_POST
def timeline_undo(request, pk: int):
    return _history_step(request, pk, services.timeline_undo, "Nothing to undo.")


@login_required
@require_POST
def timeline_redo(request, pk: int):
    return _history_step(request, pk, services.timeline_redo, "Nothing to redo.")
