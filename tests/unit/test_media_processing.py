"""Probe, poster choice, filmstrip and waveform on clips made by PyAV in the test."""

import io

import pytest
from PIL import Image, ImageStat

from media_library import processing
from media_library.testing import make_audio, make_image_bytes, make_video


def brightness(jpeg: bytes) -> float:
    return ImageStat.Stat(Image.open(io.BytesIO(jpeg)).convert("L")).mean[0]


def test_probe_video_with_audio(tmp_path):
    path = make_video(tmp_path / "clip.mp4", seconds=2, width=320, height=180, fps=25, audio=True)
    info = processing.probe(str(path))
    assert info.kind == "video"
    assert info.duration_s == pytest.approx(2.0, abs=0.1)
    assert (info.width, info.height) == (320, 180)
    assert info.fps == pytest.approx(25.0)
    assert info.video_codec == "h264"
    assert info.has_audio is True and info.audio_codec == "aac"
    assert info.extra["sample_rate"] == 48000


def test_probe_silent_webm(tmp_path):
    path = make_video(tmp_path / "clip.webm", seconds=1, codec="libvpx-vp9", fps=24)
    info = processing.probe(str(path))
    assert (info.kind, info.video_codec, info.has_audio, info.audio_codec) == (
        "video",
        "vp9",
        False,
        "",
    )


def test_poster_skips_black_opening(tmp_path):
    # The first 40% of the clip is pure black: the first frame would be a useless poster.
    path = make_video(tmp_path / "fade.mp4", seconds=5, black_seconds=2, width=320, height=180)
    info = processing.probe(str(path))
    thumbs = processing.video_thumbnails(str(path), info.duration_s)
    first = processing.video_frames_at(str(path), [0.0], box=processing.POSTER_BOX)[0]
    assert processing.frame_score(first) < 1.0  # the opening really is black
    assert brightness(thumbs.poster_jpeg) > 60
    poster = Image.open(io.BytesIO(thumbs.poster_jpeg))
    assert poster.size == (320, 180) and poster.format == "JPEG"


def test_filmstrip_has_one_tile_per_frame(tmp_path):
    path = make_video(tmp_path / "clip.mp4", seconds=3, width=320, height=180, black_seconds=1)
    thumbs = processing.video_thumbnails(str(path), 3.0, frames=6)
    assert thumbs.filmstrip_frames == 6
    sprite = Image.open(io.BytesIO(thumbs.filmstrip_jpeg))
    assert sprite.height == processing.TILE_HEIGHT
    tile_w = sprite.width // 6
    assert tile_w == 160  # 16:9 at 90 px high
    # Tiles are in time order: the first third is black, the rest is not.
    tiles = [sprite.crop((i * tile_w, 0, (i + 1) * tile_w, sprite.height)) for i in range(6)]
    lum = [ImageStat.Stat(t.convert("L")).mean[0] for t in tiles]
    assert lum[0] < 10 and lum[1] < 10 and min(lum[2:]) > 40


def test_frames_on_long_gop_clip_are_in_order(tmp_path):
    # One keyframe for the whole clip: frames must still come from the right times.
    path = make_video(tmp_path / "gop.mp4", seconds=4, fps=10, gop=1000, black_seconds=2)
    frames = processing.video_frames_at(str(path), [0.5, 1.5, 2.5, 3.5], box=(160, 90))
    lum = [ImageStat.Stat(f.convert("L")).mean[0] for f in frames]
    assert len(frames) == 4 and lum[0] < 10 and lum[1] < 10 and lum[2] > 40 and lum[3] > 40


def test_frames_beyond_the_end_use_the_last_frame_once(tmp_path):
    path = make_video(tmp_path / "short.mp4", seconds=1, fps=10)
    frames = processing.video_frames_at(str(path), [0.5, 5.0, 9.0], box=(160, 90))
    assert len(frames) == 2


def test_frame_score_prefers_detail_over_flat(tmp_path):
    black = Image.new("RGB", (64, 36))
    white = Image.new("RGB", (64, 36), (255, 255, 255))
    grey = Image.new("RGB", (64, 36), (128, 128, 128))
    busy = Image.open(io.BytesIO(make_image_bytes("PNG", size=(64, 36))))
    assert processing.frame_score(busy) > 10
    for flat in (black, white, grey):
        assert processing.frame_score(flat) < 1


@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".flac", ".ogg", ".m4a"])
def test_audio_probe_and_waveform(tmp_path, suffix):
    path = make_audio(tmp_path / f"tone{suffix}", seconds=2)
    info = processing.probe(str(path))
    assert info.kind == "audio" and info.has_audio
    assert info.duration_s == pytest.approx(2.0, abs=0.15)
    peaks = processing.audio_peaks(str(path), columns=100)
    assert len(peaks) == 100
    # The tone swells: the end is louder than the start.
    assert max(peaks[80:]) > max(peaks[5:20]) * 1.5
    thumbs = processing.thumbnails_for(str(path), info)
    wave = Image.open(io.BytesIO(thumbs.waveform_png))
    assert wave.size == processing.WAVEFORM_SIZE and thumbs.poster_jpeg is None


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_image_probe_and_poster(tmp_path, fmt):
    path = tmp_path / f"img.{fmt.lower()}"
    path.write_bytes(make_image_bytes(fmt, size=(1280, 720)))
    info = processing.probe(str(path))
    assert (info.kind, info.width, info.height) == ("image", 1280, 720)
    thumbs = processing.thumbnails_for(str(path), info)
    poster = Image.open(io.BytesIO(thumbs.poster_jpeg))
    assert poster.size == (640, 360)


def test_transparent_png_poster_is_flattened(tmp_path):
    path = tmp_path / "alpha.png"
    Image.new("RGBA", (100, 50), (255, 0, 0, 0)).save(path)
    poster = Image.open(io.BytesIO(processing.image_poster(str(path)).poster_jpeg))
    assert poster.mode == "RGB"
    assert poster.getpixel((10, 10))[0] < 60  # the panel's dark background, not red


def test_sample_times_are_slice_centres():
    assert processing.sample_times(10.0, 5) == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert processing.sample_times(None, 5) == [0.0]
