"""From a finished provider request (or a local render) to a MediaItem in the panel.

Exactly one MediaItem per job, whatever is redelivered: the download runs under a lease,
and the last step — find-or-create the item, mark the job succeeded — runs under the job's
row lock, looking for an item already made for this job by a worker that died before it
could mark the job.
"""

from __future__ import annotations

import logging
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from media_library.models import MediaItem
from media_library.services import MediaRejected, media_create_from_file
from project.money import usd_figure

from .. import catalog
from ..models import GenerationJob, JobStatus
from ..providers.base import RESULT_EXPIRED, RESULT_TOO_LARGE, ErrorCode, ProviderError, ResultInfo
from ..providers.http import fetch_result
from ..validation import clean_text
from .providers import get_provider, submission_of
from .scheduling import Step, claim_lease, enqueue, lease_heartbeat, release_lease, retry_policy
from .transitions import IllegalTransition, job_fail, job_mark_cancelled, job_mark_succeeded
from .workers import job_work_dir, work_prefix

logger = logging.getLogger("generation.jobs")

NOT_A_VIDEO = "The provider's result is not a video we can use, so nothing was saved."
EXPIRED = (
    "The provider's download link for this video expired before it could be saved. "
    "Start the generation again."
)


def too_large_message() -> str:
    return (
        f"The finished video is larger than the {settings.GENERATION_MAX_RESULT_MB} MB limit, "
        "so it was not saved."
    )


def download_failure_message(exc: ProviderError) -> str:
    """The sentence a creator reads when the finished video could not be saved, chosen by the
    error's reason code (never by its wording)."""
    if exc.reason == RESULT_TOO_LARGE:
        return too_large_message()
    if exc.reason == RESULT_EXPIRED:
        return EXPIRED
    return exc.user_message


def job_finalize(*, job_id: int) -> None:
    job = GenerationJob.objects.filter(pk=job_id).first()
    if job is None or job.status != JobStatus.DOWNLOADING:
        return
    if not claim_lease(job, statuses=(JobStatus.DOWNLOADING,)):
        return  # another worker is downloading it
    if job.cancel_requested:
        _quietly_cancel(job, billed=True)
        return
    existing = _existing_item(job)
    if existing is not None:
        # A worker died between creating the item and marking the job: just link it.
        complete_with_file(job, None, existing=existing)
        return
    try:
        info = _result_info(job)
        with (
            tempfile.TemporaryDirectory(dir=job_work_dir(), prefix=work_prefix()) as tmp,
            lease_heartbeat(job.pk),
        ):
            downloaded = fetch_result(
                info.url,
                Path(tmp) / "result.mp4",
                job_id=job.pk,
                provider=job.provider,
            )
            complete_with_file(job, downloaded.path, actual_cost=info.actual_cost)
    except ProviderError as exc:
        _download_failed(job, exc)


def _result_info(job: GenerationJob) -> ResultInfo:
    stored = job.provider_handle.get("result")
    if stored and stored.get("url"):
        return ResultInfo(**stored)
    return get_provider(job.provider).result(submission_of(job))


def _download_failed(job: GenerationJob, exc: ProviderError) -> None:
    logger.warning("result download failed", extra={"job_id": job.pk, "error_code": exc.code})
    errors = job.step_errors + 1
    retry = retry_policy(Step.DOWNLOAD, exc, tries=errors)
    if retry is not None:
        GenerationJob.objects.filter(pk=job.pk).update(step_errors=errors)
        release_lease(job, retry_in_s=retry.delay_s)
        from .. import tasks

        enqueue(tasks.finalize, job, countdown=retry.delay_s)
        return
    try:
        job_fail(job, code=exc.code, message=download_failure_message(exc), detail=exc.detail)
    except IllegalTransition:
        pass


def generated_title(job: GenerationJob) -> str:
    """The media item's name: the prompt, and for the 2nd, 3rd… variation of one request
    its number, so the clips of a batch can be told apart in the media panel."""
    base = clean_text(job.prompt, 76) or f"Generated clip {job.pk}"
    return f"{base} #{job.variation}" if job.variation > 1 else base


def _existing_item(job: GenerationJob) -> MediaItem | None:
    return MediaItem.objects.filter(
        owner_id=job.owner_id, source=MediaItem.Source.GENERATED, metadata__job_id=job.pk
    ).first()


def _media_metadata(job: GenerationJob, actual_cost) -> dict:
    # The model's name and the run time are stored with the clip, since media_library
    # (which shows them in the Details drawer) knows no generation code to look them up.
    return {
        "job_id": job.pk,
        "prompt": job.prompt,
        "negative_prompt": job.negative_prompt,
        "model": job.model_id,
        "model_name": catalog.get(job.model_id).name if catalog.exists(job.model_id) else "",
        "took_s": max(0, round((timezone.now() - job.created_at).total_seconds())),
        "provider": job.provider,
        "params": job.params,
        "estimated_cost": usd_figure(job.estimated_cost),
        "cost": usd_figure(actual_cost if actual_cost is not None else job.estimated_cost),
        "currency": "USD",
        "provider_request_id": job.provider_request_id,
    }


def _cost(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def complete_with_file(
    job: GenerationJob, path: Path | None, *, actual_cost=None, existing: MediaItem | None = None
) -> MediaItem | None:
    """Create (or link) the MediaItem and mark the job succeeded, exactly once."""
    from ..limits import reservation_settle

    cost = _cost(actual_cost)
    try:
        with transaction.atomic():
            # Write first, then lock: the row lock on PostgreSQL, the write lock on SQLite.
            GenerationJob.objects.filter(pk=job.pk).update(updated_at=timezone.now())
            job = GenerationJob.objects.select_for_update().get(pk=job.pk)
            if job.status != JobStatus.DOWNLOADING or job.media_item_id:
                return None
            if job.cancel_requested:
                job_mark_cancelled(job, billed=True)
                return None
            item = existing or _existing_item(job)
            if item is None:
                item = media_create_from_file(
                    owner=job.owner,
                    path_or_file=path,
                    title=generated_title(job),
                    source=MediaItem.Source.GENERATED,
                    metadata=_media_metadata(job, cost),
                )
            job_mark_succeeded(job, media_item=item, actual_cost=cost)
            reservation_settle(job=job, amount=cost if cost is not None else job.estimated_cost)
    except MediaRejected as exc:
        logger.warning("result rejected for job %s: %s", job.pk, exc)
        job_fail(job, code=ErrorCode.PROVIDER_ERROR, message=NOT_A_VIDEO, detail=str(exc)[:500])
        return None
    return item


def _quietly_cancel(job: GenerationJob, *, billed: bool) -> None:
    try:
        job_mark_cancelled(job, billed=billed)
    except IllegalTransition:
        pass
