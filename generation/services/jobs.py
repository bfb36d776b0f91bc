"""What a creator does to jobs: create, cancel, retry; and what a price preview needs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import catalog, pricing, validation
from ..limits import check_and_reserve
from ..live import push_job
from ..models import GenerationJob, JobStatus
from .prices import current_rule
from .transitions import IllegalTransition, job_mark_cancelled

logger = logging.getLogger("generation.jobs")


class JobInvalid(Exception):
    """Field errors in plain words ({field: message}); the API answers 400 with them."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Estimate:
    model_id: str
    params: dict[str, Any]
    cost: Decimal
    expensive: bool
    formula: str


def job_estimate(
    *, model_id: str, params: dict[str, Any], owner=None, pricing_only: bool = False
) -> Estimate:
    """Validate and price a request without creating anything (raises JobInvalid).

    pricing_only prices an image-to-video model before its stills are chosen: the images
    are needed to generate, not to price (the prompt is still required)."""
    model_id = (model_id or "").strip()
    errors = validation.validate(model_id, params, owner=owner)
    if pricing_only:
        for image_field in ("image", "end_image"):
            if params.get(_PARAM_OF[image_field]) in (None, ""):
                errors.pop(image_field, None)
    if errors:
        raise JobInvalid(errors)
    clean = validation.normalize(model_id, params)
    available, reason = catalog.available(model_id)
    if not available:
        raise JobInvalid({"model": reason})
    quote = pricing.quote_for(model_id, clean, rule=current_rule(catalog.get(model_id)))
    return Estimate(
        model_id=model_id,
        params=clean,
        cost=quote.usd,
        expensive=quote.usd > settings.EXPENSIVE_JOB_USD,
        formula=quote.formula,
    )


_PARAM_OF = {"image": "image_id", "end_image": "end_image_id"}


def job_create(
    *,
    user,
    model_id: str,
    params: dict[str, Any],
    retry_of: GenerationJob | None = None,
    batch_index: int = 0,
) -> GenerationJob:
    """Validate, price, check limits and reserve the estimate, save the job QUEUED and
    enqueue its submission once the transaction commits.

    `params` holds prompt, negative_prompt, duration, resolution, aspect_ratio, audio,
    seed and image_id (see generation.validation). `batch_index` > 0 marks the later jobs
    of one multi-variation request, which the cooldown lets through. Raises JobInvalid or
    LimitExceeded.
    """
    from .. import tasks

    estimate = job_estimate(model_id=model_id, params=params, owner=user)
    spec = catalog.get(estimate.model_id)
    clean = dict(estimate.params)
    prompt = clean.pop("prompt")
    negative = clean.pop("negative_prompt", "") or ""
    with transaction.atomic():
        reserved = check_and_reserve(
            user=user, estimate=estimate.cost, skip_cooldown=batch_index > 0
        )
        job = GenerationJob.objects.create(
            owner=user,
            model_id=spec.id,
            provider=spec.provider,
            prompt=prompt,
            negative_prompt=negative,
            params=clean,
            estimated_cost=estimate.cost,
            reserved_cost=reserved,
            retry_of=retry_of,
            next_poll_at=timezone.now(),
        )
        logger.info(
            "job created",
            extra={"job_id": job.pk, "model_id": job.model_id, "estimate": str(estimate.cost)},
        )
        push_job(job, insert=True)
        tasks.submit.delay_on_commit(job.pk)
    return job


def job_cancel(*, job: GenerationJob) -> GenerationJob:
    """Cancel in any live state. A queued job is cancelled at once and never submitted;
    otherwise the flag is set and the pipeline stops the work (provider cancel, local
    render stop) and settles the job. Raises IllegalTransition for a finished job."""
    from .. import tasks

    job.refresh_from_db()
    if job.is_terminal:
        raise IllegalTransition(
            f"job {job.pk} is already {job.status}",
            code=IllegalTransition.NOT_ALLOWED,
            machine="job",
            pk=job.pk,
            from_state=job.status,
            to_state=JobStatus.CANCELLED,
        )
    GenerationJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    job.cancel_requested = True
    if job.status == JobStatus.QUEUED:
        try:
            return job_mark_cancelled(job)
        except IllegalTransition:
            # The submit task claimed it a moment ago; it sees the flag and cancels.
            job.refresh_from_db()
    if job.is_live:
        # The provider call happens in a worker, never in the web request.
        tasks.cancel.delay_on_commit(job.pk)
        push_job(job)
    return job


def job_retry(*, job: GenerationJob, user) -> GenerationJob:
    """A new job with the same settings, linked to the failed or cancelled one."""
    if not job.can_retry:
        raise IllegalTransition(
            f"job {job.pk} is {job.status}; only failed or cancelled jobs retry"
        )
    params = dict(job.params)
    params["prompt"] = job.prompt
    params["negative_prompt"] = job.negative_prompt
    return job_create(user=user, model_id=job.model_id, params=params, retry_of=job)
