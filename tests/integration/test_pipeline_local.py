"""The offline `local` model end to end: rendered by a real worker on the media queue with
real progress pushed to an open tab, landing as a processed MediaItem; and a cancel in the
middle of a render stops it with nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from generation.models import GenerationJob, JobStatus
from generation.services import job_cancel, job_create
from media_library.models import MediaItem
from tests.integration.workers import (
    wait_for,
    wait_for_job,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.pipeline(FAL_KEY=""),
    pytest.mark.usefixtures("pipeline_settings"),
]

S = JobStatus


def test_local_render_lands_in_the_media_panel_with_live_progress(user, live_client):
    tab = live_client(user)
    job = job_create(
        user=user,
        model_id="local",
        params={"prompt": "ocean waves at night", "duration": 2, "resolution": "360p"},
    )
    job = wait_for_job(job, S.SUCCEEDED, timeout=90)
    assert job.provider_request_id == f"local-{job.pk}" and job.progress == 100
    item = job.media_item
    wait_for(
        lambda: MediaItem.objects.get(pk=item.pk).status == MediaItem.Status.READY,
        timeout=60,
        what="the clip to be processed",
    )
    item.refresh_from_db()
    assert item.duration_s == pytest.approx(2.0, abs=0.1)
    assert (item.width, item.height) == (640, 360) and item.has_audio
    assert item.metadata["model"] == "local" and item.metadata["cost"] == "0.00"

    # Real progress (not estimated) was pushed while frames were encoded.
    running = tab.wait_for(lambda m: f'id="job-{job.pk}"' in m and 'data-status="running"' in m)
    assert "(estimated)" not in running
    tab.wait_for(lambda m: f'id="job-{job.pk}"' in m and 'data-status="succeeded"' in m)
    tab.wait_for_text(f'id="media-{item.pk}"')


def test_cancel_during_a_local_render_stops_it(user, env):
    job = job_create(
        user=user,
        model_id="local",
        params={"prompt": "a city street in the rain", "duration": 10, "resolution": "1080p"},
    )
    wait_for(
        lambda: GenerationJob.objects.get(pk=job.pk).progress > 0,
        timeout=60,
        what="the render to make progress",
    )
    job_cancel(job=job)
    job = wait_for_job(job, S.CANCELLED, timeout=15)
    assert job.progress < 100 and job.media_item_id is None
    assert not MediaItem.objects.filter(metadata__job_id=job.pk).exists()
    # The render's scratch directory is gone with it.
    scratch = Path(env["MEDIA_ROOT"]) / "tmp" / "generation"
    wait_for(lambda: not any(scratch.rglob("*.mp4*")), timeout=10, what="scratch cleaned up")
    # And the worker is free again: the next job renders at once.
    after = job_create(
        user=user,
        model_id="local",
        params={"prompt": "a quiet forest", "duration": 2, "resolution": "360p"},
    )
    wait_for_job(after, S.SUCCEEDED, timeout=60)
