"""Small display helpers for job cards: names and words, never markup."""

from __future__ import annotations

from django import template
from django.utils import timezone

from generation import catalog

register = template.Library()

# Issue 6 names the states; the model's labels are for admins and the API.
STATUS_WORDS = {
    "queued": "Queued",
    "submitting": "Submitting",
    "in_queue": "In provider queue",
    "running": "Generating",
    "downloading": "Downloading",
    "succeeded": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


@register.filter
def model_name(model_id: str) -> str:
    return catalog.get(model_id).name if catalog.exists(model_id) else model_id


@register.filter
def status_words(job) -> str:
    words = STATUS_WORDS.get(job.status, job.status)
    if job.status == "in_queue" and job.queue_position is not None:
        # Providers count from 0 (fal: 0 = next to run); people count from 1.
        words = f"{words} — position {job.queue_position + 1}"
    if job.is_live and job.cancel_requested:
        words = "Cancelling…"
    return words


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}" if minutes else f"{secs} s"


@register.filter
def elapsed(job) -> str:
    """Time from creation to now (live) or to the final state."""
    end = job.succeeded_at or job.failed_at or job.cancelled_at
    if job.is_live or end is None:
        end = timezone.now()
    return _clock((end - job.created_at).total_seconds())


@register.filter
def eta_words(job) -> str:
    seconds = job.eta_seconds
    if seconds is None:
        return ""
    return f"~{_clock(seconds)} left" if seconds > 0 else "any moment"


@register.filter
def epoch(value) -> str:
    return f"{value.timestamp():.3f}" if value else ""
