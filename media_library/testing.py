"""Small real media files made with PyAV/Pillow, for tests and benchmarks (no fixtures
on disk, no network). Other apps' tests may use these too."""

from __future__ import annotations

import io
import math
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw


def _pattern(width: int, height: int, i: int, *, black: bool) -> Image.Image:
    if black:
        return Image.new("RGB", (width, height), (0, 0, 0))
    im = Image.new("RGB", (width, height), (40 + (i * 7) % 120, 90, 160))
    draw = ImageDraw.Draw(im)
    step = max(8, width // 12)
    for x in range(0, width, step):
        shade = (x * 255 // max(1, width) + i * 5) % 256
        draw.rectangle([x, 0, x + step // 2, height], fill=(shade, 255 - shade, 128))
    r = max(4, height // 6)
    cx = (i * 9) % width
    draw.ellipse([cx - r, height // 2 - r, cx + r, height // 2 + r], fill=(250, 230, 40))
    return im


def make_video(
    path: str | Path,
    *,
    seconds: float = 2.0,
    width: int = 160,
    height: int = 90,
    fps: int = 24,
    black_seconds: float = 0.0,
    audio: bool = False,
    codec: str = "libx264",
    container_format: str | None = None,
    gop: int | None = None,
    faststart: bool = False,
    preset: str = "ultrafast",
    grain: float = 0.0,
) -> Path:
    """An H.264 (or `codec`) clip; the first `black_seconds` are pure black frames.
    `grain` (noise sigma, e.g. 40) makes the bitrate realistic for benchmarks."""
    path = Path(path)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), mode="w", format=container_format, options=options) as out:
        vs = out.add_stream(codec, rate=fps)
        vs.width, vs.height = width, height
        vs.pix_fmt = "yuv420p"
        if gop:
            vs.codec_context.gop_size = gop
        if codec == "libx264":
            vs.options = {"preset": preset}
        aus = None
        if audio:
            acodec = "libopus" if (container_format == "webm" or path.suffix == ".webm") else "aac"
            aus = out.add_stream(acodec, rate=48000)
            aus.layout = "stereo"
        total = int(round(seconds * fps))
        # A few noise fields reused in turn: generating one per frame is the slow part.
        noises = (
            [Image.effect_noise((width, height), grain).convert("RGB") for _ in range(7)]
            if grain
            else []
        )
        for i in range(total):
            img = _pattern(width, height, i, black=i < black_seconds * fps)
            if grain:
                # Film-grain-like noise gives real-footage bitrates (flat patterns compress
                # to almost nothing and would make decoding look cheaper than it is).
                img = Image.blend(img, noises[i % len(noises)], 0.15)
            frame = av.VideoFrame.from_image(img)
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if aus is not None:
            _write_tone(out, aus, seconds)
    return path


def _write_tone(out, stream, seconds: float, *, rate: int = 48000) -> None:
    per = 960
    total = int(seconds * rate)
    pts = 0
    while pts < total:
        n = min(per, total - pts)
        samples = bytearray()
        for k in range(n):
            v = int(12000 * math.sin(2 * math.pi * 440 * (pts + k) / rate))
            samples += v.to_bytes(2, "little", signed=True) * 2
        frame = av.AudioFrame(format="s16", layout="stereo", samples=n)
        frame.planes[0].update(bytes(samples))
        frame.sample_rate = rate
        frame.pts = pts
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            out.mux(packet)
        pts += n
    for packet in stream.encode():
        out.mux(packet)


def make_audio(path: str | Path, *, seconds: float = 1.0, codec: str | None = None) -> Path:
    """A tone that swells, so its waveform is not flat. Format from the suffix."""
    path = Path(path)
    codec = (
        codec
        or {
            ".mp3": "libmp3lame",
            ".wav": "pcm_s16le",
            ".flac": "flac",
            ".ogg": "libopus",
            ".m4a": "aac",
        }[path.suffix]
    )
    rate = 44100 if codec == "libmp3lame" else 48000
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        fmt = stream.codec_context.codec.audio_formats[0].name
        total, pts, per = int(seconds * rate), 0, 1152
        while pts < total:
            n = min(per, total - pts)
            frame = av.AudioFrame(format="s16", layout="mono", samples=n)
            buf = bytearray()
            for k in range(n):
                t = (pts + k) / rate
                amp = 2000 + 14000 * (t / seconds)
                buf += int(amp * math.sin(2 * math.pi * 330 * t)).to_bytes(2, "little", signed=True)
            frame.planes[0].update(bytes(buf))
            frame.sample_rate = rate
            frame.pts = pts
            frame.time_base = Fraction(1, rate)
            if fmt != "s16":
                frame = av.AudioResampler(format=fmt, layout="mono", rate=rate).resample(frame)[0]
            for packet in stream.encode(frame):
                out.mux(packet)
            pts += n
        for packet in stream.encode():
            out.mux(packet)
    return path


def make_image_bytes(fmt: str = "PNG", *, size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    _pattern(size[0], size[1], 3, black=False).save(buf, format=fmt)
    return buf.getvalue()
