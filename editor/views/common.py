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


def refusal(message: str, status: int = 400) -> HttpResponse:
    """A refused request: one plain sentence the browser shows as it is."""
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def refused_edit(exc: ValidationError) -> HttpResponse:
    """A service's refusal (its first sentence) as a 400."""
    return refusal(exc.messages[0] if exc.messages else "That edit was refused.")


def found_or_404(lookup, **kwargs):
    """A scoped selector lookup, or 404 when it finds nothing (someone else's object)."""
    try:
        return lookup(**kwargs)
    except ObjectDoesNotExist:
        raise Http404("Not found.") from None


def owned_timeline(request, pk: int) -> Timeline:
    return found_or_404(selectors.timeline_get, owner=request.user, timeline_id=pk)


def current_timeline(request) -> Timeline:
    """The timeline this user last opened (kept in the session), else their most recent
    one, else a fresh one: a new user lands on an empty 16:9 timeline ready for clips."""
    timeline = selectors.timeline_current(
        owner=request.user, timeline_id=request.session.get(SESSION_KEY)
    )
    if timeline is None:
        timeline = services.timeline_create(owner=request.user)
    request.session[SESSION_KEY] = timeline.pk
    return timeline


def panel_context(request, timeline: Timeline) -> dict:
    return {
        "timeline": timeline,
        "timelines": selectors.timeline_list(owner=request.user),
        "presets": Timeline.Preset.choices,
        "exports": recent_exports(request, timeline),
        "export_form": ExportForm.for_timeline(timeline),
    }


def recent_exports(request, timeline: Timeline):
    return selectors.export_list(owner=request.user, timeline=timeline, limit=RECENT_EXPORTS)


def panel_response(request, timeline: Timeline, status: int = 200) -> HttpResponse:
    request.session[SESSION_KEY] = timeline.pk
    return render(
        request,
        "editor/partials/editor_panel.html",
        panel_context(request, timeline),
        status=status,
    )


def timeline_response(request, timeline: Timeline) -> HttpResponse:
    timeline.refresh_from_db()
    return render(request, "editor/partials/timeline.html", {"timeline": timeline})
