"""Fades and volume in the export graph: the pure builder's filters (frame-exact video
fades, linear audio fades before the delay, volume), and real ffmpeg rendering them: the
picture starts black and reaches the clip, the sound starts silent and ends silent."""

from __future__ import annotations

import math
import subprocess
from array import array

import av
import pytest
from PIL import Image, ImageStat

from editor.export.graph import build_ffmpeg_args
from editor.export.runner import ffmpeg_binary
from editor.export.spec import ClipSpec, TimelineSpec, TrackSpec
from media_library.testing import make_audio


def video(path, start, in_s, out_s, *, kind="video", fade_in=0.0, fade_out=0.0):
    return ClipSpec(
        path, kind, start, in_s, out_s, src_fps=24.0, fade_in_s=fade_in, fade_out_s=fade_out
    )


def audio(path, start, in_s, out_s, *, volume=1.0, fade_in=0.0, fade_out=0.0):
    return ClipSpec(
        path,
        "audio",
        start,
        in_s,
        out_s,
        volume=volume,
        has_audio=True,
        fade_in_s=fade_in,
        fade_out_s=fade_out,
    )


def chains(spec, fps=25):
    args = build_ffmpeg_args(spec, output_path="/tmp/o.mp4", width=320, height=180, fps=fps)
    return args[args.index("-filter_complex") + 1].split(";")


def chain_with(graph, needle):
    (found,) = [c for c in graph if needle in c]
    return found


def test_video_fades_are_frame_counts_after_the_cut():
    spec = TimelineSpec((TrackSpec("video", (video("a.mp4", 0, 0, 2, fade_in=0.5, fade_out=1),)),))
    chain = chain_with(chains(spec), "[0:v]")
    # 2 s at 25 fps = 50 frames: in over frames 0..12, out over the last 25.
    assert "trim=end_frame=50,fade=t=in:s=0:n=12:color=black" in chain  # round(12.5) = 12
    assert "fade=t=out:s=25:n=25:color=black" in chain
    assert chain.index("trim=end_frame=50") < chain.index("fade=t=in")


def test_no_fade_filters_without_fades():
    spec = TimelineSpec((TrackSpec("video", (video("a.mp4", 0, 0, 2),)),))
    assert not any("fade" in c for c in chains(spec))


def test_overlay_clip_fades_too():
    spec = TimelineSpec(
        (
            TrackSpec("video", (video("top.png", 1, 0, 1, kind="image", fade_out=0.2),)),
            TrackSpec("video", (video("a.mp4", 0, 0, 3),)),
        )
    )
    top = chain_with(chains(spec), "loop=")
    assert "trim=end_frame=25,fade=t=out:s=20:n=5:color=black" in top


def test_a_fade_never_outlasts_the_clips_frames():
    # A stored fade equal to the clip, on a grid where the clip rounds to fewer frames.
    spec = TimelineSpec((TrackSpec("video", (video("a.mp4", 0, 0, 0.05, fade_in=0.05),)),))
    chain = chain_with(chains(spec, fps=30), "[0:v]")
    assert "trim=end_frame=2,fade=t=in:s=0:n=2:" in chain


def test_audio_fades_come_before_the_delay_and_volume_applies():
    spec = TimelineSpec(
        (TrackSpec("audio", (audio("m.wav", 1.5, 2, 5, volume=1.6, fade_in=0.5, fade_out=1.25),)),)
    )
    chain = chain_with(chains(spec), "[0:a]")
    assert "afade=t=in:st=0:d=0.5" in chain
    assert "afade=t=out:st=1.75:d=1.25" in chain  # 3 s clip, fade out over its last 1.25 s
    assert "volume=1.6" in chain
    assert chain.index("afade=t=out") < chain.index("adelay=delays=72000S")


# --- Through real ffmpeg ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    d = tmp_path_factory.mktemp("fades")
    white = d / "white.png"
    Image.new("RGB", (64, 36), (255, 255, 255)).save(white)
    return {"white": str(white), "tone": str(make_audio(d / "tone.wav", seconds=2.0))}


def render(spec, tmp_path):
    out = tmp_path / "out.mp4"
    args = build_ffmpeg_args(
        spec, output_path=str(out), width=64, height=36, fps=25, ffmpeg=ffmpeg_binary()
    )
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with av.open(str(out)) as container:
        luma = [
            ImageStat.Stat(f.to_image().convert("L")).mean[0] for f in container.decode(video=0)
        ]
    samples = array("f")
    with av.open(str(out)) as container:
        for f in container.decode(audio=0):
            # AAC decodes to planar float: the left channel's plane is enough (mono tone).
            plane = array("f", bytes(f.planes[0]))
            samples.extend(plane[: f.samples])
    return luma, samples


def rms(samples) -> float:
    return math.sqrt(sum(x * x for x in samples) / len(samples))


def test_real_ffmpeg_fades_picture_from_and_to_black_and_sound_from_silence(sources, tmp_path):
    spec = TimelineSpec(
        (
            TrackSpec(
                "video",
                (video(sources["white"], 0, 0, 2, kind="image", fade_in=0.4, fade_out=0.4),),
            ),
            TrackSpec("audio", (audio(sources["tone"], 0, 0, 2, fade_in=0.5, fade_out=0.5),)),
        )
    )
    luma, samples = render(spec, tmp_path)
    assert len(luma) == 50
    assert luma[0] < 20  # black at the first frame
    assert 90 < luma[5] < 170  # half way through a 10-frame fade
    assert luma[25] > 230  # full white between the fades
    assert luma[-1] < 40  # back to black at the last frame
    rate = 48000
    start, middle = rms(samples[: rate // 50]), rms(samples[rate : rate + rate // 10])
    assert start < middle * 0.15  # the first 20 ms are nearly silent
    end = rms(samples[int(1.97 * rate) : 2 * rate])
    assert end < middle * 0.15


def test_real_ffmpeg_volume_doubles_the_level(sources, tmp_path):
    def level(volume):
        spec = TimelineSpec(
            (TrackSpec("audio", (audio(sources["tone"], 0, 0.5, 1.5, volume=volume),)),)
        )
        _, samples = render(spec, tmp_path)
        return rms(samples[4800:40000])

    assert level(2.0) / level(1.0) == pytest.approx(2.0, rel=0.05)
