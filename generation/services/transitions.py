"""Every change of a job's state is one guarded function here.

Each transition goes through project.state_machine with the ALLOWED table below: a
conditional UPDATE (`WHERE id = … AND status = <the state we saw>`), so two workers racing
on one job (a redelivered task, a duplicate webhook, the sweeper) cannot both win: the
loser gets IllegalTransition and does nothing. Every transition pushes the job card after
commit and logs one line.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from project.state_machine import IllegalTransition, StateMachine

from ..live import push_job
from ..models import LIVE_STATUSES, GenerationJob, JobStatus
from ..providers.base import USER_MESSAGES, ErrorCode
from ..signals import job_changed

logger = logging.getLogger("generation.jobs")

S = JobStatus

ALLOWED: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.SUBMITTING, S.FAILED, S.CANCELLED}),
    # SUBMITTING -> QUEUED: a retryable error before anything reached the provider.
    S.SUBMITTING: frozenset({S.QUEUED, S.IN_QUEUE, S.FAILED, S.CANCELLED}),
    S.IN_QUEUE: frozenset({S.RUNNING, S.DOWNLOADING, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.DOWNLOADING, S.FAILED, S.CANCELLED}),
    S.DOWNLOADING: frozenset({S.SUCCEEDED, S.FAILED, S.CANCELLED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
}

STAMP = {
    S.SUBMITTING: "submitting_at",
    S.IN_QUEUE: "in_queue_at",
    S.RUNNING: "running_at",
    S.DOWNLOADING: "downloading_at",
    S.SUCCEEDED: "succeeded_at",
    S.FAILED: "failed_at",
    S.CANCELLED: "cancelled_at",
}


# The push after every transition; IllegalTransition is the shared class, which the
# pipeline's modules import from here.
JOBS = StateMachine("job", GenerationJob, ALLOWED, push=push_job)


def transition(job: GenerationJob, to: str, **fields: Any) -> GenerationJob:
    """Move `job` from the state it is in to `to`, setting `fields`, or raise."""
    current = job.status
    now = timezone.now()
    if to in STAMP:
        fields.setdefault(STAMP[to], now)
    if to not in LIVE_STATUSES:
        fields.setdefault("next_poll_at", None)
        fields.setdefault("lease_until", None)
        fields.setdefault("eta_at", None)
    JOBS.transition_or_raise(job, to, updated_at=now, **fields)
    job_changed.send(sender=GenerationJob, job=job)
    logger.info(
        "job %s %s -> %s",
        job.pk,
        current,
        to,
        extra={
            "job_id": job.pk,
            "from_status": current,
            "to_status": to,
            "provider": job.provider,
            "provider_request_id": job.provider_request_id,
            "error_code": fields.get("error_code", ""),
        },
    )
    return job


def job_update_live(job: GenerationJob, **fields: Any) -> bool:
    """Change progress, queue position, ETA or logs of a live job without changing state.
    Pushes the card when something the card shows changed (an ETA alone is not worth a
    push: the card counts down by itself). Returns whether it applied."""
    changed = {k: v for k, v in fields.items() if getattr(job, k) != v}
    if not changed:
        return True
    updated = GenerationJob.objects.filter(pk=job.pk, status=job.status).update(
        updated_at=timezone.now(), **changed
    )
    if not updated:
        return False
    for name, value in changed.items():
        setattr(job, name, value)
    if changed.keys() & {"progress", "queue_position", "progress_estimated"}:
        push_job(job)
        job_changed.send(sender=GenerationJob, job=job)
    return True


# --- named transitions ------------------------------------------------------------------


def job_mark_submitting(job: GenerationJob, *, lease_s: float) -> GenerationJob:
    if job.cancel_requested:
        raise IllegalTransition(
            f"job {job.pk}: cancel requested",
            machine=JOBS.name,
            pk=job.pk,
            from_state=job.status,
            to_state=S.SUBMITTING,
        )
    now = timezone.now()
    return transition(
        job,
        S.SUBMITTING,
        attempts=job.attempts + 1,
        lease_until=now + timedelta(seconds=lease_s),
        next_poll_at=now + timedelta(seconds=lease_s),
    )


def job_requeue(job: GenerationJob, *, error, delay_s: float) -> GenerationJob:
    """A retryable failure before the provider accepted anything: wait, then submit again."""
    now = timezone.now()
    return transition(
        job,
        S.QUEUED,
        lease_until=None,
        next_poll_at=now + timedelta(seconds=delay_s),
        error_code=error.code,
        error_message=error.user_message,
        provider_detail=error.detail,
    )


def job_mark_submitted(
    job: GenerationJob, *, request_id: str, handle: dict, **fields: Any
) -> GenerationJob:
    return transition(
        job,
        S.IN_QUEUE,
        provider_request_id=request_id,
        provider_handle=handle,
        lease_until=None,
        error_code="",
        error_message="",
        step_errors=0,
        **fields,
    )


def job_mark_running(job: GenerationJob, **fields: Any) -> GenerationJob:
    return transition(job, S.RUNNING, queue_position=None, **fields)


def job_mark_downloading(job: GenerationJob, *, handle: dict | None = None) -> GenerationJob:
    fields: dict[str, Any] = {"queue_position": None, "progress": 100, "lease_until": None}
    if handle is not None:
        fields["provider_handle"] = handle
    return transition(job, S.DOWNLOADING, **fields)


def job_mark_succeeded(job: GenerationJob, *, media_item, actual_cost=None) -> GenerationJob:
    fields: dict[str, Any] = {
        "media_item": media_item,
        "progress": 100,
        "progress_estimated": False,
        "error_code": "",
        "error_message": "",
    }
    if actual_cost is not None:
        fields["actual_cost"] = actual_cost
    return transition(job, S.SUCCEEDED, **fields)


def job_fail(
    job: GenerationJob, *, code: str, message: str = "", detail: str = ""
) -> GenerationJob:
    """Fail with the taxonomy's user sentence (or a more specific one) and an admin detail."""
    from ..limits import reservation_release

    with transaction.atomic():
        job = transition(
            job,
            S.FAILED,
            error_code=code,
            error_message=(message or USER_MESSAGES.get(code, ""))[:500],
            provider_detail=detail[:2000],
        )
        # Providers bill successful generations; a failed one is given back to the budget.
        reservation_release(job=job)
    return job


CANCELLED_TOO_LATE = (
    "Cancelled, but the provider had already finished this generation and billed it."
)


def job_mark_cancelled(
    job: GenerationJob, *, billed: bool = False, too_late: bool = False
) -> GenerationJob:
    """billed keeps the reservation as spent (the provider may bill the run); too_late
    says why in the creator's words: the provider finished before the cancel reached it."""
    from ..limits import reservation_release, reservation_settle

    with transaction.atomic():
        job = transition(
            job,
            S.CANCELLED,
            cancel_requested=True,
            error_code=ErrorCode.CANCELLED,
            error_message=CANCELLED_TOO_LATE if too_late else USER_MESSAGES[ErrorCode.CANCELLED],
        )
        if billed or too_late:
            # The provider had started: it may bill the run, so keep the estimate as spent.
            reservation_settle(job=job, amount=job.estimated_cost)
        else:
            reservation_release(job=job)
    return job
