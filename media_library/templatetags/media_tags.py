"""Display helpers for media cards."""

from django import template

register = template.Library()


@register.filter
def media_duration(seconds) -> str:
    """12.4 -> "0:12", 3725 -> "1:02:05"."""
    if seconds is None or seconds == "":
        return ""
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def media_label(key) -> str:
    """metadata keys as labels: "pixel_format" -> "Pixel format"."""
    return str(key).replace("_", " ").capitalize()
