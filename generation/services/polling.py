"""One status call per poll task, then the next poll is scheduled with a countdown — a
worker never sleeps waiting for a provider. Webhooks only make the next poll happen now."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from ..models import GenerationJob, JobStatus
from ..providers.base import ErrorCode, ProviderError, State, StatusReport
from .providers import get_provider, is_local, submission_of
from .scheduling import (
    Step,
    enqueue,
    hard_limit_s,
    poll_interval_s,
    remaining_run_s,
    retry_policy,
    schedule_poll,
    typical_run_s,
)
from .transitions import (
    IllegalTransition,
    job_fail,
    job_mark_cancelled,
    job_mark_downloading,
    job_mark_running,
    job_update_live,
)

logger = logging.getLogger("generation.jobs")

POLLED = (JobStatus.IN_QUEUE, JobStatus.RUNNING)
LOGS_TAIL_CHARS = 4000
# An estimate never claims to be done: the last stretch waits for the provider.
ESTIMATE_CAP = 95.0


def job_poll(*, job_id: int, seq: int, retried: bool = False) -> None:
    job = GenerationJob.objects.filter(pk=job_id).first()
    # A retry after a lost connection may find its own successor's number: the commit that
    # scheduled it went through but the connection died before Django saw it, so the
    # successor was never enqueued. Carrying on is safe: schedule_poll's conditional update
    # lets only one chain advance, and a successor that does exist then stops as stale.
    current = job is not None and (job.poll_seq == seq or (retried and job.poll_seq == seq + 1))
    if not current or job.status not in POLLED or is_local(job.provider):
        return  # finished, superseded by a newer poll, or not a remote job
    if job.cancel_requested:
        from .. import tasks

        enqueue(tasks.cancel, job)
        return
    if (timezone.now() - job.created_at).total_seconds() > hard_limit_s(job):
        # A job that is still being polled is never "overdue" for the sweeper, so the
        # model's limit is enforced here too (a provider down, or queued, for ever).
        from .recovery import job_time_out

        try:
            job_time_out(job)
        except IllegalTransition:
            pass
        return
    try:
        report = get_provider(job.provider).status(submission_of(job))
    except ProviderError as exc:
        _status_failed(job, exc)
        return
    try:
        with transaction.atomic():
            apply_report(job, report)
    except IllegalTransition:
        logger.info("job %s moved on during its poll", job_id)


def _status_failed(job: GenerationJob, exc: ProviderError) -> None:
    errors = job.step_errors + 1
    retry = retry_policy(Step.POLL, exc, tries=errors)
    if retry is None:
        try:
            job_fail(job, code=exc.code, message=exc.user_message, detail=exc.detail)
        except IllegalTransition:
            pass
        return
    GenerationJob.objects.filter(pk=job.pk).update(step_errors=errors)
    job.step_errors = errors
    # The next poll fails the job as a timeout once it passes the model's hard limit.
    schedule_poll(job, retry.delay_s)


def estimated_progress(job: GenerationJob, now) -> float:
    started = job.running_at or now
    elapsed = (now - started).total_seconds()
    return round(min(ESTIMATE_CAP, 100.0 * elapsed / max(1.0, typical_run_s(job))), 1)


def _eta(job: GenerationJob, now, progress: float | None, *, ahead: int | None = None):
    typical = typical_run_s(job)
    if job.status == JobStatus.IN_QUEUE:
        # The provider's position counts from 0 (next to run): that many runs of the model
        # ahead, then this one. How many the provider runs at once is not published, so
        # one at a time: an ETA that errs long rather than promising too soon.
        return now + timedelta(seconds=typical * ((ahead or 0) + 1))
    started = job.running_at or now
    elapsed = (now - started).total_seconds()
    remaining = remaining_run_s(typical_s=typical, elapsed_s=elapsed, progress=progress)
    return now + timedelta(seconds=remaining)


def _logs_tail(job: GenerationJob, lines: tuple[str, ...]) -> str:
    if not lines:
        return job.logs_tail
    return "\n".join(lines)[-LOGS_TAIL_CHARS:]


def apply_report(job: GenerationJob, report: StatusReport) -> None:
    """Record what the provider said and decide the next step (inside a transaction)."""
    now = timezone.now()
    if job.step_errors:
        GenerationJob.objects.filter(pk=job.pk).update(step_errors=0)
        job.step_errors = 0
    if report.state == State.COMPLETED:
        if report.error is not None:
            _fail_with(job, report.error)
            return
        handle = dict(job.provider_handle)
        if report.result is not None:
            handle["result"] = asdict(report.result)
        job = job_mark_downloading(job, handle=handle)
        from .. import tasks

        enqueue(tasks.finalize, job)
        return
    if report.state == State.FAILED:
        _fail_with(
            job, report.error or ProviderError(ErrorCode.PROVIDER_ERROR, "failed, no detail")
        )
        return
    if report.state == State.CANCELLED:
        job_mark_cancelled(job, billed=False)
        return

    logs = _logs_tail(job, report.logs)
    if report.state == State.RUNNING:
        if job.status == JobStatus.IN_QUEUE:
            job = job_mark_running(job)
        estimated = report.progress is None
        progress = estimated_progress(job, now) if estimated else float(report.progress)
        job_update_live(
            job,
            progress=progress,
            progress_estimated=estimated,
            eta_at=_eta(job, now, progress),
            logs_tail=logs,
        )
    else:  # IN_QUEUE (a RUNNING job never goes back to the queue on the card)
        if job.status == JobStatus.IN_QUEUE:
            job_update_live(
                job,
                queue_position=report.queue_position,
                eta_at=_eta(job, now, None, ahead=report.queue_position),
                logs_tail=logs,
            )
    schedule_poll(job, poll_interval_s(job))


def _fail_with(job: GenerationJob, error: ProviderError) -> None:
    if error.code == ErrorCode.CANCELLED:
        job_mark_cancelled(job, billed=False)
        return
    job_fail(job, code=error.code, message=error.user_message, detail=error.detail)


WEBHOOK_POLL_SLACK_S = 0.05


def webhook_poll_key(job_id: int) -> str:
    return f"generation:webhook-poll:{job_id}"


def job_webhook_received(*, job: GenerationJob) -> bool:
    """A provider says something changed: poll now instead of at the next countdown.
    Duplicate and late deliveries find the job finished (or a poll already due) and do
    nothing. The payload itself is not trusted: the status call is the truth.

    At most one webhook-triggered poll per job per WEBHOOK_POLL_MIN_INTERVAL_S: a valid
    webhook replayed a hundred times (its signature stays valid for WEBHOOK_TOLERANCE_S)
    must not become a hundred provider status calls. The window is one atomic Redis
    `SET NX EX` (cache.add), shared by every web node. A webhook inside the window is
    not dropped: if the job's next poll is later than the window's end, that poll is
    brought forward to the window's end, so a completion reported during the window is
    seen within the interval (and the normal poll chain and the sweeper stay behind it)."""
    job.refresh_from_db()
    if job.status not in POLLED or is_local(job.provider):
        return False
    interval = settings.WEBHOOK_POLL_MIN_INTERVAL_S
    now = time.time()
    key = webhook_poll_key(job.pk)
    if cache.add(key, now + interval, timeout=math.ceil(interval)):
        return schedule_poll(job, 0)
    window_end = cache.get(key) or now
    due = job.next_poll_at.timestamp() if job.next_poll_at else None
    # The slack absorbs the microsecond rounding of a poll this branch scheduled for
    # window_end itself (else every replay would re-schedule it).
    if due is not None and due <= window_end + WEBHOOK_POLL_SLACK_S:
        return False  # a poll is already due (or running) before the window closes
    return schedule_poll(job, max(0.0, window_end - now))
