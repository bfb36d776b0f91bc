"""Encode a procedural clip to H.264/AAC MP4 with PyAV.

Exactly round(duration × fps) video frames at the requested size and rate, and exactly
duration × 48 000 audio samples, interleaved as they are produced. Progress is reported as
frames are encoded; cancellation is checked several times per second of video, and a
cancelled or failed render leaves no file behind (it writes to a temporary name and renames
only when the file is complete).
"""

from __future__ import annotations

import array
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from .look import Look, look_for
from .scene import Scene

SAMPLE_RATE = 48_000
AUDIO_FRAME = 1024
MAX_SIDE = 3840
MAX_DURATION_S = 60


class RenderCancelled(Exception):
    """Raised by render_video when should_cancel() answered True; no file is left."""


@dataclass(frozen=True)
class RenderResult:
    path: Path
    duration_s: float
    width: int
    height: int
    fps: int
    frames: int
    has_audio: bool
    size_bytes: int


def render_video(
    *,
    out_path: str | os.PathLike,
    prompt: str,
    seed: int,
    duration_s: float,
    width: int,
    height: int,
    fps: int = 24,
    with_audio: bool = True,
    on_progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> RenderResult:
    """Render the clip to out_path. on_progress(percent 0–100) is called each time another
    whole percent of frames is encoded; should_cancel() is polled about four times per
    second of video and, when it returns True, the render stops and raises RenderCancelled."""
    _check(duration_s, width, height, fps)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part")
    look = look_for(prompt, seed)
    frames = max(1, round(duration_s * fps))
    duration = frames / fps
    try:
        _encode(
            tmp, look, width, height, fps, frames, duration, with_audio, on_progress, should_cancel
        )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    if on_progress:
        on_progress(100.0)
    return RenderResult(out, duration, width, height, fps, frames, with_audio, out.stat().st_size)


def _check(duration_s: float, width: int, height: int, fps: int) -> None:
    if not 0 < duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration must be within (0, {MAX_DURATION_S}] seconds")
    if not (2 <= width <= MAX_SIDE and 2 <= height <= MAX_SIDE) or width % 2 or height % 2:
        raise ValueError("width and height must be even and at most 3840")
    if not 1 <= fps <= 60:
        raise ValueError("fps must be within 1..60")


def _encode(
    tmp, look: Look, width, height, fps, frames, duration, with_audio, on_progress, should_cancel
):
    scene = Scene(look, width, height, duration)
    check_every = max(1, fps // 4)
    with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        video.time_base = Fraction(1, fps)
        video.options = {"preset": "veryfast", "crf": "23"}
        audio = None
        synth = None
        if with_audio:
            audio = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
            audio.time_base = Fraction(1, SAMPLE_RATE)
            synth = _Drone(look, round(duration * SAMPLE_RATE))
        reported = -1
        for index in range(frames):
            if should_cancel is not None and index % check_every == 0 and should_cancel():
                raise RenderCancelled()
            image = scene.draw(index / fps)
            frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")
            frame.pts = index
            frame.time_base = Fraction(1, fps)  # the muxer rewrites video.time_base
            container.mux(video.encode(frame))
            if synth is not None:
                for audio_frame in synth.until(round((index + 1) / fps * SAMPLE_RATE)):
                    container.mux(audio.encode(audio_frame))
            percent = int((index + 1) * 100 / frames)
            if on_progress is not None and percent > reported and percent < 100:
                reported = percent
                on_progress(float(percent))
        container.mux(video.encode(None))
        if audio is not None:
            container.mux(audio.encode(None))


class _Drone:
    """A soft chord whose key and colour follow the look; ocean scenes add surf."""

    def __init__(self, look: Look, total: int):
        root = 110.0 * 2 ** (((look.seed % 12) - 6) / 12)
        third = 2 ** (3 / 12) if look.minor else 2 ** (4 / 12)
        self.freqs = (root, root * third, root * 1.5, root * 2)
        self.total = total
        self.done = 0
        self.pulse = 0.15 * look.speed
        self.surf = look.scene == "ocean" or look.rain
        self.noise = (look.seed * 2654435761) & 0xFFFFFFFF or 1

    def until(self, sample: int):
        target = min(sample, self.total)
        while self.done < target:
            count = min(AUDIO_FRAME, target - self.done)
            yield self._frame(self.done, count)
            self.done += count

    def _frame(self, start: int, count: int) -> av.AudioFrame:
        left, right = array.array("f"), array.array("f")
        two_pi = 2 * math.pi
        fade = SAMPLE_RATE // 20
        for n in range(start, start + count):
            t = n / SAMPLE_RATE
            tone = sum(math.sin(two_pi * f * t) for f in self.freqs) * 0.06
            swell = 0.6 + 0.4 * math.sin(two_pi * self.pulse * t)
            value = tone * swell
            if self.surf:
                self.noise = (1103515245 * self.noise + 12345) & 0x7FFFFFFF
                value += (
                    (self.noise / 0x7FFFFFFF - 0.5)
                    * 0.08
                    * (0.5 + 0.5 * math.sin(two_pi * 0.12 * t))
                )
            edge = min(n, self.total - n)
            if edge < fade:
                value *= edge / fade
            left.append(value)
            right.append(value * (0.85 + 0.15 * math.sin(two_pi * 0.07 * t)))
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=count)
        frame.planes[0].update(left.tobytes())
        frame.planes[1].update(right.tobytes())
        frame.sample_rate = SAMPLE_RATE
        frame.pts = start
        frame.time_base = Fraction(1, SAMPLE_RATE)
        return frame
