"""Upload -> real Celery worker (queue media) -> ready, with the card pushed live."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from media_library import services
from media_library.models import MediaItem
from media_library.testing import make_audio, make_video
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cleanup_media():
    """The worker shares MEDIA_ROOT with this process (settings default); remove what the
    test stored so runs do not pile files up."""
    yield
    for item in MediaItem.objects.all():
        for f in (item.file, item.poster, item.filmstrip, item.waveform):
            if f:
                f.storage.delete(f.name)


def test_upload_is_processed_by_worker_and_pushed_to_every_tab(
    celery_worker, live_client, client, user, other_user, tmp_path, cleanup_media
):
    tab_a, tab_b = live_client(user), live_client(user)
    stranger = live_client(other_user)
    client.force_login(user)
    data = make_video(
        tmp_path / "x.mp4", seconds=3, width=320, height=180, fps=25, audio=True, black_seconds=1
    )
    response = client.post(
        reverse("media_library:upload"),
        {"file": SimpleUploadedFile("Beach day.mp4", data.read_bytes())},
    )
    assert response.status_code == 201
    item = MediaItem.objects.get(owner=user)
    dom = f'id="media-{item.pk}"'

    for tab in (tab_a, tab_b):
        inserted = tab.wait_for(lambda m: dom in m and "afterbegin:#media-grid" in m)
        assert 'data-status="processing"' in inserted and "Beach day.mp4" in inserted
        ready = tab.wait_for(lambda m: dom in m and 'data-status="ready"' in m, timeout=60)
        assert 'hx-swap-oob="outerHTML"' in ready and "0:03" in ready
        # Ready with its first (keyframe) poster; the filmstrip follows in a second push.
        assert f"/media/{item.pk}/poster/" in ready
        full = tab.wait_for(lambda m: dom in m and 'data-filmstrip-frames="10"' in m, timeout=60)
        assert f"/media/{item.pk}/poster/" in full

    item.refresh_from_db()
    assert item.status == "ready"
    assert (item.width, item.height, item.fps, item.video_codec, item.audio_codec) == (
        320,
        180,
        25.0,
        "h264",
        "aac",
    )
    assert item.duration_s == pytest.approx(3.0, abs=0.1) and item.has_audio
    poster = client.get(reverse("media_library:derived", args=[item.pk, "poster"]))
    assert poster.status_code == 200 and poster["Content-Type"] == "image/jpeg"
    assert not any(dom in m for m in stranger.messages)


def test_generated_file_registered_from_server_code_reaches_the_panel(
    celery_worker, live_client, user, tmp_path, cleanup_media
):
    """What generation's finalize and the editor's export call."""
    tab = live_client(user)
    path = make_audio(tmp_path / "voice.wav", seconds=2)
    item = services.media_create_from_file(
        owner=user,
        path_or_file=path,
        title="Voice-over",
        source="generated",
        metadata={"prompt": "calm narrator", "model": "tts-local", "cost_usd": 0},
    )
    dom = f'id="media-{item.pk}"'
    assert "AI · tts-local" in tab.wait_for(lambda m: dom in m and "afterbegin" in m)
    tab.wait_for(lambda m: dom in m and 'data-status="ready"' in m, timeout=60)
    item.refresh_from_db()
    assert item.waveform and item.kind == "audio" and item.duration_s == pytest.approx(2.0, abs=0.1)


def test_unreadable_file_fails_with_reason_live(celery_worker, live_client, user, cleanup_media):
    tab = live_client(user)
    # A row whose stored bytes are not media (as if the file were damaged on disk after the
    # upload was accepted): the worker must fail it with a reason, pushed live.
    item = MediaItem(owner=user, kind="video", title="broken", mime_type="video/mp4", size_bytes=10)
    item.file.save("media.mp4", SimpleUploadedFile("x", b"\0" * 4096), save=False)
    item.save()
    from media_library.tasks import process_media

    process_media.delay(item.pk)
    failed = tab.wait_for(
        lambda m: f'id="media-{item.pk}"' in m and 'data-status="failed"' in m, timeout=60
    )
    assert services.PROCESSING_FAILED.split(",")[0] in failed.replace("&#x27;", "'")
    wait_until(
        lambda: MediaItem.objects.get(pk=item.pk).status == "failed",
        timeout=10,
        what="failed state",
    )
