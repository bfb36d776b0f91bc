"""What a creator does to jobs: create (one job or a batch of variations), cancel, retry;
and what a price preview needs."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from project.money import usd

from .. import catalog, pricing, validation
from ..limits import check_and_reserve
from ..live import push_job
from ..models import GenerationJob, JobStatus
from ..validation import SEED_MAX
from .prices import current_rule
from .providers import is_local
from .transitions import IllegalTransition, job_mark_cancelled

logger = logging.getLogger("generation.jobs")

# One request may start up to this many variations (the composer's picker and the API's
# `variations` field share the cap).
MAX_VARIATIONS = 4


class JobInvalid(Exception):
    """Field errors in plain words ({field: message}); the API answers 400 with them."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Estimate:
    model_id: str
    params: dict[str, Any]
    cost: Decimal  # one job
    total: Decimal  # every variation
    variations: int
    expensive: bool
    formula: str


def job_price(*, model_id: str, params: dict[str, Any], variations: int = 1) -> Estimate:
    """The price of readable settings (`params` already normalized) for `variations` jobs,
    without validating the rest: the composer's cost line is shown before the prompt is
    written. Raises KeyError/ValueError when the price table cannot read the settings."""
    spec = catalog.get(model_id)
    quote = pricing.quote_for(model_id, params, rule=current_rule(spec))
    total = quote.usd * variations
    formula = quote.formula
    if variations > 1 and quote.usd > 0:
        formula = f"{variations} × ({quote.formula}) = {usd(total)}"
    threshold = pricing.D(settings.EXPENSIVE_JOB_USD)
    return Estimate(
        model_id=model_id,
        params=params,
        cost=quote.usd,
        # A batch is confirmed like one expensive job when its total is over the line.
        expensive=quote.usd > threshold or total > threshold,
        formula=formula,
        variations=variations,
        total=total,
    )


def job_estimate(
    *,
    model_id: str,
    params: dict[str, Any],
    owner=None,
    pricing_only: bool = False,
    variations: int = 1,
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
    if not 1 <= variations <= MAX_VARIATIONS:
        errors["variations"] = f"variations must be a whole number from 1 to {MAX_VARIATIONS}."
    if errors:
        raise JobInvalid(errors)
    clean = validation.normalize(model_id, params)
    available, reason = catalog.available(model_id)
    if not available:
        raise JobInvalid({"model": reason})
    return job_price(model_id=model_id, params=clean, variations=variations)


_PARAM_OF = {"image": "image_id", "end_image": "end_image_id"}


def jobs_create_batch(
    *,
    user,
    model_id: str,
    params: dict[str, Any],
    variations: int = 1,
    retry_of: GenerationJob | None = None,
) -> list[GenerationJob]:
    """Start `variations` jobs (1..MAX_VARIATIONS) with the same settings: validate, price,
    check the limits once for the whole batch and reserve its total, save the jobs QUEUED
    and enqueue their submissions once the transaction commits. All or none: a refusal
    (LimitExceeded) or an invalid request (JobInvalid) leaves nothing behind.

    `params` holds prompt, negative_prompt, duration, resolution, aspect_ratio, audio,
    seed and image_id (see generation.validation). Where the model takes a seed, each
    variation gets its own (see variation_seeds). The cooldown is between requests, not
    between the variations of one.
    """
    from .. import tasks

    estimate = job_estimate(model_id=model_id, params=params, owner=user, variations=variations)
    spec = catalog.get(estimate.model_id)
    clean = dict(estimate.params)
    prompt = clean.pop("prompt")
    negative = clean.pop("negative_prompt", "") or ""
    seeds = variation_seeds(clean.get("seed"), variations) if spec.seed else None
    jobs: list[GenerationJob] = []
    with transaction.atomic():
        check_and_reserve(user=user, estimate=estimate.total, jobs=variations)
        for index in range(variations):
            job_params = dict(clean)
            if seeds is not None:
                job_params["seed"] = seeds[index]
            job = GenerationJob.objects.create(
                owner=user,
                model_id=spec.id,
                provider=spec.provider,
                prompt=prompt,
                negative_prompt=negative,
                params=job_params,
                estimated_cost=estimate.cost,
                reserved_cost=estimate.cost,
                retry_of=retry_of,
                variation=index + 1,
                next_poll_at=timezone.now(),
            )
            logger.info(
                "job created",
                extra={
                    "job_id": job.pk,
                    "model_id": job.model_id,
                    "estimate": str(estimate.cost),
                },
            )
            push_job(job, insert=True)
            tasks.submit.delay_on_commit(job.pk)
            jobs.append(job)
    return jobs


def jobs_create_many(
    *, user, requests: list[tuple[str, dict[str, Any]]], estimates: list[Estimate] | None = None
) -> list[GenerationJob]:
    """Several jobs, each with its own model and settings (a storyboard's shots), as ONE
    request: every request validated and priced (JobInvalid names the first bad one by
    `errors["index"]`), the limits checked once for their total, all or none saved and
    enqueued after commit. `estimates` (from job_estimate) skips pricing them again."""
    from .. import tasks

    if estimates is None:
        estimates = []
        for index, (model_id, params) in enumerate(requests):
            try:
                estimates.append(job_estimate(model_id=model_id, params=params, owner=user))
            except JobInvalid as exc:
                raise JobInvalid({**exc.errors, "index": str(index)}) from exc
    total = sum((e.total for e in estimates), Decimal("0"))
    jobs: list[GenerationJob] = []
    with transaction.atomic():
        check_and_reserve(user=user, estimate=total, jobs=len(estimates))
        for estimate in estimates:
            spec = catalog.get(estimate.model_id)
            clean = dict(estimate.params)
            prompt = clean.pop("prompt")
            negative = clean.pop("negative_prompt", "") or ""
            job = GenerationJob.objects.create(
                owner=user,
                model_id=spec.id,
                provider=spec.provider,
                prompt=prompt,
                negative_prompt=negative,
                params=clean,
                estimated_cost=estimate.cost,
                reserved_cost=estimate.cost,
                next_poll_at=timezone.now(),
            )
            push_job(job, insert=True)
            tasks.submit.delay_on_commit(job.pk)
            jobs.append(job)
    return jobs


def job_create(
    *,
    user,
    model_id: str,
    params: dict[str, Any],
    retry_of: GenerationJob | None = None,
) -> GenerationJob:
    """One job: a batch of one (raises JobInvalid or LimitExceeded)."""
    (job,) = jobs_create_batch(user=user, model_id=model_id, params=params, retry_of=retry_of)
    return job


def variation_seeds(first: int | None, count: int) -> list[int | None]:
    """One seed per variation: the creator's seed, then seed+1, … (so a good result can be
    reproduced), or distinct random seeds when none was given. A single job without a
    seed keeps none (the provider picks)."""
    if first is None and count == 1:
        return [None]
    if first is not None:
        return [(first + index) % (SEED_MAX + 1) for index in range(count)]
    return random.SystemRandom().sample(range(SEED_MAX + 1), count)


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
    if job.status == JobStatus.IN_QUEUE and is_local(job.provider):
        # A local job waiting for a render slot has nothing to stop anywhere: cancelled at
        # once here, not after a worker slot frees up for the cancel task. The render task
        # then finds it cancelled (its guarded IN_QUEUE -> RUNNING step fails) and skips it.
        try:
            return job_mark_cancelled(job)
        except IllegalTransition:
            job.refresh_from_db()  # the render started a moment ago; the flag stops it
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
