"""Reads of generation jobs, always scoped to their owner."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import LIVE_STATUSES, GenerationJob


def job_queryset(*, owner) -> QuerySet[GenerationJob]:
    return GenerationJob.objects.filter(owner=owner).select_related("media_item")


QUEUE_LIMIT = 20
# Finished jobs stay in the queue this long, so a Done card can still be clicked.
QUEUE_RECENT = timedelta(minutes=30)


def job_queue_list(*, owner) -> list[GenerationJob]:
    """The panel's queue: live jobs and those finished in the last QUEUE_RECENT."""
    recent = timezone.now() - QUEUE_RECENT
    return list(
        job_queryset(owner=owner)
        .filter(Q(status__in=LIVE_STATUSES) | Q(updated_at__gte=recent))
        .order_by("-created_at", "-id")[:QUEUE_LIMIT]
    )


def job_list(*, owner, status: str | None = None, limit: int = 50) -> list[GenerationJob]:
    qs = job_queryset(owner=owner)
    if status == "live":
        qs = qs.filter(status__in=LIVE_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-created_at", "-id")[: max(1, min(limit, 200))])


def job_get_for_owner(*, owner, job_id: int) -> GenerationJob:
    """Raises GenerationJob.DoesNotExist for a missing job and for another user's job
    alike: ids are not secret, jobs are."""
    return job_queryset(owner=owner).get(pk=job_id)


def job_live_count(*, owner) -> int:
    return GenerationJob.objects.filter(owner=owner, status__in=LIVE_STATUSES).count()
