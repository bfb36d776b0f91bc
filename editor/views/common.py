"""Shared pieces of the editor views: refusals as plain text, ownership lookups, the
current timeline kept in the session, and the panel / timeline fragment responses."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render

from editor import selectors, services
from editor.forms import ExportForm
from editor.models import Timeline

SESSION_KEY = "editor.timeline_id"
RECENT_EXPORTS = 6


def _refuse(message: str, status: int = 400) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _service_error(exc: ValidationError) -> HttpResponse:
    return _refuse(exc.messages[0] if exc.messages else "That edit was refused.")


def _found(lookup, **kwargs):
    """A scoped selector lookup, or 404 when it finds nothing (someone else's object)."""
    try:
        return lookup(**kwargs)
    except ObjectDoesNotExist:
        raise Http404("Not found.") from None


def _own_timeline(request, pk: int) -> Timeline:
    return _found(selectors.timeline_get, owner=request.user, timeline_id=pk)


def _current_timeline(request) -> Timeline:
    """The timeline this user last opened (kept in the session), else their most recent
    one, else a fresh one: a new user lands on an empty 16:9 timeline ready for clips."""
    timeline = selectors.timeline_current(
        owner=request.user, timeline_id=request.session.get(SESSION_KEY)
    )
    if timeline is None:
        timeline = services.timeline_create(owner=request.user)
    request.session[SESSION_KEY] = timeline.pk
    return timeline


def _panel_context(request, timeline: Timeline) -> dict:
    return {
        "timeline": timeline,
        "timelines": selectors.timeline_list(owner=request.user),
        "presets": Timeline.Preset.choices,
        "exports": _recent_exports(request, timeline),
        "export_form": ExportForm.for_timeline(timeline),
    }


def _recent_exports(request, timeline: Timeline):
    return selectors.export_list(owner=request.user, timeline=timeline, limit=RECENT_EXPORTS)


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
