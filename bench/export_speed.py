"""Export speed: a 60 s 720p30 timeline of 6 clips (10 s each, with sound) rendered by the
editor's graph builder, side by side with a plain ffmpeg concat (demuxer) re-encode of the
same clips at the same settings. Prints medians, x realtime, and the ratio.

    python bench/export_speed.py [--repeats 3] [--preset veryfast]

Goal (issue 7): export within 1.2x of the plain concat, and faster than realtime."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from editor.export.graph import build_ffmpeg_args  # noqa: E402
from editor.export.runner import ffmpeg_binary  # noqa: E402
from editor.export.spec import ClipSpec, TimelineSpec, TrackSpec  # noqa: E402

CLIPS, CLIP_S, W, H, FPS = 6, 10.0, 1280, 720, 30


def make_sources(ffmpeg: str, folder: Path) -> list[Path]:
    paths = []
    for i in range(CLIPS):
        path = folder / f"clip{i}.mp4"
        subprocess.run(
            [ffmpeg, "-v", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r={FPS}:d={CLIP_S}",
             "-f", "lavfi", "-i", f"sine=f={220 + 110 * i}:d={CLIP_S}:sample_rate=48000",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-ac", "2", "-shortest", str(path)],
            check=True,
        )  # fmt: skip
        paths.append(path)
    return paths


def editor_args(ffmpeg, sources, out, preset):
    video, audio = [], []
    for i, path in enumerate(sources):
        clip = dict(path=str(path), start_s=i * CLIP_S, in_s=0.0, out_s=CLIP_S, has_audio=True)
        video.append(ClipSpec(media_kind="video", src_fps=FPS, **clip))
        audio.append(ClipSpec(media_kind="video", **clip))
    spec = TimelineSpec((TrackSpec("video", tuple(video)), TrackSpec("audio", tuple(audio))))
    args = build_ffmpeg_args(
        spec, output_path=str(out), width=W, height=H, fps=FPS, ffmpeg=ffmpeg, x264_preset=preset
    )
    return [a for a in args if a not in ("-progress", "pipe:1")]


def concat_args(ffmpeg, sources, out, preset, folder):
    listing = folder / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in sources))
    return [ffmpeg, "-hide_banner", "-nostdin", "-y", "-v", "error",
            "-f", "concat", "-safe", "0", "-i", str(listing),
            "-vf", f"scale={W}:{H},fps={FPS}",
            "-c:v", "libx264", "-preset", preset, "-crf", "20", "-profile:v", "high",
            "-pix_fmt", "yuv420p", "-r", str(FPS),
            "-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-ac", "2",
            "-movflags", "+faststart", str(out)]  # fmt: skip


def timed(args) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--preset", default="veryfast")
    opts = parser.parse_args()
    ffmpeg = ffmpeg_binary()
    total = CLIPS * CLIP_S
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sources = make_sources(ffmpeg, folder)
        ours, plain = [], []
        for _ in range(opts.repeats):  # alternate so both see the same machine load
            ours.append(timed(editor_args(ffmpeg, sources, folder / "ours.mp4", opts.preset)))
            plain.append(
                timed(concat_args(ffmpeg, sources, folder / "plain.mp4", opts.preset, folder))
            )
    o, p = statistics.median(ours), statistics.median(plain)
    print(f"export of {total:.0f} s {W}x{H}@{FPS} from {CLIPS} clips, x264 {opts.preset}, "
          f"{opts.repeats} runs each (median)")  # fmt: skip
    print(f"  editor graph : {o:6.2f} s  = {total / o:5.2f}x realtime")
    print(f"  plain concat : {p:6.2f} s  = {total / p:5.2f}x realtime")
    print(f"  ratio editor/concat: {o / p:.3f}  (goal <= 1.2, and > 1x realtime)")


if __name__ == "__main__":
    main()
