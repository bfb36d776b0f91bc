"""A result download that stalls mid-body: the CDN sends half the file, then a byte at a
time, each byte inside the per-read timeout. Only a whole-download deadline
(GENERATION_DOWNLOAD_TIMEOUT_S) ends it; the download is retried, the worker slot is
freed long before the stall would have ended, and the job finishes with one media item."""

from __future__ import annotations

import time

import pytest

from generation.models import JobStatus
from generation.services import job_create
from media_library.models import MediaItem
from tests.integration.workers import apply_to_settings, wait_for_job

STALL_S = 60.0  # how long the emulator would keep trickling
DEADLINE_S = 3.0

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.pipeline(
        fal_polls=(1, 1),
        PROVIDER_HTTP_TIMEOUT_S="2",  # > the 0.5 s trickle: the per-read timeout never fires
        GENERATION_DOWNLOAD_TIMEOUT_S=str(DEADLINE_S),
    ),
]


def test_stalled_download_times_out_is_retried_and_the_job_finishes_once(
    user, fal, env, worker, settings
):
    apply_to_settings(settings, env)
    fal.reset()
    fal.fail("file", "trickle_body", hang_s=STALL_S, trickle_s=0.5)
    started = time.monotonic()
    job = job_create(
        user=user, model_id="hailuo", params={"prompt": "Slow CDN, fast user", "duration": 6}
    )
    job = wait_for_job(job, JobStatus.SUCCEEDED, timeout=40)
    took = time.monotonic() - started

    # The stalled attempt was abandoned at the deadline, not when the server gave up.
    assert took < STALL_S / 2, took
    assert fal.count("file_downloads") == 2  # the stalled one, then the retry
    assert fal.count("submits_received") == 1
    items = MediaItem.objects.filter(metadata__job_id=job.pk)
    assert items.count() == 1
    assert job.media_item_id == items.get().pk
    assert items.get().size_bytes > 0
    # No partial download left beside the stored files.
    media_root = settings.MEDIA_ROOT
    assert not list(media_root.rglob(".part-*"))
