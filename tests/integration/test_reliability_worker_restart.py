"""A worker SIGKILLed mid local render: the restarted worker takes the job back at once
(generation.services.workers), it finishes exactly once within seconds of the restart, and
the killed render's partial file is gone.

The lease is the production one (60 s) and no beat runs, so without the take-over at
worker start the job would sit RUNNING until the lease lapsed and a sweep came (~2 min)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from generation.models import GenerationJob, JobStatus
from generation.services import job_create
from media_library.models import MediaItem
from tests.integration.workers import (
    wait_for,
    wait_for_job,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.pipeline(
        FAL_KEY="",
        # Production timing for the lease and the sweeper: only the take-over at worker
        # start can make the recovery fast.
        GENERATION_LEASE_S="60",
        GENERATION_SWEEP_GRACE_S="30",
    ),
    pytest.mark.usefixtures("pipeline_settings"),
]

S = JobStatus
RECOVERED_WITHIN_S = 15.0


def _partials(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".part") or ".part-" in p.name]


def test_sigkill_mid_local_render_recovers_within_seconds_once(user, worker, media_root):
    job = job_create(
        user=user,
        model_id="local",
        params={"prompt": "a slow pan over a harbour at dusk", "duration": 6, "resolution": "360p"},
    )

    def rendering():
        job.refresh_from_db()
        return job.status == S.RUNNING and (job.progress or 0) > 0 and _partials(media_root)

    wait_for(rendering, timeout=60, what="the local render to be under way")
    worker.kill()
    job.refresh_from_db()
    assert job.status == S.RUNNING, "the render finished before the kill; make it longer"
    left_behind = _partials(media_root)
    assert left_behind, "the killed render left no partial file to clean up"
    assert job.lease_until is not None  # still claimed by the dead worker

    restarted = time.monotonic()
    worker.start()
    job = wait_for_job(job, S.SUCCEEDED, timeout=RECOVERED_WITHIN_S + 45)
    recovered_s = time.monotonic() - restarted
    print(f"\nSIGKILL mid render: finished {recovered_s:.1f} s after the worker restart")
    assert recovered_s < RECOVERED_WITHIN_S

    # Exactly once: one clip in the library for this job, the job pointing at it.
    assert MediaItem.objects.filter(metadata__job_id=job.pk).count() == 1
    assert job.media_item_id is not None and job.progress == 100
    assert GenerationJob.objects.filter(owner=user).count() == 1
    # The killed render's partial file (and its work directory) are gone.
    for path in left_behind:
        assert not path.exists(), path
    assert _partials(media_root) == []
