"""Creating, processing, renaming and deleting media; every bad input leaves nothing behind."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from media_library import services, tasks
from media_library.models import MediaItem
from media_library.sniffing import NOT_MEDIA, TRUNCATED, UNSUPPORTED, clean_title
from media_library.testing import make_audio, make_image_bytes, make_video

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def pushes(monkeypatch):
    """Live pushes and enqueued tasks, recorded instead of sent."""
    sent: list[tuple[int, str]] = []
    queued: list[int] = []
    monkeypatch.setattr(
        "project.live.broadcast", lambda uid, html: sent.append((uid, html)) or True
    )
    monkeypatch.setattr(tasks.process_media, "delay", lambda media_id: queued.append(media_id))
    return sent, queued


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def clip_bytes(tmp_path, name="clip.mp4", **kw) -> bytes:
    return make_video(tmp_path / name, **kw).read_bytes()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge canvas: the classic decompression bomb shape."""

    def chunk(kind, body):
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


# --- bad input ------------------------------------------------------------------------------


def _bad_inputs(tmp_path):
    video = clip_bytes(tmp_path, seconds=2, faststart=True, audio=True)
    tail_index = clip_bytes(tmp_path, "tail.mp4", seconds=2)
    png = make_image_bytes("PNG", size=(200, 100))
    bmp = make_image_bytes("BMP")
    return {
        "text named .mp4": (
            upload("holiday.mp4", b"hello, not a video\n" * 50, "video/mp4"),
            NOT_MEDIA,
        ),
        "html named .png": (
            upload("x.png", b"<html><script>alert(1)</script></html>", "image/png"),
            NOT_MEDIA,
        ),
        "zero bytes": (upload("empty.mp4", b"", "video/mp4"), services.EMPTY),
        "truncated mp4 (index first)": (
            upload("cut.mp4", video[: len(video) * 6 // 10]),
            TRUNCATED,
        ),
        "truncated mp4 (index last)": (
            upload("cut2.mp4", tail_index[: len(tail_index) // 2]),
            TRUNCATED,
        ),
        "truncated png": (upload("cut.png", png[: len(png) // 2], "image/png"), TRUNCATED),
        "bmp image": (upload("a.bmp", bmp, "image/bmp"), UNSUPPORTED),
        "decompression bomb": (
            upload("bomb.png", png_header_only(30000, 30000), "image/png"),
            "too large",
        ),
        "random bytes": (upload("noise.mp3", bytes(range(256)) * 64, "audio/mpeg"), NOT_MEDIA),
    }


@pytest.mark.parametrize(
    "case",
    [
        "text named .mp4",
        "html named .png",
        "zero bytes",
        "truncated mp4 (index first)",
        "truncated mp4 (index last)",
        "truncated png",
        "bmp image",
        "decompression bomb",
        "random bytes",
    ],
)
def test_bad_upload_rejected_and_nothing_stored(
    case, tmp_path, media_root, user, pushes, django_capture_on_commit_callbacks
):
    uploaded, message = _bad_inputs(tmp_path)[case]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(services.MediaRejected) as err:
            services.media_upload_create(owner=user, uploaded_file=uploaded)
    assert message in err.value.message
    assert MediaItem.objects.count() == 0
    assert stored_files(media_root) == []
    assert callbacks == [] and pushes == ([], [])


def test_over_size_cap_rejected_before_sniffing(settings, media_root, user, tmp_path):
    settings.MEDIA_MAX_UPLOAD_MB = 1
    big = upload("big.mp4", b"\0" * (1024 * 1024 + 1))
    with pytest.raises(services.MediaRejected, match="too large: the limit is 1 MB"):
        services.media_upload_create(owner=user, uploaded_file=big)
    assert MediaItem.objects.count() == 0 and stored_files(media_root) == []


def test_image_over_pixel_cap_rejected(settings, media_root, user):
    settings.MEDIA_MAX_IMAGE_PIXELS = 1_000_000
    data = make_image_bytes("PNG", size=(1500, 1000))
    with pytest.raises(services.MediaRejected, match="at most 1 megapixels"):
        services.media_upload_create(owner=user, uploaded_file=upload("wide.png", data))
    assert MediaItem.objects.count() == 0 and stored_files(media_root) == []
    # Just under the cap is fine.
    ok = make_image_bytes("PNG", size=(1000, 1000))
    assert (
        services.media_upload_create(owner=user, uploaded_file=upload("ok.png", ok)).kind == "image"
    )


def test_failed_save_leaves_no_file(monkeypatch, media_root, user, tmp_path):
    def boom(self, *a, **kw):
        raise RuntimeError("database went away")

    monkeypatch.setattr(MediaItem, "save", boom)
    with pytest.raises(RuntimeError):
        services.media_upload_create(
            owner=user, uploaded_file=upload("a.mp4", clip_bytes(tmp_path))
        )
    assert stored_files(media_root) == []


# --- good input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,maker,kind,mime,ext",
    [
        ("a.mp4", lambda p: make_video(p / "a.mp4", audio=True), "video", "video/mp4", "mp4"),
        ("a.mov", lambda p: make_video(p / "a.mov"), "video", "video/quicktime", "mov"),
        (
            "a.webm",
            lambda p: make_video(p / "a.webm", codec="libvpx-vp9"),
            "video",
            "video/webm",
            "webm",
        ),
        ("a.mkv", lambda p: make_video(p / "a.mkv"), "video", "video/x-matroska", "mkv"),
        ("a.mp3", lambda p: make_audio(p / "a.mp3"), "audio", "audio/mpeg", "mp3"),
        ("a.wav", lambda p: make_audio(p / "a.wav"), "audio", "audio/wav", "wav"),
        ("a.m4a", lambda p: make_audio(p / "a.m4a"), "audio", "audio/mp4", "m4a"),
        ("a.ogg", lambda p: make_audio(p / "a.ogg"), "audio", "audio/ogg", "ogg"),
        ("a.flac", lambda p: make_audio(p / "a.flac"), "audio", "audio/flac", "flac"),
    ],
)
def test_accepted_types_by_content(name, maker, kind, mime, ext, tmp_path, user, pushes):
    data = maker(tmp_path).read_bytes()
    # The name and content type lie; only the bytes count.
    item = services.media_upload_create(
        owner=user, uploaded_file=upload("renamed.txt", data, "text/plain")
    )
    assert (item.kind, item.mime_type, item.status) == (kind, mime, "processing")
    assert item.file.name.endswith(f".{ext}") and item.size_bytes == len(data)


@pytest.mark.parametrize(
    "fmt,mime",
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_accepted_images(fmt, mime, user, pushes):
    item = services.media_upload_create(
        owner=user, uploaded_file=upload("pic", make_image_bytes(fmt))
    )
    assert (item.kind, item.mime_type) == ("image", mime)


def test_hostile_name_gets_generated_storage_name_and_clean_title(
    tmp_path, media_root, user, pushes
):
    name = "../../etc/pass\x00wd\x1b[31m\u202e.mp4"
    item = services.media_upload_create(
        owner=user, uploaded_file=upload(name, clip_bytes(tmp_path))
    )
    assert item.title == "passwd[31m.mp4"
    stored = Path(item.file.path)
    assert stored.is_relative_to(media_root)
    assert stored.parent == media_root / f"u{user.id}"
    assert "passwd" not in stored.name and stored.suffix == ".mp4"


def test_clean_title():
    assert clean_title("C:\\Users\\me\\Clip 1.MOV") == "Clip 1.MOV"
    assert clean_title("  a\tb\n c  ") == "a b c"
    assert clean_title("\x00\x01") == "Untitled"
    assert clean_title("..") == "Untitled"
    assert len(clean_title("x" * 500)) == 200


def test_upload_enqueues_processing_and_pushes_card_after_commit(
    tmp_path, user, pushes, django_capture_on_commit_callbacks
):
    sent, queued = pushes
    with django_capture_on_commit_callbacks(execute=True):
        item = services.media_upload_create(
            owner=user, uploaded_file=upload("beach.mp4", clip_bytes(tmp_path))
        )
        assert sent == [] and queued == []  # nothing leaves before the commit
    assert queued == [item.pk]
    [(uid, html)] = sent
    assert uid == user.id
    assert 'hx-swap-oob="afterbegin:#media-grid"' in html
    assert f'id="media-{item.pk}"' in html and "data-live-new" in html and "Processing" in html


def test_create_from_file_for_generation(
    tmp_path, user, pushes, django_capture_on_commit_callbacks
):
    path = make_video(tmp_path / "gen.mp4", seconds=1)
    meta = {
        "prompt": "a red fox in snow",
        "model": "local-procedural",
        "job_id": 7,
        "cost_usd": "0.00",
    }
    with django_capture_on_commit_callbacks(execute=True):
        item = services.media_create_from_file(
            owner=user,
            path_or_file=path,
            title="a red fox",
            source=MediaItem.Source.GENERATED,
            metadata=meta,
        )
    assert item.source == "generated" and item.metadata == meta
    assert path.exists()  # the caller's file is copied, not moved
    assert pushes[1] == [item.pk]
    assert "AI · local-procedural" in pushes[0][0][1]
    # A file object works too.
    with open(path, "rb") as fh:
        again = services.media_create_from_file(
            owner=user, path_or_file=fh, title="x", source="export"
        )
    assert again.source == "export"


def test_create_from_file_rejects_bad_input_and_unknown_source(tmp_path, media_root, user):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"nope" * 100)
    with pytest.raises(services.MediaRejected):
        services.media_create_from_file(
            owner=user, path_or_file=junk, title="j", source="generated"
        )
    with pytest.raises(ValueError):
        services.media_create_from_file(owner=user, path_or_file=junk, title="j", source="stolen")
    assert MediaItem.objects.count() == 0 and stored_files(media_root) == []


# --- processing and transitions -----------------------------------------------------------


def test_process_video_marks_ready_with_metadata(
    tmp_path, user, pushes, django_capture_on_commit_callbacks
):
    data = clip_bytes(
        tmp_path, seconds=3, width=320, height=180, fps=25, audio=True, black_seconds=1
    )
    item = services.media_upload_create(owner=user, uploaded_file=upload("c.mp4", data))
    with django_capture_on_commit_callbacks(execute=True):
        done = services.media_process(media_id=item.pk)
    assert done.status == "ready"
    item.refresh_from_db()
    assert item.duration_s == pytest.approx(3.0, abs=0.1)
    assert (
        item.width,
        item.height,
        item.fps,
        item.video_codec,
        item.audio_codec,
        item.has_audio,
    ) == (
        320,
        180,
        25.0,
        "h264",
        "aac",
        True,
    )
    assert item.filmstrip_frames == 10 and item.poster and item.filmstrip and not item.waveform
    assert Image.open(item.poster.path).size == (320, 180)
    assert item.metadata["probe"]["format"].startswith("mov,mp4")
    update = pushes[0][-1][1]
    assert f'id="media-{item.pk}"' in update and 'hx-swap-oob="outerHTML"' in update
    assert 'data-status="ready"' in update and "0:03" in update
    # Processing twice is a no-op (a redelivered task).
    assert services.media_process(media_id=item.pk) is None


def test_process_audio_and_image(tmp_path, user, pushes):
    audio = services.media_upload_create(
        owner=user, uploaded_file=upload("t.wav", make_audio(tmp_path / "t.wav").read_bytes())
    )
    image = services.media_upload_create(
        owner=user, uploaded_file=upload("p.jpg", make_image_bytes("JPEG", size=(800, 600)))
    )
    services.media_process(media_id=audio.pk)
    services.media_process(media_id=image.pk)
    audio.refresh_from_db()
    image.refresh_from_db()
    assert (
        audio.status == "ready"
        and audio.waveform
        and not audio.poster
        and audio.duration_s == pytest.approx(1.0, abs=0.1)
    )
    assert image.status == "ready" and image.poster and (image.width, image.height) == (800, 600)


def test_transitions_are_guarded(tmp_path, user, pushes):
    item = services.media_upload_create(
        owner=user, uploaded_file=upload("c.mp4", clip_bytes(tmp_path))
    )
    failed = services.media_mark_failed(media_id=item.pk, message="nope")
    assert failed.status == "failed" and failed.error_message == "nope"
    with pytest.raises(services.IllegalTransition):
        services.media_mark_failed(media_id=item.pk, message="again")
    with pytest.raises(services.IllegalTransition):
        services.media_mark_ready(media_id=item.pk, info=None, thumbnails=None)
    assert services.media_mark_failed(media_id=999999, message="gone") is None


def test_task_time_limit_marks_failed(monkeypatch, tmp_path, user, pushes):
    item = services.media_upload_create(
        owner=user, uploaded_file=upload("c.mp4", clip_bytes(tmp_path))
    )

    def slow(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "media_process", slow)
    assert tasks.process_media(item.pk) == "failed"
    item.refresh_from_db()
    assert item.status == "failed" and "too long" in item.error_message


def test_unreadable_file_marks_failed(monkeypatch, tmp_path, user, pushes):
    item = services.media_upload_create(
        owner=user, uploaded_file=upload("c.mp4", clip_bytes(tmp_path))
    )
    Path(item.file.path).write_bytes(b"corrupted after upload")
    assert tasks.process_media(item.pk) == "failed"
    item.refresh_from_db()
    assert item.error_message == services.PROCESSING_FAILED


def test_rename_and_delete(tmp_path, media_root, user, pushes, django_capture_on_commit_callbacks):
    item = services.media_upload_create(
        owner=user, uploaded_file=upload("c.mp4", clip_bytes(tmp_path))
    )
    # Committed: the refined poster's commit deletes the first (keyframe) poster's file.
    with django_capture_on_commit_callbacks(execute=True):
        services.media_process(media_id=item.pk)
    item.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.media_rename(item=item, title="  Sunset/../take 2\x07 ")
    assert MediaItem.objects.get(pk=item.pk).title == "take 2"
    with pytest.raises(services.MediaRejected):
        services.media_rename(item=item, title=" \x00 ")
    assert len(stored_files(media_root)) == 3  # file, poster, filmstrip
    pk = item.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.media_delete(item=item)
    assert not MediaItem.objects.filter(pk=pk).exists()
    assert stored_files(media_root) == []
    assert f'<div id="media-{pk}" hx-swap-oob="delete">' in pushes[0][-1][1]


def test_requeue_stuck(monkeypatch, tmp_path, user, pushes):
    from datetime import timedelta

    from django.utils import timezone

    item = services.media_upload_create(
        owner=user, uploaded_file=upload("c.mp4", clip_bytes(tmp_path))
    )
    fresh = services.media_upload_create(
        owner=user, uploaded_file=upload("d.mp4", clip_bytes(tmp_path))
    )
    MediaItem.objects.filter(pk=item.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    pushes[1].clear()
    assert tasks.requeue_stuck() == 1
    assert pushes[1] == [item.pk] and fresh.pk not in pushes[1]


def test_sniff_keeps_file_object_open(tmp_path, user, pushes):
    data = io.BytesIO(clip_bytes(tmp_path))
    services.media_create_from_file(owner=user, path_or_file=data, title="mem", source="export")
    assert not data.closed
