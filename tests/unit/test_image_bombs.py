"""Decompression bombs: tiny files that declare huge canvases or many frames are refused
from their headers in the web process, fast and in bounded memory, with nothing stored;
ordinary images and animations still go through, and the worker's full decode still
catches damage the header walk cannot see."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from media_library import processing, services, sniffing
from media_library.models import MediaItem
from media_library.sniffing import MediaRejected, sniff
from media_library.testing import make_image_bytes
from tests.hostile_corpus import (
    animated_gif_bomb,
    animated_webp_bomb,
    apng_declaring_frames,
    small_animated_gif,
)

CAP = 50_000_000


def sniff_measured(data: bytes, **caps):
    """sniff() on `data`, returning (result or exception, seconds, peak traced bytes)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome = sniff(io.BytesIO(data), max_image_pixels=CAP, **caps)
    except MediaRejected as exc:
        outcome = exc
    finally:
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return outcome, elapsed, peak


@pytest.mark.parametrize("frames", [100, 400])
def test_tiny_gif_with_huge_canvas_and_many_frames_is_refused_fast(frames):
    data = animated_gif_bomb(7000, 7000, frames)
    assert len(data) < 10_000  # it really is a tiny file
    outcome, elapsed, peak = sniff_measured(data)
    assert isinstance(outcome, MediaRejected), outcome
    assert outcome.code == "animation_too_large"
    assert "too large" in outcome.message and outcome.message.endswith(".")
    # Decoding it took ~10 s and +800 MB; the header walk takes milliseconds and a few kB.
    assert elapsed < 1.0
    assert peak < 2 * 1024 * 1024


# tracemalloc sees Python's allocations only, not Pillow's C buffers: the process's peak
# RSS, in a fresh interpreter so earlier tests' peaks do not hide growth, sees both.
RSS_PROBE = """
import io, json, resource, sys, time
from media_library.sniffing import MediaRejected, sniff
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    sniff(io.BytesIO(data), max_image_pixels=50_000_000)
    code = None
except MediaRejected as exc:
    code = exc.code
elapsed = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "s": elapsed, "rss_kb": after - before}))
"""


@pytest.mark.parametrize("kind", ["gif", "webp"])
def test_bomb_refusal_grows_the_process_peak_rss_by_almost_nothing(kind, tmp_path):
    data = (
        animated_gif_bomb(7000, 7000, 100) if kind == "gif" else animated_webp_bomb(7000, 7000, 100)
    )
    path = tmp_path / f"bomb.{kind}"
    path.write_bytes(data)
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["code"] == "animation_too_large"
    assert result["s"] < 1.0
    # Decoding would need 49 MP per frame (~200 MB for WebP's two RGBA canvases).
    assert result["rss_kb"] < 10 * 1024, result


def test_gif_with_more_frames_than_the_cap_is_refused_before_walking_them_all():
    data = animated_gif_bomb(4, 4, 50_000)
    outcome, elapsed, peak = sniff_measured(data, max_image_frames=1000)
    assert isinstance(outcome, MediaRejected)
    assert outcome.code == "animation_too_many_frames"
    assert "1,000 frames" in outcome.message
    assert elapsed < 1.0 and peak < 2 * 1024 * 1024


def test_gif_frame_overhanging_a_small_canvas_counts_at_its_full_extent():
    # Pillow grows the canvas to fit a frame that overhangs it: a 1x1 screen with one
    # 60000x60000 frame would be a 3.6 gigapixel decode.
    data = animated_gif_bomb(1, 1, 1, frame_size=(60000, 60000))
    outcome, _elapsed, peak = sniff_measured(data)
    assert isinstance(outcome, MediaRejected)
    assert outcome.code == "image_too_large"
    assert peak < 2 * 1024 * 1024


def test_apng_declaring_a_million_frames_is_refused_from_its_header():
    outcome, elapsed, _peak = sniff_measured(apng_declaring_frames(1_000_000))
    assert isinstance(outcome, MediaRejected)
    assert outcome.code == "animation_too_many_frames"
    assert elapsed < 1.0


def test_animated_webp_bomb_is_refused_without_pillow_allocating_its_canvas():
    data = animated_webp_bomb(7000, 7000, 100)
    outcome, elapsed, peak = sniff_measured(data)
    assert isinstance(outcome, MediaRejected), outcome
    assert outcome.code == "animation_too_large"
    # Pillow's WebP decoder would allocate 2 x 7000 x 7000 x 4 bytes at open.
    assert elapsed < 1.0 and peak < 2 * 1024 * 1024


def test_web_sniff_never_decodes_pixels(monkeypatch):
    """The full decode is the worker's (processing.probe): sniffing must not load any
    image, however small, or the caps above would be the only thing bounding web CPU."""

    def refuse_load(self, *args, **kwargs):
        raise AssertionError("sniff decoded pixel data")

    files = [make_image_bytes(fmt) for fmt in ("PNG", "JPEG", "GIF", "WEBP")]
    files.append(small_animated_gif())
    monkeypatch.setattr(Image.Image, "load", refuse_load)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", refuse_load)
    for data in files:
        assert sniff(io.BytesIO(data), max_image_pixels=CAP).kind == "image"


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_ordinary_images_pass(fmt, mime):
    assert sniff(io.BytesIO(make_image_bytes(fmt, size=(320, 200))), max_image_pixels=CAP) == (
        sniffing.Sniffed(kind="image", mime_type=mime, extension=sniffing.IMAGE_FORMATS[fmt][1])
    )


def test_animated_webp_and_apng_pass():
    frames = [Image.new("RGB", (64, 48), (i * 20, 0, 0)) for i in range(8)]
    for fmt, mime in (("WEBP", "image/webp"), ("PNG", "image/png")):
        buf = io.BytesIO()
        frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=80)
        assert sniff(io.BytesIO(buf.getvalue()), max_image_pixels=CAP).mime_type == mime


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_images_cut_short_are_refused_as_truncated(fmt):
    if fmt == "GIF":
        data = small_animated_gif()
    else:
        data = make_image_bytes(fmt, size=(320, 200))
    with pytest.raises(MediaRejected) as err:
        sniff(io.BytesIO(data[: len(data) * 2 // 3]), max_image_pixels=CAP)
    assert err.value.code == "truncated"


def test_frames_times_pixels_cap_is_a_setting():
    data = small_animated_gif(frames=10, size=(100, 100))  # 100,000 frame-pixels
    assert sniff(io.BytesIO(data), max_image_pixels=CAP, max_animation_pixels=100_000)
    with pytest.raises(MediaRejected) as err:
        sniff(io.BytesIO(data), max_image_pixels=CAP, max_animation_pixels=99_999)
    assert err.value.code == "animation_too_large"


def test_pillow_bomb_guard_is_set_to_our_cap(settings):
    # apps.ready sets it: every process that decodes (the worker above all) uses our cap,
    # not Pillow's default of ~89 megapixels.
    assert Image.MAX_IMAGE_PIXELS == settings.MEDIA_MAX_IMAGE_PIXELS


# --- through the upload service ------------------------------------------------------------


@pytest.mark.django_db
def test_upload_of_a_gif_bomb_is_refused_and_nothing_is_stored(
    user, media_root, django_capture_on_commit_callbacks
):
    uploaded = SimpleUploadedFile("party.gif", animated_gif_bomb(7000, 7000, 100), "image/gif")
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(MediaRejected) as err:
            services.media_upload_create(owner=user, uploaded_file=uploaded)
    assert time.perf_counter() - started < 1.0
    assert err.value.code == "animation_too_large"
    assert MediaItem.objects.count() == 0
    assert [p for p in media_root.rglob("*") if p.is_file()] == []
    assert callbacks == []


@pytest.mark.django_db
def test_small_animated_gif_is_stored_and_the_worker_probes_every_frame(
    user, media_root, django_capture_on_commit_callbacks, monkeypatch
):
    queued: list[int] = []
    monkeypatch.setattr(
        "media_library.services._enqueue_processing", lambda media_id: queued.append(media_id)
    )
    monkeypatch.setattr("project.live.broadcast", lambda uid, html: True)
    uploaded = SimpleUploadedFile("dance.gif", small_animated_gif(frames=12), "image/gif")
    with django_capture_on_commit_callbacks(execute=True):
        item = services.media_upload_create(owner=user, uploaded_file=uploaded)
    assert (item.kind, item.mime_type, queued) == ("image", "image/gif", [item.pk])
    done = services.media_process(media_id=item.pk)
    assert done.status == MediaItem.Status.READY
    assert (done.width, done.height) == (64, 48)
    assert done.metadata["probe"]["frames"] == 12
    assert done.poster


def test_worker_decode_catches_damage_inside_the_compressed_data(tmp_path):
    """A structurally complete GIF whose last frame's LZW data is garbage passes the web
    check (no decoding there) and is caught by the worker's full decode."""
    data = bytearray(animated_gif_bomb(4, 4, 3))
    last_pixels = data.rfind(b"\x02\x02\x44\x01\x00")  # code size, length 2, data, end
    data[last_pixels + 2 : last_pixels + 4] = b"\xff\xff"
    path = tmp_path / "bad.gif"
    path.write_bytes(bytes(data))
    assert sniff(str(path), max_image_pixels=CAP).kind == "image"
    with pytest.raises(OSError):
        processing.probe(str(path))


def test_hostile_corpus_bomb_bytes_are_what_they_claim():
    """The crafted bomb really declares what the tests above say (so they test the cap,
    not a parse failure): a 7000x7000 canvas and 100 frames, as Pillow reads it."""
    with Image.open(io.BytesIO(animated_gif_bomb(7000, 7000, 100))) as im:
        assert im.size == (7000, 7000)
        assert im.n_frames == 100  # cheap in Pillow 13 (no decode), unbounded though
    assert struct.unpack("<HH", animated_gif_bomb(7000, 7000, 1)[6:10]) == (7000, 7000)
