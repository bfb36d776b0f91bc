"""Export through a real Celery worker: clips made with PyAV are registered in the media
library (the worker probes them), cut on a timeline through the services, exported, and
the MP4 that lands back in the library is probed. Also: cancelling a running export."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from django.conf import settings

from editor import services
from editor.models import Export, Timeline
from media_library.models import MediaItem
from media_library.services import media_create_from_file
from media_library.testing import make_audio, make_image_bytes, make_video
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def register(user, path, title) -> MediaItem:
    item = media_create_from_file(owner=user, path_or_file=path, title=title, source="upload")
    wait_until(
        lambda: MediaItem.objects.get(pk=item.pk).status != MediaItem.Status.PROCESSING,
        timeout=60,
        what=f"{title} processed",
    )
    item.refresh_from_db()
    assert item.status == MediaItem.Status.READY, item.error_message
    return item


def wait_export(export, statuses, timeout=180) -> Export:
    wait_until(
        lambda: Export.objects.get(pk=export.pk).status in statuses,
        timeout=timeout,
        what=f"export {export.pk} to reach {statuses}",
    )
    return Export.objects.get(pk=export.pk)


def probe(path: str) -> dict:
    with av.open(path) as container:
        v = container.streams.video[0]
        audio = container.streams.audio
        info = {
            "size": (v.codec_context.width, v.codec_context.height),
            "rate": v.average_rate,
            "duration": container.duration / 1e6,
            "audio": bool(audio) and audio[0].codec_context.sample_rate == 48000,
            "profile": v.codec_context.profile,
        }
        info["frames"] = sum(1 for _ in container.decode(v))
    return info


def test_export_lands_in_library_with_exact_length(celery_worker, live_client, user, tmp_path):
    talk = register(
        user,
        make_video(tmp_path / "talk.mp4", seconds=3, width=320, height=240, fps=24, audio=True),
        "talk",
    )
    wide = register(
        user, make_video(tmp_path / "wide.mp4", seconds=2, width=640, height=360, fps=30), "wide"
    )
    tone = register(user, make_audio(tmp_path / "tone.wav", seconds=2), "tone")
    still_path = tmp_path / "still.png"
    still_path.write_bytes(make_image_bytes(size=(200, 300)))
    still = register(user, still_path, "still")

    timeline = services.timeline_create(owner=user, name="Trip", preset="1280x720", fps=30)
    v1 = timeline.tracks.get(kind="video")
    a1 = timeline.tracks.get(kind="audio")
    video, _audio = services.clip_add(timeline=timeline, media_item=talk, start_s=0, track=v1)
    services.clip_trim(clip=video, edge="in", in_s=0.5)  # now 0.5..3.0 at 0.5 s
    services.clip_move(clip=video, start_s=0)  # 0..2.5 s, linked audio follows
    (w,) = services.clip_add(timeline=timeline, media_item=wide, start_s=3.0, track=v1)
    left, _right = services.clip_split(clip=w, at_s=4.0)
    services.clip_add(timeline=timeline, media_item=still, start_s=1.0, track=None, out_s=1.5)
    services.clip_add(timeline=timeline, media_item=tone, start_s=3.5, track=a1)
    # Ends with the tone: 3.5 + 2.0 = 5.5 s.
    tab = live_client(user)
    export = services.export_start(timeline=timeline, preset="720p", fps=25, file_name="Trip cut")
    assert (export.width, export.height, export.fps) == (1280, 720, 25.0)
    export = wait_export(export, {Export.Status.SUCCEEDED, Export.Status.FAILED})
    assert export.status == Export.Status.SUCCEEDED, export.error_message
    assert export.progress == 1.0

    result = export.result
    assert result is not None and result.source == MediaItem.Source.EXPORT
    assert result.title == "Trip cut.mp4"
    info = probe(result.file.path)
    assert info["frames"] == round(5.5 * 25)
    assert abs(info["duration"] - 5.5) <= 1 / 25
    assert info["size"] == (1280, 720)
    assert info["rate"] == 25
    assert info["audio"] is True
    assert info["profile"] == "High"
    # Pushed live: the finished export card, and the new media card for the library panel.
    tab.wait_for(lambda m: f'id="export-{export.pk}"' in m and 'data-status="succeeded"' in m)
    tab.wait_for(lambda m: f'id="media-{result.pk}"' in m)
    # The frozen spec is independent of later edits; the temp file is gone.
    assert not (Path(settings.MEDIA_ROOT) / "tmp" / "exports" / f"export-{export.pk}.mp4").exists()
    assert Timeline.objects.filter(pk=timeline.pk).exists()


def test_cancel_running_export_kills_ffmpeg_and_removes_partial(celery_worker, user, tmp_path):
    clip = register(
        user, make_video(tmp_path / "c.mp4", seconds=2, width=320, height=180, fps=30), "c"
    )
    timeline = services.timeline_create(owner=user, name="Long", preset="1920x1080", fps=60)
    v1 = timeline.tracks.get(kind="video")
    for i in range(60):  # two minutes of 1080p60: far longer to render than the test waits
        services.clip_add(timeline=timeline, media_item=clip, start_s=i * 2, track=v1)
    export = services.export_start(timeline=timeline, preset="1080p", file_name="long")
    wait_until(
        lambda: Export.objects.get(pk=export.pk).progress > 0,
        timeout=90,
        what="export to report progress",
    )
    partial = Path(settings.MEDIA_ROOT) / "tmp" / "exports" / f"export-{export.pk}.mp4"
    assert partial.exists()
    services.export_cancel(export=Export.objects.get(pk=export.pk))
    export = wait_export(export, {Export.Status.CANCELLED, Export.Status.SUCCEEDED}, timeout=30)
    assert export.status == Export.Status.CANCELLED
    assert export.result is None
    assert not partial.exists()
    assert not MediaItem.objects.filter(source=MediaItem.Source.EXPORT, owner=user).exists()


def test_empty_timeline_is_refused(user):
    from django.core.exceptions import ValidationError

    timeline = services.timeline_create(owner=user, name="Empty")
    with pytest.raises(ValidationError):
        services.export_start(timeline=timeline, preset="720p")
    assert not Export.objects.exists()
