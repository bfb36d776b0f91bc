"""Pushes of the job card to the owner's open tabs (the new media card is pushed by
media_library.services.media_create_from_file itself).

Every push renders the job as it is in the database at commit time, so a tab never shows a
state that a rollback erased, and two quick pushes can never arrive "old after new" with
the old content (both carry the newest row).
"""

from __future__ import annotations

import logging

from django.db import transaction

from project.live import broadcast_on_commit, render_fragment

from .models import GenerationJob, JobStatus

logger = logging.getLogger(__name__)

JOB_CARD = "generation/partials/job_card.html"
JOB_LIST_SELECTOR = "#job-list"
# How many waiting cards one move of the local renderer's line re-pushes: the front of the
# line, whose words change; the cards further back update as they come within reach.
LINE_PUSH_LIMIT = 50


def _fresh(job_id: int) -> GenerationJob | None:
    return GenerationJob.objects.select_related("media_item").filter(pk=job_id).first()


def job_card_html(job: GenerationJob, *, oob: bool = False, insert: bool = False) -> str:
    """The card; `oob` replaces an existing `job-<id>`, `insert` adds it to the job list."""
    return render_fragment(
        JOB_CARD, {"job": job, "oob": oob and not insert, "insert": insert, "live_new": insert}
    )


def push_job(job: GenerationJob, *, insert: bool = False) -> None:
    """Push the job card after commit (from any sync context)."""
    job_id, owner_id = job.pk, job.owner_id

    def html() -> str:
        fresh = _fresh(job_id)
        return job_card_html(fresh, oob=True, insert=insert) if fresh else ""

    broadcast_on_commit(owner_id, html)
    if job.status in (JobStatus.CANCELLED, JobStatus.FAILED):
        # A local job leaving the line (cancelled or failed while waiting, or freeing its
        # slot) moves everyone behind it up.
        from .services.providers import is_local  # lazy: the services import this module

        if is_local(job.provider):
            push_local_line()


def push_local_line() -> None:
    """Re-push the cards of the jobs waiting for a local render slot, after commit: the
    line moved (a job ahead started, was cancelled or failed), so each card shows its new
    place and ETA (read as it renders). Bounded by LINE_PUSH_LIMIT."""
    from .selectors import local_line_waiting  # lazy: the selectors import the services

    def send() -> None:
        for waiting in local_line_waiting(limit=LINE_PUSH_LIMIT):
            push_job(waiting)

    transaction.on_commit(send)


def push_jobs_of_media_item(*, media_item_id: int) -> None:
    """Push (after commit) the card of every job whose result is this media item: one
    normally, and none for an upload or an export."""
    for job in GenerationJob.objects.filter(media_item_id=media_item_id).only("pk", "owner_id"):
        push_job(job)
