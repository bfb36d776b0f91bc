"""Reads of generation jobs, always scoped to their owner."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import LIVE_STATUSES, GenerationJob


def job_queryset(*, owner) -> QuerySet[GenerationJob]:
    return GenerationJob.objects.filter(owner=owner).select_related("media_item")


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
