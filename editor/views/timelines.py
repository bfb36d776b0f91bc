"""The workspace page, the editor panel and the timelines list (create, open, rename,
duplicate, delete)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from editor import services
from editor.forms import TimelineCreateForm, TimelineRenameForm, first_error

from .common import (
    _current_timeline,
    _own_timeline,
    _panel,
    _panel_context,
    _refuse,
    _service_error,
)


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
