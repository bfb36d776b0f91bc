"""Probe + poster + filmstrip of a 10 s 1080p H.264 clip: PyAV in-process (what the
worker does) against the same work done with ffmpeg/ffprobe command-line subprocesses.

    python bench/media_probe.py [--runs 5] [--frames 10]

Two clips are generated here (x264 `superfast`: B-frames and CABAC like real footage,
with film-grain noise so the bitrate is that of real footage, not of a flat pattern):
one with a 2 s GOP (cameras, streaming), one with x264's default keyint 250. The moving
test pattern makes x264 add scene-cut keyframes about every second to both (the keyframe
times are printed), which the worker's filmstrip uses (a slice holding a keyframe shows
it; see processing.slice_frames), so these clips favour the PyAV route; for a clip whose
only keyframes are the GOP's see bench/poster_latency.py.
Both routes produce the same outputs: probe facts, 10 frames at the same times scaled to
fit 640x360, the best-scored frame as the JPEG poster, and a JPEG filmstrip sprite; the
scoring, sprite and JPEG encoding are shared code, so the difference is decoding and
process overhead. Two subprocess baselines are printed:
  - seek-per-frame: one `ffmpeg -ss T -i clip -frames:v 1` per frame (the usual recipe);
  - single pass: one `ffmpeg -i clip -vf fps=...,scale` decoding the whole clip once.
The ratio is taken against the FASTER of the two.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from media_library import processing  # noqa: E402
from media_library.testing import make_video  # noqa: E402


def ffmpeg_exe() -> str:
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe_subprocess(ffmpeg: str, path: str) -> dict:
    """ffprobe if installed, else `ffmpeg -i` (prints the stream info and exits)."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe:
        out = subprocess.run(
            [
                ffprobe,
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                path,
            ],
            capture_output=True,
            check=True,
        ).stdout
        return json.loads(out)
    err = subprocess.run([ffmpeg, "-hide_banner", "-i", path], capture_output=True).stderr.decode()
    info = {}
    for line in err.splitlines():
        line = line.strip()
        if line.startswith("Duration:"):
            h, m, s = line.split(",")[0].split()[1].split(":")
            info["duration"] = int(h) * 3600 + int(m) * 60 + float(s)
        elif "Video:" in line:
            info["video"] = line
            size = [p for p in line.split(",") if "x" in p and p.strip()[0].isdigit()][0]
            info["width"], info["height"] = (int(v) for v in size.strip().split()[0].split("x"))
        elif "Audio:" in line:
            info["audio"] = line
    return info


def frames_seek_per_frame(
    ffmpeg: str, path: str, times: list[float], size: tuple[int, int]
) -> list[Image.Image]:
    images = []
    for t in times:
        raw = subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-ss",
                f"{t:.3f}",
                "-i",
                path,
                "-frames:v",
                "1",
                "-vf",
                f"scale={size[0]}:{size[1]}:flags=area",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgb24",
                "-",
            ],
            capture_output=True,
            check=True,
        ).stdout
        images.append(Image.frombytes("RGB", size, raw[: size[0] * size[1] * 3]))
    return images


def frames_single_pass(
    ffmpeg: str, path: str, duration: float, count: int, size: tuple[int, int]
) -> list[Image.Image]:
    # fps=N/duration with a half-slice offset picks the same slice centres.
    raw = subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-i",
            path,
            "-vf",
            f"fps={count}/{duration}:start_time={duration / count / 2},scale={size[0]}:{size[1]}:flags=area",
            "-frames:v",
            str(count),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    frame = size[0] * size[1] * 3
    return [
        Image.frombytes("RGB", size, raw[i * frame : (i + 1) * frame])
        for i in range(len(raw) // frame)
    ]


def finish(images: list[Image.Image]) -> tuple[bytes, bytes]:
    best = max(images, key=processing.frame_score)
    return processing._jpeg(best), processing._jpeg(processing.filmstrip(images), quality=75)


def run_pyav(path: str, frames: int) -> tuple[int, int]:
    # What the worker does: probe and keyframe poster in one open, then the filmstrip.
    first = processing.probe_and_first_images(path)
    thumbs = processing.video_thumbnails(path, first.info.duration_s, frames=frames)
    return thumbs.filmstrip_frames, len(thumbs.poster_jpeg)


def run_seek(ffmpeg: str, path: str, frames: int) -> tuple[int, int]:
    info = probe_subprocess(ffmpeg, path)
    duration = float(info.get("duration") or info["format"]["duration"])
    size = processing._fit(1920, 1080, processing.POSTER_BOX)
    images = frames_seek_per_frame(ffmpeg, path, processing.sample_times(duration, frames), size)
    poster, _strip = finish(images)
    return len(images), len(poster)


def run_single(ffmpeg: str, path: str, frames: int) -> tuple[int, int]:
    info = probe_subprocess(ffmpeg, path)
    duration = float(info.get("duration") or info["format"]["duration"])
    size = processing._fit(1920, 1080, processing.POSTER_BOX)
    images = frames_single_pass(ffmpeg, path, duration, frames, size)
    poster, _strip = finish(images)
    return len(images), len(poster)


def timed(fn, runs: int) -> tuple[float, object]:
    fn()  # warm-up: page cache, imports
    samples, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frames", type=int, default=processing.FILMSTRIP_FRAMES)
    parser.add_argument("--grain", type=float, default=10.0, help="noise sigma (sets the bitrate)")
    args = parser.parse_args()
    ffmpeg = ffmpeg_exe()
    print(
        f"ffmpeg: {ffmpeg}; runs={args.runs}; cpus={os.cpu_count()}; frames per clip={args.frames}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, gop in (
            ("2 s GOP (camera/streaming-like)", 60),
            ("x264 default GOP (keyint 250)", 250),
        ):
            clip = str(Path(tmp) / f"clip-gop{gop}.mp4")
            t0 = time.perf_counter()
            make_video(
                clip,
                seconds=10,
                width=1920,
                height=1080,
                fps=30,
                audio=True,
                preset="superfast",
                grain=args.grain,
                gop=gop,
            )
            print(
                f"\nclip: 10 s 1920x1080 30 fps H.264 superfast, {label}, + AAC: "
                f"{os.path.getsize(clip) * 8 / 10 / 1e6:.1f} Mbit/s, made in {time.perf_counter() - t0:.0f} s"
            )
            keys = ", ".join(f"{k:.1f}" for k in processing.keyframe_times(clip))
            print(f"  keyframes at {keys} s")
            pyav, r1 = timed(partial(run_pyav, clip, args.frames), args.runs)
            seek, r2 = timed(partial(run_seek, ffmpeg, clip, args.frames), args.runs)
            single, r3 = timed(partial(run_single, ffmpeg, clip, args.frames), args.runs)
            print(f"  frames produced: pyav={r1[0]} seek={r2[0]} single={r3[0]}")
            print(f"  PyAV in-process               median {pyav * 1000:8.1f} ms per clip")
            print(
                f"  ffmpeg subprocess, seek/frame median {seek * 1000:8.1f} ms per clip  ({seek / pyav:.2f}x)"
            )
            print(
                f"  ffmpeg subprocess, one pass   median {single * 1000:8.1f} ms per clip  ({single / pyav:.2f}x)"
            )
            print(
                f"  RATIO vs the faster subprocess route: {min(seek, single) / pyav:.2f}x (goal >= 2x)"
            )


if __name__ == "__main__":
    main()
