"""Small display helpers for job cards: names and words, never markup."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.utils import timezone

from generation import catalog
from generation.selectors import local_line_place
from generation.services.providers import is_local

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


# How a provider is named in "3rd in line at fal".
PROVIDER_NAMES = {"fal": "fal", "replicate": "Replicate"}
LOCAL_WAITING = "Waiting for a render slot"


def provider_name(provider: str) -> str:
    return PROVIDER_NAMES.get(provider, provider)


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@register.filter
def status_words(job) -> str:
    if job.is_live and job.cancel_requested:
        return "Cancelling…"
    if job.status == "in_queue":
        # Short for the status chip; the card's line says the place ("… — 2nd in line").
        return "In line" if is_local(job.provider) else f"Queued at {provider_name(job.provider)}"
    return STATUS_WORDS.get(job.status, job.status)


@dataclass(frozen=True)
class QueueInfo:
    """What a waiting card says: `words` ("Waiting for a render slot — 2nd in line") and,
    when known, `until` (epoch seconds the job should be done, for the countdown)."""

    words: str
    until: float | None = None

    @property
    def eta_words(self) -> str:
        if self.until is None:
            return ""
        return about_words(self.until - timezone.now().timestamp())


def about_words(seconds: float) -> str:
    return f"about {_clock(seconds)}" if seconds > 0 else "any moment"


@register.filter
def queue_info(job) -> QueueInfo | None:
    """The line a waiting job stands in: the local renderer's (its place read from the
    database, generation.selectors.local_line_place) or the provider's (the position the
    provider last reported, which counts from 0 = next to run). None for other states."""
    if job.status != "in_queue" or not job.is_live:
        return None
    if is_local(job.provider):
        place = local_line_place(job=job)
        if place is None:
            return QueueInfo(LOCAL_WAITING)
        words = f"{LOCAL_WAITING} — {ordinal(place.position)} in line"
        return QueueInfo(words, place.eta_at.timestamp())
    until = job.eta_at.timestamp() if job.eta_at else None
    where = provider_name(job.provider)
    if job.queue_position is None:
        return QueueInfo(f"Waiting at {where}", until)
    return QueueInfo(f"{ordinal(job.queue_position + 1)} in line at {where}", until)


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
