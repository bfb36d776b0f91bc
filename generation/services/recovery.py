"""Cancelling at the provider, and the sweeper that keeps every live job moving.

The sweeper is what makes "nothing is orphaned" true: a worker SIGKILLed mid-task, a
broker restart that lost queued messages, a countdown that never fired — each leaves a
live job whose next_poll_at is long past and whose lease has lapsed. The sweeper hands
it to the step its state calls for; the steps are idempotent, so a job that was merely
late does no harm.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..models import LIVE_STATUSES, GenerationJob, JobStatus
from ..providers.base import CancelOutcome, ErrorCode, ProviderError
from .providers import get_provider, is_local, submission_of
from .scheduling import enqueue, hard_limit_s, lease_s, schedule_poll
from .transitions import IllegalTransition, job_fail, job_mark_cancelled

logger = logging.getLogger("generation.jobs")


def job_cancel_work(*, job_id: int) -> None:
    """Worker side of a cancel request: stop the work and settle the job."""
    job = GenerationJob.objects.filter(pk=job_id).first()
    if job is None or not job.cancel_requested or not job.is_live:
        return
    try:
        if job.status == JobStatus.QUEUED:
            job_mark_cancelled(job)
        elif job.status == JobStatus.SUBMITTING:
            return  # the submitting worker sees the flag when the provider answers
        elif job.status in (JobStatus.IN_QUEUE, JobStatus.RUNNING):
            if is_local(job.provider):
                if job.status == JobStatus.IN_QUEUE:
                    job_mark_cancelled(job)
                # RUNNING: the render loop reads the flag and stops within a moment.
                return
            # A running request may be billed for the work done; one the provider could
            # no longer stop finished and is billed like any other: keep the reservation.
            outcome = _provider_cancel(job)
            billed = outcome == CancelOutcome.TOO_LATE or (
                outcome == CancelOutcome.REQUESTED and job.status == JobStatus.RUNNING
            )
            job_mark_cancelled(job, billed=billed, too_late=outcome == CancelOutcome.TOO_LATE)
        elif job.status == JobStatus.DOWNLOADING:
            job_mark_cancelled(job, billed=True)
    except IllegalTransition:
        logger.info("job %s moved on while cancelling", job_id)


def _provider_cancel(job: GenerationJob) -> CancelOutcome | None:
    if not job.provider_request_id:
        return None
    try:
        return get_provider(job.provider).cancel(submission_of(job))
    except ProviderError as exc:
        # Best effort: the job is cancelled here either way; its result will be ignored.
        logger.warning("provider cancel failed", extra={"job_id": job.pk, "error_code": exc.code})
        return None


def timeout_message(job: GenerationJob) -> str:
    minutes = max(1, round(hard_limit_s(job) / 60))
    return (
        f"The generation took longer than this model's limit of {minutes} min and was "
        "stopped. Try again later."
    )


def job_sweep(*, now=None) -> dict[str, int]:
    """Re-dispatch overdue live jobs; fail those past their model's hard limit."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.GENERATION_SWEEP_GRACE_S)
    overdue = (
        GenerationJob.objects.filter(status__in=LIVE_STATUSES)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lt=now - grace))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_poll_at")[: settings.GENERATION_SWEEP_BATCH]
    )
    counts = {"redispatched": 0, "timed_out": 0}
    for job in overdue:
        try:
            if (now - job.created_at).total_seconds() > hard_limit_s(job):
                job_time_out(job)
                counts["timed_out"] += 1
            elif job_redispatch(job, now):
                counts["redispatched"] += 1
        except IllegalTransition:
            continue
    if any(counts.values()):
        logger.info("sweeper", extra=counts)
    return counts


def job_time_out(job: GenerationJob) -> None:
    """Fail a job past its model's time limit (TIMEOUT), stopping the work first: the
    provider request is cancelled, a local render sees its cancel flag. The sweeper and
    the poll step both enforce the limit through here."""
    if job.status in (JobStatus.IN_QUEUE, JobStatus.RUNNING) and not is_local(job.provider):
        _provider_cancel(job)
    if is_local(job.provider):
        GenerationJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    job_fail(
        job,
        code=ErrorCode.TIMEOUT,
        message=timeout_message(job),
        detail=f"no result after {hard_limit_s(job):.0f} s (state {job.status})",
    )


def _hold(job: GenerationJob, now) -> bool:
    """Push next_poll_at out so the next sweep does not send the same step again while
    this one is still waiting in the broker. False if the job changed meanwhile."""
    until = now + timedelta(seconds=lease_s())
    return bool(
        GenerationJob.objects.filter(
            pk=job.pk, status=job.status, next_poll_at=job.next_poll_at
        ).update(next_poll_at=until)
    )


def job_redispatch(job: GenerationJob, now) -> bool:
    """Send an overdue (or orphaned) live job's current step again: a poll for a remote
    job the provider has, otherwise the submit, render or download task for its state.
    False if the job changed meanwhile. Used by the sweeper and by dead-worker recovery."""
    from .. import tasks

    if job.status == JobStatus.QUEUED and job.cancel_requested:
        job_mark_cancelled(job)
        return True
    if job.status in (JobStatus.IN_QUEUE, JobStatus.RUNNING) and not is_local(job.provider):
        return schedule_poll(job, 0)
    if not _hold(job, now):
        return False
    step = {
        JobStatus.QUEUED: tasks.submit,
        JobStatus.SUBMITTING: tasks.submit,
        JobStatus.IN_QUEUE: tasks.render_local,
        JobStatus.RUNNING: tasks.render_local,
        JobStatus.DOWNLOADING: tasks.finalize,
    }[job.status]
    enqueue(step, job)
    return True
