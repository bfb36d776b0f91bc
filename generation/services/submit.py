"""Submitting a job to its provider — at most once.

A job is claimed by the QUEUED -> SUBMITTING transition (only one worker can win it) and
leaves SUBMITTING only with the provider's request id stored or with a failure. A worker
that dies mid-submit leaves the job SUBMITTING with a lapsed lease; whoever picks it up
next does not know whether the provider got the request, so it asks the provider
(reconcile) instead of sending it again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .. import catalog
from ..models import GenerationJob, JobStatus
from ..providers.base import ErrorCode, ProviderError, Submission, SubmitRequest
from .image_inputs import stage_job_images
from .providers import get_provider, is_local
from .scheduling import (
    Step,
    claim_lease,
    enqueue,
    lease_s,
    poll_interval_s,
    release_lease,
    retry_policy,
    schedule_poll,
)
from .transitions import (
    IllegalTransition,
    job_fail,
    job_mark_cancelled,
    job_mark_submitted,
    job_mark_submitting,
    job_requeue,
)

logger = logging.getLogger("generation.jobs")

AMBIGUOUS_MESSAGE = (
    "The provider may have accepted this generation but never confirmed it. To avoid paying "
    "twice it was not sent again; check the provider's dashboard before retrying."
)


def webhook_url(job: GenerationJob) -> str:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    if not base or is_local(job.provider):
        return ""
    return base + reverse("generation:webhook", args=[job.provider, job.webhook_token])


def submit_request(job: GenerationJob, *, images: dict[str, str] | None = None) -> SubmitRequest:
    spec = catalog.get(job.model_id)
    return SubmitRequest(
        job_id=job.pk,
        model_id=job.model_id,
        endpoint=spec.endpoint,
        prompt=job.prompt,
        params=dict(job.params),
        negative_prompt=job.negative_prompt,
        images=images or {},
        webhook_url=webhook_url(job),
        not_before=job.created_at,
    )


def job_submit(*, job_id: int) -> None:
    job = GenerationJob.objects.filter(pk=job_id).first()
    if job is None or job.provider_request_id:
        return  # gone, or already submitted: never submit twice
    if job.cancel_requested and job.status == JobStatus.QUEUED:
        _quietly(job_mark_cancelled, job)
        return
    ambiguous = False
    if job.status == JobStatus.QUEUED:
        try:
            job = job_mark_submitting(job, lease_s=lease_s())
        except IllegalTransition:
            return  # another worker claimed it, or it was cancelled
        from .workers import record_claim

        record_claim(job.pk)  # a restart re-dispatches a dead submitter's job (reconciled)
    elif job.status == JobStatus.SUBMITTING:
        # Only after the previous claim lapsed: that worker died or gave up mid-call.
        if not claim_lease(job, statuses=(JobStatus.SUBMITTING,)):
            return
        ambiguous = True
    else:
        return

    if is_local(job.provider):
        _submit_local(job)
        return

    provider = get_provider(job.provider)
    try:
        # Uploading the start/end frames to the provider's storage sends no generation,
        # so on a first attempt its failure is an ordinary, safely retried one.
        request = submit_request(job, images=stage_job_images(job, provider))
        if ambiguous:
            submission = _reconciled(job, provider, request)
        else:
            submission = provider.submit(request)
    except ProviderError as exc:
        if ambiguous:
            # An earlier attempt may have been accepted: whatever failed now, the job
            # must come back to reconcile, never to a plain resend.
            exc.request_sent = True
        _submit_failed(job, exc, ambiguous=ambiguous)
        return
    _submitted(job, submission, webhook=bool(request.webhook_url))


def _reconciled(job: GenerationJob, provider, request: SubmitRequest) -> Submission:
    """The request an earlier, unconfirmed attempt created — proven by the provider's own
    listing — or a ProviderError when nothing proves one (never a blind resend)."""
    submission = provider.reconcile(request)
    taken = (
        GenerationJob.objects.filter(
            provider=job.provider, provider_request_id=submission.request_id
        )
        .exclude(pk=job.pk)
        .exists()
    )
    if taken:
        raise ProviderError(
            ErrorCode.PROVIDER_ERROR,
            f"reconcile matched request {submission.request_id}, which another job owns",
            request_sent=True,
            permanent=True,
        )
    logger.info(
        "reconciled an ambiguous submit",
        extra={"job_id": job.pk, "request_id": submission.request_id},
    )
    return submission


def _submitted(job: GenerationJob, submission: Submission, *, webhook: bool) -> None:
    handle = dict(submission.handle)
    handle["webhook"] = webhook
    with transaction.atomic():
        try:
            job = job_mark_submitted(job, request_id=submission.request_id, handle=handle)
        except IllegalTransition:
            # Cancelled or timed out while the call was in flight: the provider has a
            # request we no longer want.
            logger.warning("job %s left submitting during the call; cancelling", job.pk)
            _cancel_orphan(job, submission)
            return
        if job.cancel_requested:
            from .. import tasks

            enqueue(tasks.cancel, job)
        else:
            schedule_poll(job, poll_interval_s(job))


def _cancel_orphan(job: GenerationJob, submission: Submission) -> None:
    GenerationJob.objects.filter(pk=job.pk, provider_request_id="").update(
        provider_request_id=submission.request_id, provider_handle=dict(submission.handle)
    )
    try:
        get_provider(job.provider).cancel(submission)
    except ProviderError:
        logger.warning("provider cancel of orphan request for job %s failed", job.pk)


def _submit_failed(job: GenerationJob, exc: ProviderError, *, ambiguous: bool) -> None:
    from .. import tasks

    logger.warning(
        "submit failed",
        extra={"job_id": job.pk, "error_code": exc.code, "request_sent": exc.request_sent},
    )
    # job.attempts already counts this try (job_mark_submitting increments it).
    retry = retry_policy(Step.SUBMIT, exc, tries=job.attempts)
    if exc.request_sent:
        if retry is not None:
            # The provider may have it: stay SUBMITTING, let the lease lapse at once and
            # come back to reconcile (not resend) after a backoff.
            GenerationJob.objects.filter(pk=job.pk).update(attempts=job.attempts + 1)
            release_lease(job, retry_in_s=retry.delay_s)
            enqueue(tasks.submit, job, countdown=retry.delay_s)
            return
        _quietly(
            job_fail,
            job,
            code=exc.code,
            message=AMBIGUOUS_MESSAGE if exc.code != ErrorCode.AUTH else "",
            detail=exc.detail,
        )
        return
    if retry is not None:
        with transaction.atomic():
            try:
                job = job_requeue(job, error=exc, delay_s=retry.delay_s)
            except IllegalTransition:
                return
            enqueue(tasks.submit, job, countdown=retry.delay_s)
        return
    _quietly(job_fail, job, code=exc.code, message=exc.user_message, detail=exc.detail)


def _submit_local(job: GenerationJob) -> None:
    """The local renderer has no remote queue: the pipeline enqueues the render task on
    the `media` queue (after commit) and the job waits there IN_QUEUE. The provider only
    names the request (a lower layer does not send the pipeline's tasks)."""
    from .. import tasks

    with transaction.atomic():
        submission = get_provider(job.provider).submit(submit_request(job))
        handle = {**submission.handle, "webhook": False, "local": True}
        try:
            job_mark_submitted(
                job,
                request_id=submission.request_id,
                handle=handle,
                # The media queue may be busy with exports: give it time before the
                # sweeper re-sends the render task (a duplicate is harmless, just waste).
                next_poll_at=timezone.now() + timedelta(seconds=5 * lease_s()),
            )
        except IllegalTransition:
            transaction.set_rollback(True)
            return  # cancelled or taken meanwhile: nothing to render
        enqueue(tasks.render_local, job)


def _quietly(fn, job, **kwargs):
    try:
        return fn(job, **kwargs)
    except IllegalTransition:
        return None
