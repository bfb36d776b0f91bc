"""Reads of generation jobs, always scoped to their owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import LIVE_STATUSES, GenerationJob, JobStatus
from .services.providers import LOCAL
from .services.scheduling import line_eta_s, model_typical_run_s, remaining_run_s


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


# --- the local renderer's line ----------------------------------------------------------
# A local job IN_QUEUE is a render task waiting in the `media` queue for a worker slot
# (generation/services/submit.py: _submit_local); the broker hands those out in the order
# they were sent, which is the order the jobs reached IN_QUEUE. The line is every owner's
# jobs (the slots are shared), so these reads are not scoped to an owner; what leaves this
# module is a count and an ETA, never another owner's job.

# How many jobs ahead are read one by one for the ETA; beyond that they are counted and
# assumed to take this job's own typical time (one bounded read whatever the backlog).
LINE_SCAN = 200
# Renders occupying a slot: rendering, or saving the result (the same task, same slot).
LINE_BUSY = (JobStatus.RUNNING, JobStatus.DOWNLOADING)


@dataclass(frozen=True)
class LinePlace:
    """Where a waiting local job stands: `ahead` jobs before it (0: next to get a slot),
    `slots` the renders running now, `eta_at` when it should be done."""

    ahead: int
    slots: int
    eta_at: datetime

    @property
    def position(self) -> int:
        return self.ahead + 1


def _waiting_local() -> QuerySet[GenerationJob]:
    return GenerationJob.objects.filter(provider=LOCAL, status=JobStatus.IN_QUEUE)


def local_line_waiting(*, limit: int) -> list[GenerationJob]:
    """The first `limit` jobs waiting for a render slot, in line order (for re-pushing
    their cards when the line moves)."""
    return list(_waiting_local().order_by("in_queue_at", "id")[: max(0, limit)])


def local_line_place(*, job: GenerationJob, now: datetime | None = None) -> LinePlace | None:
    """The job's place in the local renderer's line, from the database; None when the job
    is not waiting for a render slot.

    The number of slots is the number of renders running now (at least one): the slots
    are the media workers' pool processes, which the database cannot see, but a job only
    waits while every slot that takes renders is busy, so the renders in progress are
    exactly the slots it waits for."""
    if job.provider != LOCAL or job.status != JobStatus.IN_QUEUE:
        return None
    now = now or timezone.now()
    entered = job.in_queue_at or job.created_at
    ahead_qs = (
        _waiting_local()
        .filter(Q(in_queue_at__lt=entered) | Q(in_queue_at=entered, pk__lt=job.pk))
        .exclude(pk=job.pk)
        .order_by("in_queue_at", "id")
    )
    ahead_models = list(ahead_qs.values_list("model_id", flat=True)[:LINE_SCAN])
    ahead = len(ahead_models) if len(ahead_models) < LINE_SCAN else ahead_qs.count()
    busy_rows = GenerationJob.objects.filter(provider=LOCAL, status__in=LINE_BUSY).values_list(
        "model_id", "running_at", "progress"
    )[:LINE_SCAN]
    busy = [
        remaining_run_s(
            typical_s=model_typical_run_s(model_id),
            elapsed_s=(now - (running_at or now)).total_seconds(),
            progress=progress,
        )
        for model_id, running_at, progress in busy_rows
    ]
    own = model_typical_run_s(job.model_id)
    slots = max(1, len(busy))
    ahead_s = [model_typical_run_s(m) for m in ahead_models]
    eta_s = line_eta_s(busy_s=busy, ahead_s=ahead_s, own_s=own)
    # The jobs past the scan, shared over the slots, each at this job's typical time.
    eta_s += (ahead - len(ahead_models)) * own / slots
    return LinePlace(ahead=ahead, slots=slots, eta_at=now + timedelta(seconds=eta_s))
