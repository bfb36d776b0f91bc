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


# The level line's height: the clip's whole height is 0 % (bottom) to 200 % (top); a
# picture's line sits near the top (full opacity) and only its fades show.
LEVEL_PICTURE_Y = 8.0


@register.filter
def clip_ms(clip) -> int:
    """The clip's length in whole milliseconds (at least 1): the level line's x range."""
    return max(round((clip.out_s - clip.in_s) * 1000), 1)


@register.filter
def level_points(clip, track_kind: str) -> str:
    """The points of the clip's level line (SVG polyline, x in milliseconds of the clip,
    y 0..100 from the top): up from the bottom over the fade in, flat at the volume, down
    over the fade out. The SVG stretches to the clip (preserveAspectRatio none), so the
    line follows the zoom without any script."""
    length = clip_ms(clip)
    if track_kind == "audio":
        y = min(max(100.0 - float(clip.volume) * 50.0, 2.0), 98.0)
    else:
        y = LEVEL_PICTURE_Y
    fade_in = round(float(clip.fade_in_s) * 1000)
    fade_out = round(float(clip.fade_out_s) * 1000)
    points = [(0, 100.0 if fade_in else y), (fade_in, y), (length - fade_out, y)]
    points.append((length, 100.0 if fade_out else y))
    return " ".join(f"{x},{y:g}" for x, y in points)
