"""A video is ready with a keyframe poster first; the filmstrip and the refined poster
follow, and each poster written re-pushes the card of the job that made the item."""

import io
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageStat

from generation.models import GenerationJob
from media_library import processing, services, tasks
from media_library.models import MediaItem
from media_library.signals import media_item_poster_changed
from media_library.testing import make_video
from tests.unit.job_fakes import make_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def pushes(monkeypatch):
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "project.live.broadcast", lambda uid, html: sent.append((uid, html)) or True
    )
    monkeypatch.setattr(tasks.process_media, "delay", lambda media_id: None)
    return sent


@pytest.fixture
def poster_events():
    """What the row looked like each time the poster signal was sent."""
    seen: list[dict] = []

    def record(sender, *, item, **kwargs):
        row = MediaItem.objects.get(pk=item.pk)
        seen.append(
            {
                "status": row.status,
                "poster": row.poster.name,
                "filmstrip": row.filmstrip.name,
                "thumbnails": row.metadata.get("thumbnails"),
            }
        )

    media_item_poster_changed.connect(record, dispatch_uid="test-poster-events")
    yield seen
    media_item_poster_changed.disconnect(dispatch_uid="test-poster-events")


def brightness(jpeg: bytes) -> float:
    return ImageStat.Stat(Image.open(io.BytesIO(jpeg)).convert("L")).mean[0]


def uploaded_clip(user, tmp_path, **kw) -> MediaItem:
    path = make_video(tmp_path / "clip.mp4", width=320, height=180, fps=25, **kw)
    return services.media_upload_create(
        owner=user, uploaded_file=SimpleUploadedFile("clip.mp4", path.read_bytes())
    )


def test_first_poster_is_written_and_pushed_before_the_filmstrip(
    tmp_path, user, pushes, poster_events, django_capture_on_commit_callbacks
):
    item = uploaded_clip(user, tmp_path, seconds=3)
    with django_capture_on_commit_callbacks(execute=True):
        done = services.media_process(media_id=item.pk)
    first, refined = poster_events
    # Step 1: ready (playable) with a poster and no filmstrip yet.
    assert first["status"] == "ready" and first["poster"] and not first["filmstrip"]
    assert first["thumbnails"] == services.THUMBS_KEYFRAME
    # Step 2: the filmstrip, and a new poster file in place of the first.
    assert refined["filmstrip"] and refined["poster"] and refined["poster"] != first["poster"]
    assert done.metadata["thumbnails"] == services.THUMBS_COMPLETE and done.filmstrip_frames == 10
    assert set(done.metadata["processing_ms"]) == {"probe", "first_images", "filmstrip"}
    # Pushed in that order: a ready card with a poster but no filmstrip, then the full one.
    cards = [html for _uid, html in pushes if f'id="media-{item.pk}"' in html]
    ready = [html for html in cards if 'data-status="ready"' in html]
    assert f"/media/{item.pk}/poster/" in ready[0] and "data-filmstrip=" not in ready[0]
    assert 'data-filmstrip-frames="10"' in ready[-1]


def test_refined_poster_replaces_the_first_and_its_file_goes(
    tmp_path, user, pushes, poster_events, django_capture_on_commit_callbacks
):
    item = uploaded_clip(user, tmp_path, seconds=3, black_seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.media_process(media_id=item.pk)
    item.refresh_from_db()
    first_name = poster_events[0]["poster"]
    assert item.poster.name == poster_events[1]["poster"] != first_name
    storage = item.poster.storage
    # The first poster's file is deleted once the refined one is committed.
    assert not storage.exists(first_name) and storage.exists(item.poster.name)
    derived = sorted(p.name.rsplit("-", 1)[-1] for p in Path(item.poster.path).parent.iterdir())
    assert derived == ["filmstrip.jpg", "poster.jpg"]
    # Picked from the filmstrip frames by score: not the black opening.
    assert brightness(item.poster.read()) > 60


def test_first_poster_skips_a_black_keyframe_when_a_later_one_shows_something(tmp_path):
    path = make_video(tmp_path / "c.mp4", seconds=3, width=320, height=180, fps=25, gop=10)
    black = make_video(
        tmp_path / "b.mp4", seconds=3, width=320, height=180, fps=25, gop=10, black_seconds=0.5
    )
    assert brightness(processing.first_keyframe_poster(str(path))) > 60
    # Keyframes at 0 s and 0.4 s are black, the one at 0.8 s is not.
    assert brightness(processing.first_keyframe_poster(str(black))) > 60


def test_job_card_is_pushed_again_with_the_poster(
    tmp_path, user, pushes, django_capture_on_commit_callbacks
):
    item = uploaded_clip(user, tmp_path, seconds=2)
    job = make_job(user)
    GenerationJob.objects.filter(pk=job.pk).update(status="succeeded", media_item=item)
    with django_capture_on_commit_callbacks(execute=True):
        services.media_process(media_id=item.pk)
    job_cards = [html for _uid, html in pushes if f'id="job-{job.pk}"' in html]
    # Once for the first poster, once for the refined one; both show the poster image.
    assert len(job_cards) == 2
    assert all(f"/media/{item.pk}/poster/" in html for html in job_cards)
    assert all('hx-swap-oob="outerHTML"' in html for html in job_cards)


def test_a_video_without_a_decodable_frame_fails_plainly(
    tmp_path, media_root, user, pushes, poster_events
):
    item = uploaded_clip(user, tmp_path, seconds=2, faststart=True)
    path = Path(item.file.path)
    data = bytearray(path.read_bytes())
    # Keep the header (so the probe succeeds), replace the coded frames with noise.
    start = data.find(b"mdat") + 64
    data[start:] = os.urandom(len(data) - start)
    path.write_bytes(bytes(data))
    assert tasks.process_media(item.pk) == "failed"
    item.refresh_from_db()
    assert item.error_message == services.PROCESSING_FAILED and not item.poster
    assert poster_events == []
    assert [p.name for p in media_root.rglob("*") if p.is_file()] == [path.name]


def test_a_ready_video_waiting_for_its_filmstrip_is_finished_by_a_redelivered_task(
    tmp_path, user, pushes, django_capture_on_commit_callbacks
):
    item = uploaded_clip(user, tmp_path, seconds=2)
    path = item.file.path
    info = processing.probe(path)
    # Step 1 only, as if the worker died before step 2.
    services.media_mark_ready(
        media_id=item.pk,
        info=info,
        thumbnails=processing.first_thumbnails(path, info),
        refine=True,
    )
    assert MediaItem.objects.filter(tasks.UNFINISHED, pk=item.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.process_media(item.pk) == "ready"
    item.refresh_from_db()
    assert item.filmstrip and item.metadata["thumbnails"] == services.THUMBS_COMPLETE
    assert tasks.process_media(item.pk) == "skipped"


def test_giving_up_on_the_filmstrip_keeps_the_item_ready(tmp_path, user, pushes):
    item = uploaded_clip(user, tmp_path, seconds=2)
    path = item.file.path
    info = processing.probe(path)
    services.media_mark_ready(
        media_id=item.pk,
        info=info,
        thumbnails=processing.first_thumbnails(path, info),
        refine=True,
    )
    done = services.media_give_up(media_id=item.pk, message=tasks.TOO_SLOW)
    assert done.status == "ready" and done.poster and not done.filmstrip
    assert done.metadata["thumbnails"] == services.THUMBS_COMPLETE
    assert not MediaItem.objects.filter(tasks.UNFINISHED, pk=item.pk).exists()


# --- the filmstrip from as few decoded frames as the keyframes allow ----------------------


def test_slice_plan_uses_keyframes_inside_slices_and_decodes_the_others():
    plan = processing.slice_plan(4.0, 4, [0.0, 1.0, 1.93, 2.87])
    assert plan == [("key", 0.0), ("key", 1.93), ("key", 2.87), ("decode", 3.0)]
    assert processing.slice_plan(2.0, 2, [0.0]) == [("key", 0.0), ("decode", 1.0)]


@pytest.mark.parametrize("gop", [10, 1000])
def test_slice_frames_come_from_their_slices_in_order(tmp_path, gop):
    # 4 s, the first 2 s black: of 10 slices (0.4 s each) the first 5 are black. With
    # gop=10 (a keyframe every 0.4 s) every slice shows a keyframe; with gop=1000 most
    # are decoded forward.
    path = make_video(
        tmp_path / "c.mp4", seconds=4, width=160, height=90, fps=25, gop=gop, black_seconds=2
    )
    frames = processing.slice_frames(str(path), 4.0, 10, box=(160, 90))
    lum = [ImageStat.Stat(f.convert("L")).mean[0] for f in frames]
    assert len(frames) == 10
    assert max(lum[:5]) < 10 and min(lum[5:]) > 40, lum


def test_slice_frames_of_a_clip_shorter_than_declared_stop_at_its_end(tmp_path):
    path = make_video(tmp_path / "c.mp4", seconds=1, width=160, height=90, fps=10)
    frames = processing.slice_frames(str(path), 3.0, 6, box=(160, 90))
    assert 1 <= len(frames) < 6


@pytest.mark.parametrize(
    "name, kw",
    [
        ("c.mp4", {"audio": True}),
        ("c.webm", {"codec": "libvpx-vp9", "audio": True}),
    ],
)
def test_first_pass_probes_like_the_full_probe(tmp_path, name, kw):
    # The first pass opens without FFmpeg's analysis decode; the facts must not change
    # (the pixel format comes from the decoded keyframe instead).
    path = str(make_video(tmp_path / name, seconds=1, width=160, height=90, fps=24, **kw))
    first = processing.probe_and_first_images(path)
    assert first.info == processing.probe(path)
    assert first.info.extra["pixel_format"] == "yuv420p" and first.thumbnails.poster_jpeg


def test_first_pass_of_a_sound_is_its_full_probe_and_waveform(tmp_path):
    from media_library.testing import make_audio

    path = str(make_audio(tmp_path / "t.wav"))
    first = processing.probe_and_first_images(path)
    assert first.info == processing.probe(path) and first.thumbnails.waveform_png
