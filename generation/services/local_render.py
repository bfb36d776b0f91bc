"""The local renderer's job step: render on this worker (queue `media`) with live progress
and the cancel flag checked while frames are encoded, then finalize like any result."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from django.db import transaction

from ..live import push_local_line
from ..models import GenerationJob, JobStatus
from ..providers.base import ErrorCode
from ..rendering import RenderCancelled, settings_for
from .finalize import complete_with_file
from .providers import is_local
from .scheduling import claim_lease, lease_heartbeat
from .transitions import (
    IllegalTransition,
    job_fail,
    job_mark_cancelled,
    job_mark_downloading,
    job_mark_running,
    job_update_live,
)
from .workers import job_work_dir, work_prefix

logger = logging.getLogger("generation.jobs")

PUSH_EVERY_S = 0.5
CANCEL_CHECK_EVERY_S = 0.2


def _render_video(**kwargs):
    from ..rendering import render_video

    return render_video(**kwargs)


def job_render_local(*, job_id: int) -> None:
    job = GenerationJob.objects.filter(pk=job_id).first()
    statuses = (JobStatus.IN_QUEUE, JobStatus.RUNNING)
    if job is None or not is_local(job.provider) or job.status not in statuses:
        return
    if job.cancel_requested:
        _quietly(job_mark_cancelled, job)
        return
    if not claim_lease(job, statuses=statuses):
        return  # already rendering in another worker
    try:
        if job.status == JobStatus.IN_QUEUE:
            job = job_mark_running(job, progress=0, progress_estimated=False)
            # Out of the line: every job behind it is one place nearer a slot.
            push_local_line()
    except IllegalTransition:
        return

    render_settings = settings_for({**job.params, "prompt": job.prompt}, job_id=job.pk)
    progress = _ProgressReporter(job)

    def should_cancel() -> bool:
        return progress.cancel_requested()

    with (
        tempfile.TemporaryDirectory(dir=job_work_dir(), prefix=work_prefix()) as tmp,
        lease_heartbeat(job.pk),
    ):
        out_path = Path(tmp) / "render.mp4"
        try:
            _render_video(
                out_path=out_path,
                prompt=job.prompt,
                **render_settings,
                on_progress=progress.report,
                should_cancel=should_cancel,
            )
            if progress.cancel_requested(force=True):
                raise RenderCancelled
        except Exception as exc:  # noqa: BLE001 - any render failure must settle the job
            if isinstance(exc, RenderCancelled) or progress.cancel_requested(force=True):
                logger.info("local render of job %s stopped by cancel", job.pk)
                _quietly(job_mark_cancelled, _fresh(job))
                return
            logger.exception("local render of job %s failed", job.pk)
            _quietly(
                job_fail,
                _fresh(job),
                code=ErrorCode.PROVIDER_ERROR,
                message="The local renderer failed to make this video. Try again.",
                detail=f"{type(exc).__name__}: {exc}"[:2000],
            )
            return
        try:
            with transaction.atomic():
                job = job_mark_downloading(_fresh(job))
        except IllegalTransition:
            return
        complete_with_file(job, out_path)


class _ProgressReporter:
    """Throttles progress writes and pushes, and cancel-flag reads, while frames encode."""

    def __init__(self, job: GenerationJob):
        self.job = job
        self.last_push = 0.0
        self.last_check = 0.0
        self.cancelled = False

    def report(self, percent: float) -> None:
        # 100 is reported before the file is saved to the library: hold the bar at 99.
        percent = round(max(0.0, min(99.0, float(percent))), 1)
        now = time.monotonic()
        if now - self.last_push < PUSH_EVERY_S:
            return
        self.last_push = now
        job_update_live(self.job, progress=percent, progress_estimated=False)

    def cancel_requested(self, *, force: bool = False) -> bool:
        now = time.monotonic()
        if self.cancelled or (not force and now - self.last_check < CANCEL_CHECK_EVERY_S):
            return self.cancelled
        self.last_check = now
        row = GenerationJob.objects.filter(pk=self.job.pk).values("cancel_requested", "status")
        row = row.first()
        self.cancelled = (
            row is None
            or row["cancel_requested"]
            or row["status"]
            not in (
                JobStatus.IN_QUEUE,
                JobStatus.RUNNING,
            )
        )
        return self.cancelled


def _fresh(job: GenerationJob) -> GenerationJob:
    job.refresh_from_db()
    return job


def _quietly(fn, job, **kwargs):
    try:
        return fn(job, **kwargs)
    except IllegalTransition:
        return None
