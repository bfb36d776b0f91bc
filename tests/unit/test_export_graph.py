"""The pure graph builder: what it asks ffmpeg to do for gaps, overlaps across tracks,
trims, mixed frame rates and sizes, held images, audio-only and muted/hidden tracks; and
(for the same cases) that real ffmpeg accepts the graph and renders exactly the length."""

from __future__ import annotations

import re
import subprocess
from fractions import Fraction

import av
import pytest

from editor.export.graph import EmptyTimelineError, build_ffmpeg_args, fps_fraction
from editor.export.runner import ffmpeg_binary
from editor.export.spec import ClipSpec, TimelineSpec, TrackSpec
from media_library.testing import make_audio, make_image_bytes, make_video


def V(path, start, in_s, out_s, *, fps=24.0, audio=False, kind="video", volume=1.0):
    return ClipSpec(path, kind, start, in_s, out_s, volume=volume, has_audio=audio, src_fps=fps)


def A(path, start, in_s, out_s, *, volume=1.0, kind="audio"):
    return ClipSpec(path, kind, start, in_s, out_s, volume=volume, has_audio=True)


def build(spec, **kw):
    opts = {"output_path": "/tmp/out.mp4", "width": 640, "height": 360, "fps": 30, **kw}
    return build_ffmpeg_args(spec, **opts)


def graph_of(args) -> list[str]:
    return args[args.index("-filter_complex") + 1].split(";")


def inputs_of(args) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == "-i"]


def test_encoding_settings():
    args = build(TimelineSpec((TrackSpec("video", (V("a.mp4", 0, 0, 2),)),)), ffmpeg="/x/ffmpeg")
    assert args[0] == "/x/ffmpeg" and args[-1] == "/tmp/out.mp4"
    joined = " ".join(args)
    for expected in (
        "-c:v libx264",
        "-profile:v high",
        "-pix_fmt yuv420p",
        "-c:a aac",
        "-ar 48000",
        "-movflags +faststart",
        "-progress pipe:1",
        "-map [vout] -map [aout]",
    ):
        assert expected in joined
    assert args.count("-filter_complex") == 1


def test_gaps_are_black_and_frame_exact():
    spec = TimelineSpec((TrackSpec("video", (V("a.mp4", 1.0, 0, 2), V("b.mp4", 4.5, 0, 1))),))
    g = graph_of(build(spec))
    # 0-1 s gap (30 frames), clip (60), 3-4.5 s gap (45), clip (30); ends at the last clip.
    gaps = [int(m) for s in g if s.startswith("color=") for m in re.findall(r"end_frame=(\d+)", s)]
    assert gaps == [30, 45]
    clips = [re.findall(r"trim=end_frame=(\d+)", s) for s in g if s.startswith("[") and ":v]" in s]
    assert [c[-1] for c in clips] == ["60", "30"]
    assert any("concat=n=4:v=1:a=0" in s for s in g)


def test_trims_use_absolute_in_and_out_points():
    spec = TimelineSpec((TrackSpec("video", (V("a.mp4", 0, 1.25, 3.5),)),))
    g = graph_of(build(spec))
    assert any(s.startswith("[0:v]trim=start=1.25:end=3.5,setpts=PTS-STARTPTS") for s in g)


def test_far_in_point_seeks_the_input_and_trims_relative_to_it():
    spec = TimelineSpec((TrackSpec("video", (V("long.mp4", 0, 600, 602),)),))
    args = build(spec)
    i = args.index("long.mp4")
    assert args[i - 5 : i] == ["-ss", "599", "-t", "4", "-i"]
    assert any("trim=start=1:end=3" in s for s in graph_of(args))


def test_mixed_frame_rates_and_sizes_are_conformed():
    spec = TimelineSpec(
        (TrackSpec("video", (V("a.mp4", 0, 0, 1, fps=60), V("b.mp4", 1, 0, 1, fps=24))),)
    )
    g = graph_of(build(spec, width=1280, height=720, fps=25))
    chains = [s for s in g if ":v]" in s]
    for chain in chains:
        assert "fps=25" in chain
        assert "scale=1280:720:force_original_aspect_ratio=decrease" in chain
        assert "pad=1280:720:(ow-iw)/2:(oh-ih)/2" in chain
    # The 60 fps source drops frames before scaling, the 24 fps one scales first.
    assert chains[0].index("fps=25") < chains[0].index("scale=")
    assert chains[1].index("scale=") < chains[1].index("fps=25")


def test_ntsc_rates():
    assert fps_fraction(29.97) == Fraction(30000, 1001)
    assert fps_fraction(23.976) == Fraction(24000, 1001)
    g = graph_of(build(TimelineSpec((TrackSpec("video", (V("a.mp4", 0, 0, 1),)),)), fps=29.97))
    assert any("fps=30000/1001" in s for s in g)


def test_overlap_across_tracks_overlays_upper_clip_for_its_time_range():
    spec = TimelineSpec(
        (
            TrackSpec("video", (V("top.mp4", 2, 0, 1),)),  # upper track
            TrackSpec("video", (V("base.mp4", 0, 0, 4),)),
        )
    )
    args = build(spec)
    g = graph_of(args)
    assert inputs_of(args) == ["base.mp4", "top.mp4"]
    overlay = next(s for s in g if "overlay=" in s)
    assert overlay.startswith("[base][o1_0]overlay=")
    assert "enable='between(t,1.983333,2.983333)'" in overlay
    top_chain = next(s for s in g if s.startswith("[1:v]"))
    assert "setpts=(N+60)/(30)/TB" in top_chain and ",pad=" not in top_chain


def test_image_is_held_for_its_duration():
    spec = TimelineSpec((TrackSpec("video", (V("still.png", 0, 0, 2.5, kind="image"),)),))
    args = build(spec)
    chain = next(s for s in graph_of(args) if s.startswith("[0:v]"))
    assert "loop=loop=-1:size=1" in chain and "trim=end_frame=75" in chain
    assert "-t" not in args[: args.index("still.png")]  # decoded once, not re-read


def test_audio_trimmed_delayed_and_mixed_without_volume_drop():
    spec = TimelineSpec(
        (
            TrackSpec("video", (V("a.mp4", 0, 0, 4, audio=True),)),
            TrackSpec("audio", (A("a.mp4", 0, 0, 4, kind="video"),)),
            TrackSpec("audio", (A("music.wav", 1.5, 2, 4, volume=0.5),)),
        )
    )
    args = build(spec)
    g = graph_of(args)
    # Video and its linked audio share one input.
    assert inputs_of(args) == ["a.mp4", "music.wav"]
    music = next(s for s in g if s.startswith("[1:a]"))
    assert "atrim=start=2:end=4" in music
    assert "volume=0.5" in music
    assert "adelay=delays=72000S:all=1" in music
    mix = next(s for s in g if "amix=" in s)
    assert "normalize=0" in mix and "inputs=3" in mix and mix.startswith("[bed]")
    assert any(s.startswith("anullsrc=r=48000:cl=stereo,atrim=end_sample=192000[bed]") for s in g)


def test_audio_only_timeline_gets_black_picture():
    spec = TimelineSpec((TrackSpec("video", ()), TrackSpec("audio", (A("music.wav", 0, 0, 3),))))
    g = graph_of(build(spec))
    assert g[0] == "color=c=black:s=640x360:r=30,trim=end_frame=90,setsar=1,format=yuv420p[base]"
    assert any(s.startswith("[0:a]") for s in g)


def test_muted_and_hidden_tracks_are_left_out():
    spec = TimelineSpec(
        (
            TrackSpec("video", (V("hidden.mp4", 0, 0, 9),), hidden=True),
            TrackSpec("video", (V("shown.mp4", 0, 0, 2),)),
            TrackSpec("audio", (A("muted.wav", 0, 0, 9),), muted=True),
            TrackSpec("audio", (A("heard.wav", 0, 0, 1),)),
        )
    )
    args = build(spec)
    assert inputs_of(args) == ["shown.mp4", "heard.wav"]
    # The length follows what is seen or heard: 2 s, not the hidden 9 s.
    assert any("anullsrc" in s and "end_sample=96000" in s for s in graph_of(args))


def test_video_clip_on_video_track_has_no_sound_of_its_own():
    spec = TimelineSpec((TrackSpec("video", (V("a.mp4", 0, 0, 2, audio=True),)),))
    g = graph_of(build(spec))
    assert not any(":a]" in s for s in g)


def test_empty_timeline_and_bad_sizes_refused():
    with pytest.raises(EmptyTimelineError):
        build(TimelineSpec((TrackSpec("video", ()),)))
    with pytest.raises(EmptyTimelineError):
        build(TimelineSpec((TrackSpec("video", (V("a.mp4", 0, 0, 2),), hidden=True),)))
    with pytest.raises(ValueError):
        build(TimelineSpec((TrackSpec("video", (V("a.mp4", 0, 0, 2),)),)), width=641)


def test_spec_round_trips_through_json():
    spec = TimelineSpec(
        (TrackSpec("video", (V("a.mp4", 1, 0, 2),), hidden=True), TrackSpec("audio", ()))
    )
    assert TimelineSpec.from_dict(spec.to_dict()) == spec


# --- the same graphs through real ffmpeg -----------------------------------------------------


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    d = tmp_path_factory.mktemp("src")
    image = d / "still.png"
    image.write_bytes(make_image_bytes(size=(90, 160)))
    return {
        "a": str(make_video(d / "a.mp4", seconds=2, width=160, height=120, fps=24, audio=True)),
        "b": str(make_video(d / "b.mp4", seconds=1.5, width=320, height=180, fps=60)),
        "tone": str(make_audio(d / "tone.wav", seconds=1.5)),
        "image": str(image),
    }


def render(spec, tmp_path, *, fps=25, width=320, height=180):
    out = tmp_path / "out.mp4"
    args = build_ffmpeg_args(
        spec,
        output_path=str(out),
        width=width,
        height=height,
        fps=fps,
        ffmpeg=ffmpeg_binary(),
        x264_preset="veryfast",
    )
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with av.open(str(out)) as container:
        v = container.streams.video[0]
        a = container.streams.audio[0]
        frames = sum(1 for _ in container.decode(v))
        return {
            "frames": frames,
            "size": (v.codec_context.width, v.codec_context.height),
            "rate": v.average_rate,
            "audio_s": float(a.duration * a.time_base),
            "sample_rate": a.codec_context.sample_rate,
            "profile": v.codec_context.profile,
        }


CASES = {
    "gaps_and_mixed_rates": lambda s: TimelineSpec(
        (TrackSpec("video", (V(s["a"], 0.5, 0.2, 1.7), V(s["b"], 2.6, 0, 1.5, fps=60))),)
    ),
    "overlap_across_tracks": lambda s: TimelineSpec(
        (
            TrackSpec("video", (V(s["image"], 0.4, 0, 1.0, kind="image"),)),
            TrackSpec("video", (V(s["b"], 1.0, 0, 1.5, fps=60),)),
            TrackSpec("video", (V(s["a"], 0, 0, 2),)),
            TrackSpec("audio", (A(s["a"], 0, 0, 2, kind="video"), A(s["tone"], 2.0, 0, 1.0))),
        )
    ),
    "audio_only": lambda s: TimelineSpec((TrackSpec("audio", (A(s["tone"], 0.3, 0.2, 1.4),)),)),
    "image_held": lambda s: TimelineSpec(
        (TrackSpec("video", (V(s["image"], 0, 0, 3.0, kind="image"),)),)
    ),
}
EXPECTED_FRAMES = {  # at 25 fps
    "gaps_and_mixed_rates": round(4.1 * 25),
    "overlap_across_tracks": round(3.0 * 25),
    "audio_only": round(1.5 * 25),
    "image_held": 75,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_real_ffmpeg_renders_exact_length(case, sources, tmp_path):
    info = render(CASES[case](sources), tmp_path)
    assert info["frames"] == EXPECTED_FRAMES[case]
    assert info["size"] == (320, 180)
    assert info["rate"] == 25
    assert info["sample_rate"] == 48000
    assert info["profile"] == "High"
    # AAC frames are 1024 samples: the audio ends within one of them of the picture.
    assert abs(info["audio_s"] - info["frames"] / 25) < 1024 / 48000 + 1e-6
