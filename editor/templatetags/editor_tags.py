"""Template helpers for the timeline fragment.

The fragment is rendered both by the editor views and by the backend's live pushes with
only `{"timeline": tl}` in the context, so it loads what it needs itself through the
`timeline_state` selector (a fixed number of queries however many clips there are).
"""

from __future__ import annotations

from django import template
from django.urls import reverse

from editor import selectors

register = template.Library()


@register.simple_tag
def timeline_rows(timeline):
    return selectors.timeline_state(timeline)


@register.filter
def media_src(item) -> str:
    """The media file through the media library's owner-checked (range-capable) view."""
    return reverse("media_library:file", args=[item.pk]) if item.file else ""


def _derived(item, variant: str) -> str:
    if not getattr(item, variant):
        return ""
    return reverse("media_library:derived", args=[item.pk, variant])


@register.filter
def media_filmstrip(item) -> str:
    return _derived(item, "filmstrip")


@register.filter
def media_waveform(item) -> str:
    return _derived(item, "waveform")


@register.filter
def secs(value) -> str:
    """Seconds for data attributes and CSS variables: always a dot, never localised."""
    return f"{float(value or 0):.3f}"


@register.filter
def timecode(value) -> str:
    """The editor's one time format, m:ss.t (h:mm:ss.t from an hour), tenths cut, never
    rounded up: the same function as formatTime in static/js/timeline-core.js, so the
    server-rendered readouts and the ones the browser redraws agree."""
    tenths = int(max(0.0, float(value or 0)) * 10 + 1e-6)
    whole, tenth = divmod(tenths, 10)
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{tenth}"
    return f"{minutes}:{seconds:02d}.{tenth}"


@register.simple_tag
def timeline_duration(timeline) -> float:
    """The edit's length for the transport's first paint (the panel renders before the
    timeline fragment's own state is at hand)."""
    return selectors.timeline_state(timeline).duration_s
