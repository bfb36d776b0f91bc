"""Editor views: the workspace page, the editor panel, the timelines list, and one small
endpoint per edit. Views only parse input (editor.forms), check ownership (another user's
timeline, clip or export is a 404) and call editor.services; a refused edit answers 400
with the service's sentence as plain text, and the browser keeps showing the stored
timeline. A successful edit answers with the re-rendered timeline fragment (the other
tabs get the same fragment pushed by the services)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from editor import services
from editor.forms import (
    ClipAddForm,
    ClipMoveForm,
    ClipsForm,
    ClipsShiftForm,
    ClipTrimForm,
    ExportForm,
    PasteForm,
    SplitForm,
    TimelineCreateForm,
    TimelineRenameForm,
    TrackToggleForm,
    first_error,
)
from editor.models import Clip, Export, Timeline, Track
from media_library.models import MediaItem

SESSION_KEY = "editor.timeline_id"
RECENT_EXPORTS = 6
SPLIT_MARGIN_S = 0.04  # the services refuse to split closer than this to a clip's edge


def _refuse(message: str, status: int = 400) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _service_error(exc: ValidationError) -> HttpResponse:
    return _refuse(exc.messages[0] if exc.messages else "That edit was refused.")


def _own_timeline(request, pk: int) -> Timeline:
    return get_object_or_404(Timeline, pk=pk, owner=request.user)


def _current_timeline(request) -> Timeline:
    """The timeline this user last opened (kept in the session), else their most recent
    one, else a fresh one: a new user lands on an empty 16:9 timeline ready for clips."""
    owned = Timeline.objects.filter(owner=request.user)
    pk = request.session.get(SESSION_KEY)
    timeline = owned.filter(pk=pk).first() if pk else None
    if timeline is None:
        timeline = owned.order_by("-updated_at", "-id").first()
    if timeline is None:
        timeline = services.timeline_create(owner=request.user)
    request.session[SESSION_KEY] = timeline.pk
    return timeline


def _panel_context(request, timeline: Timeline) -> dict:
    return {
        "timeline": timeline,
        "timelines": Timeline.objects.filter(owner=request.user).order_by("-updated_at", "-id"),
        "presets": Timeline.Preset.choices,
        "exports": _recent_exports(request, timeline),
        "export_form": ExportForm.for_timeline(timeline),
    }


def _recent_exports(request, timeline: Timeline):
    return Export.objects.filter(owner=request.user, timeline=timeline).select_related("result")[
        :RECENT_EXPORTS
    ]


def _panel(request, timeline: Timeline, status: int = 200) -> HttpResponse:
    request.session[SESSION_KEY] = timeline.pk
    return render(
        request,
        "editor/partials/editor_panel.html",
        _panel_context(request, timeline),
        status=status,
    )


def _fragment(request, timeline: Timeline) -> HttpResponse:
    timeline.refresh_from_db()
    return render(request, "editor/partials/timeline.html", {"timeline": timeline})


@login_required
def workspace(request):
    """The editor frame. Each panel loads its own fragment from its app (hx-get on load
    and again on every live re-sync), so apps stay independent of each other."""
    return render(request, "editor/workspace.html")


@login_required
@require_GET
def editor_panel(request):
    return _panel(request, _current_timeline(request))


# --- Timelines list ------------------------------------------------------------------------


@login_required
@require_GET
def timeline_list(request):
    timeline = _current_timeline(request)
    return render(request, "editor/partials/timeline_list.html", _panel_context(request, timeline))


@login_required
@require_POST
def timeline_create(request):
    form = TimelineCreateForm(request.POST)
    if not form.is_valid():
        return _refuse(first_error(form))
    try:
        timeline = services.timeline_create(
            owner=request.user, name=form.cleaned_data["name"], preset=form.cleaned_data["preset"]
        )
    except ValidationError as exc:
        return _service_error(exc)
    return _panel(request, timeline)


@login_required
@require_POST
def timeline_open(request, pk: int):
    return _panel(request, _own_timeline(request, pk))


@login_required
@require_POST
def timeline_rename(request, pk: int):
    timeline = _own_timeline(request, pk)
    form = TimelineRenameForm(request.POST)
    if not form.is_valid():
        return _refuse(first_error(form))
    try:
        services.timeline_rename(timeline=timeline, name=form.cleaned_data["name"])
    except ValidationError as exc:
        return _service_error(exc)
    return _panel(request, _current_timeline(request))


@login_required
@require_POST
def timeline_duplicate(request, pk: int):
    copy = services.timeline_duplicate(timeline=_own_timeline(request, pk))
    return _panel(request, copy)


@login_required
@require_POST
def timeline_delete(request, pk: int):
    timeline = _own_timeline(request, pk)
    services.timeline_delete(timeline=timeline)
    # Falls back to the most recent remaining timeline (or a new one).
    return _panel(request, _current_timeline(request))


# --- The timeline fragment and its edits ------------------------------------------------------


@login_required
@require_GET
def timeline_fragment(request, pk: int):
    return _fragment(request, _own_timeline(request, pk))


def _own_clip(timeline: Timeline, clip_id: int) -> Clip:
    return get_object_or_404(Clip, pk=clip_id, track__timeline=timeline)


def _own_clip_ids(timeline: Timeline, ids: list[int]) -> list[int]:
    """404 unless every id is a clip of this (the user's) timeline."""
    found = set(
        Clip.objects.filter(pk__in=ids, track__timeline=timeline).values_list("pk", flat=True)
    )
    if len(found) != len(set(ids)):
        raise Http404("No such clip on this timeline.")
    return ids


def _edit(request, pk: int, form_class, apply):
    """Parse, apply through the services, answer with the stored timeline."""
    timeline = _own_timeline(request, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        return _refuse(first_error(form))
    try:
        apply(timeline, form.cleaned_data)
    except ValidationError as exc:
        return _service_error(exc)
    return _fragment(request, timeline)


@login_required
@require_POST
def clip_add(request, pk: int):
    def apply(timeline, data):
        media = get_object_or_404(MediaItem, pk=data["media_id"], owner=request.user)
        track = None
        if data["track_id"]:
            track = get_object_or_404(Track, pk=data["track_id"], timeline=timeline)
        services.clip_add(timeline=timeline, media_item=media, start_s=data["start"], track=track)

    return _edit(request, pk, ClipAddForm, apply)


@login_required
@require_POST
def clip_move(request, pk: int):
    def apply(timeline, data):
        clip = _own_clip(timeline, data["clip_id"])
        track = None
        if data["track_id"] and not data["new_track"]:
            track = get_object_or_404(Track, pk=data["track_id"], timeline=timeline)
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
def clips_split(request, pk: int):
    """Split the given clips at `at`; with no clips given, every clip under the playhead
    on an unlocked track (a linked partner is split along with its clip)."""

    def apply(timeline, data):
        at = data["at"]
        ids = _own_clip_ids(timeline, data["clip_ids"]) if data["clip_ids"] else None
        candidates = Clip.objects.filter(track__timeline=timeline)
        if ids is None:
            candidates = candidates.filter(track__locked=False)
        else:
            candidates = candidates.filter(pk__in=ids)
        targets = [
            c for c in candidates if c.start_s + SPLIT_MARGIN_S <= at <= c.end_s - SPLIT_MARGIN_S
        ]
        if not targets:
            raise ValidationError("Put the playhead inside a clip to split it.")
        for clip in targets:
            clip.refresh_from_db()
            # Already cut as the linked partner of an earlier target.
            if clip.start_s + SPLIT_MARGIN_S <= at <= clip.end_s - SPLIT_MARGIN_S:
                services.clip_split(clip=clip, at_s=at)

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
        owned = Clip.objects.filter(pk__in=ids, track__timeline__owner=request.user).count()
        if owned != len(ids):
            raise Http404("No such clip.")
        services.clips_paste(timeline=timeline, clips=ids, at_s=data["at"])

    return _edit(request, pk, PasteForm, apply)


@login_required
@require_POST
def track_toggle(request, pk: int, track_id: int):
    def apply(timeline, data):
        track = get_object_or_404(Track, pk=track_id, timeline=timeline)
        services.track_update(track=track, **{data["field"]: data["value"]})

    return _edit(request, pk, TrackToggleForm, apply)


@login_required
@require_POST
def track_delete(request, pk: int, track_id: int):
    timeline = _own_timeline(request, pk)
    track = get_object_or_404(Track, pk=track_id, timeline=timeline)
    try:
        services.track_delete(track=track)
    except ValidationError as exc:
        return _service_error(exc)
    return _fragment(request, timeline)


@login_required
@require_POST
def timeline_undo(request, pk: int):
    timeline = _own_timeline(request, pk)
    try:
        op = services.timeline_undo(timeline=timeline)
    except ValidationError as exc:
        return _service_error(exc)
    if op is None:
        return _refuse("Nothing to undo.")
    return _fragment(request, timeline)


@login_required
@require_POST
def timeline_redo(request, pk: int):
    timeline = _own_timeline(request, pk)
    try:
        op = services.timeline_redo(timeline=timeline)
    except ValidationError as exc:
        return _service_error(exc)
    if op is None:
        return _refuse("Nothing to redo.")
    return _fragment(request, timeline)


# --- Exports -------------------------------------------------------------------------------------


@login_required
@require_GET
def export_list(request, pk: int):
    timeline = _own_timeline(request, pk)
    return render(
        request, "editor/partials/export_list.html", {"exports": _recent_exports(request, timeline)}
    )


@login_required
@require_POST
def export_start(request, pk: int):
    timeline = _own_timeline(request, pk)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _refuse(first_error(form))
    try:
        export = services.export_start(
            timeline=timeline,
            preset=form.cleaned_data["preset"],
            fps=form.cleaned_data["fps"],
            file_name=form.cleaned_data["file_name"],
        )
    except ValidationError as exc:
        return _service_error(exc)
    return render(request, "editor/partials/export_card.html", {"export": export, "new": True})


@login_required
@require_POST
def export_cancel(request, export_id: int):
    export = get_object_or_404(Export, pk=export_id, owner=request.user)
    try:
        export = services.export_cancel(export=export)
    except ValidationError as exc:
        return _service_error(exc)
    return render(request, "editor/partials/export_card.html", {"export": export})
