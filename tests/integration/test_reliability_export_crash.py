"""Worker SIGKILLed mid-export: the export does not stay "running" forever. The sweeper
fails it with a plain sentence once its progress heartbeat stops, removes the partial
file, pushes the failed card; a re-export with a new worker succeeds; a late
redelivery of the killed task finds the export failed and does nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from editor import services
from editor.models import Export
from editor.services.recovery import WORKER_LOST, export_sweep
from media_library.models import MediaItem
from media_library.services import media_create_from_file
from media_library.testing import make_video
from project.celery import app
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def ready_clip(user, path) -> MediaItem:
    item = media_create_from_file(owner=user, path_or_file=path, title="c", source="upload")
    wait_until(
        lambda: MediaItem.objects.get(pk=item.pk).status == MediaItem.Status.READY,
        timeout=60,
        what="clip processed",
    )
    return MediaItem.objects.get(pk=item.pk)


def test_sweeper_is_scheduled_by_beat():
    import editor.tasks  # noqa: F401 - registers the task as the worker's autodiscovery does

    entry = app.conf.beat_schedule["export-sweep"]
    assert entry["task"] == "editor.tasks.export_sweep"
    assert entry["task"] in app.tasks


def test_worker_killed_mid_export_fails_cleanly_and_re_export_works(
    celery_worker, live_client, user, tmp_path
):
    tab = live_client(user)
    clip = ready_clip(
        user, make_video(tmp_path / "c.mp4", seconds=2, width=320, height=180, fps=30)
    )
    timeline = services.timeline_create(owner=user, name="Long", preset="1920x1080", fps=60)
    v1 = timeline.tracks.get(kind="video")
    for i in range(60):  # two minutes of 1080p60: far longer than the test lets it run
        services.clip_add(timeline=timeline, media_item=clip, start_s=i * 2, track=v1)
    export = services.export_start(timeline=timeline, preset="1080p", file_name="long")
    wait_until(
        lambda: Export.objects.get(pk=export.pk).progress > 0,
        timeout=90,
        what="export to report progress",
    )
    partial = Path(settings.MEDIA_ROOT) / "tmp" / "exports" / f"export-{export.pk}.mp4"
    assert partial.exists()

    celery_worker.kill()  # SIGKILL the worker group: its child and ffmpeg die mid-write
    try:
        # Alive exports are left alone: a fresh heartbeat is never swept.
        assert export_sweep(stale_after_s=3600) == []
        assert Export.objects.get(pk=export.pk).status == Export.Status.RUNNING
        # Once the heartbeat is older than the limit the sweeper fails it.
        swept = wait_until(
            lambda: export_sweep(stale_after_s=2), timeout=30, what="the sweeper to act"
        )
        assert swept == [export.pk]
        failed = Export.objects.get(pk=export.pk)
        assert failed.status == Export.Status.FAILED
        assert failed.error_message == WORKER_LOST
        assert failed.result is None and failed.finished_at is not None
        assert not partial.exists()
        assert not (partial.parent / f"export-{export.pk}-sources").exists()
        card = tab.wait_for(
            lambda m: f'id="export-{export.pk}"' in m and 'data-status="failed"' in m
        )
        assert "worker rendering it quit" in card
        assert export_sweep(stale_after_s=0) == []  # idempotent: nothing left to sweep
    finally:
        celery_worker.start()

    # The killed task, redelivered late, must not resurrect the failed export.
    from editor.tasks import export_run

    assert export_run.apply(args=[export.pk]).get() == "skipped"
    assert Export.objects.get(pk=export.pk).status == Export.Status.FAILED

    # Re-export of a short cut works with the restarted worker.
    short = services.timeline_create(owner=user, name="Short", preset="1280x720", fps=30)
    services.clip_add(
        timeline=short, media_item=clip, start_s=0, track=short.tracks.get(kind="video")
    )
    again = services.export_start(timeline=short, preset="480p", file_name="again")
    wait_until(
        lambda: (
            Export.objects.get(pk=again.pk).status
            in {Export.Status.SUCCEEDED, Export.Status.FAILED}
        ),
        timeout=120,
        what="re-export to finish",
    )
    again = Export.objects.get(pk=again.pk)
    assert again.status == Export.Status.SUCCEEDED, again.error_message
    assert again.result is not None and again.result.source == MediaItem.Source.EXPORT
