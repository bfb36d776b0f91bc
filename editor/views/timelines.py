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
    current_timeline,
    owned_timeline,
    panel_context,
    panel_response,
    refusal,
    refused_edit,
)


@login_required
def workspace(request):
    """The editor frame. Each panel loads its own fragment from its app (hx-get on load
    and again on every live re-sync), so apps stay independent of each other."""
    return render(request, "editor/workspace.html")


@login_required
@require_GET
def editor_panel(request):
    return panel_response(request, current_timeline(request))


# --- Timelines list ------------------------------------------------------------------------


@login_required
@require_GET
def timeline_list(request):
    timeline = current_timeline(request)
    return render(request, "editor/partials/timeline_list.html", panel_context(request, timeline))


@login_required
@require_POST
def timeline_create(request):
    form = TimelineCreateForm(request.POST)
    if not form.is_valid():
        return refusal(first_error(form))
    try:
        timeline = services.timeline_create(
            owner=request.user, name=form.cleaned_data["name"], preset=form.cleaned_data["preset"]
        )
    except ValidationError as exc:
        return refused_edit(exc)
    return panel_response(request, timeline)


@login_required
@require_POST
def timeline_open(request, pk: int):
    return panel_response(request, owned_timeline(request, pk))


@login_required
@require_POST
def timeline_rename(request, pk: int):
    timeline = owned_timeline(request, pk)
    form = TimelineRenameForm(request.POST)
    if not form.is_valid():
        return refusal(first_error(form))
    try:
        services.timeline_rename(timeline=timeline, name=form.cleaned_data["name"])
    except ValidationError as exc:
        return refused_edit(exc)
    return panel_response(request, current_timeline(request))


@login_required
@require_POST
def timeline_duplicate(request, pk: int):
    copy = services.timeline_duplicate(timeline=owned_timeline(request, pk))
    return panel_response(request, copy)


@login_required
@require_POST
def timeline_delete(request, pk: int):
    timeline = owned_timeline(request, pk)
    services.timeline_delete(timeline=timeline)
    # Falls back to the most recent remaining timeline (or a new one).
    return panel_response(request, current_timeline(request))
