"""Probe, poster, filmstrip and waveform: pure functions over a file path (PyAV, Pillow).

A video gets its images in two steps, so its card can show a picture long before the
clip is decoded: `first_thumbnails` decodes keyframes only (tens of milliseconds for
1080p) for a first poster; `video_thumbnails` then decodes the clip once for the
filmstrip, whose frames are also the candidates for the refined poster.
"""

from __future__ import annotations

import io
import time
from array import array
from dataclasses import dataclass, field

import av
from PIL import Image, ImageDraw, ImageStat

from .sniffing import AV_OPEN_OPTIONS, primary_streams

POSTER_BOX = (640, 360)
TILE_HEIGHT = 90
FILMSTRIP_FRAMES = 10
WAVEFORM_SIZE = (800, 120)
# The first poster is the first keyframe that is not flat (a fade from black), looking
# at no more than this many keyframes: each costs one intra-frame decode.
FIRST_POSTER_KEYFRAMES = 3
# frame_score below this is a black, white or flat frame (a test pattern scores ~60).
FLAT_SCORE = 4.0
# Targets closer than this are reached by decoding forward instead of seeking: with long
# GOPs a seek lands on the same keyframe and would decode the same frames again.
SEQUENTIAL_WINDOW_S = 3.0


# Decoder names PyAV reports -> the codec's everyday name.
CODEC_NAMES = {"mp3float": "mp3", "libdav1d": "av1", "libopus": "opus", "libvpx-vp9": "vp9"}


def _codec_name(cc) -> str:
    name = cc.name or ""
    return CODEC_NAMES.get(name, name)


@dataclass
class Probe:
    kind: str
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str = ""
    audio_codec: str = ""
    has_audio: bool = False
    extra: dict = field(default_factory=dict)


@dataclass
class Thumbnails:
    poster_jpeg: bytes | None = None
    filmstrip_jpeg: bytes | None = None
    filmstrip_frames: int = 0
    waveform_png: bytes | None = None


def probe(path: str) -> Probe:
    """Facts about a media file. Images via Pillow, everything else via PyAV."""
    image = _probe_image(path)
    if image is not None:
        return image
    with av.open(path, options=AV_OPEN_OPTIONS) as container:
        return _probe_av(container)


def _probe_image(path: str) -> Probe | None:
    try:
        im = Image.open(path)
    except (OSError, ValueError, SyntaxError):
        return None
    with im:
        extra = {"format": im.format, "mode": im.mode}
        frames = getattr(im, "n_frames", 1)
        if frames > 1:
            extra["frames"] = frames
        _decode_fully(im, frames)
        return Probe(kind="image", width=im.width, height=im.height, extra=extra)


def _decode_fully(im: Image.Image, frames: int) -> None:
    """Decode the image (the last frame of an animation, which composites them all):
    damage the upload's structure check cannot see (bad compressed data) shows here.
    This is the expensive part of checking an image, so it runs in the worker, never in
    the web process; the upload's caps on pixels and frames × pixels bound its cost."""
    try:
        im.load()
        if frames > 1:
            im.seek(frames - 1)
            im.load()
    except (SyntaxError, EOFError, ValueError) as exc:
        raise OSError(f"image data is damaged: {exc}") from exc


def _probe_av(container) -> Probe:
    video, audio = primary_streams(container)
    duration = container.duration / av.time_base if container.duration else None
    extra = {"format": container.format.name}
    if container.bit_rate:
        extra["bit_rate"] = container.bit_rate
    result = Probe(kind="video" if video else "audio", duration_s=duration, extra=extra)
    if video:
        vs = video[0]
        cc = vs.codec_context
        result.width, result.height = cc.width or None, cc.height or None
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate
        result.fps = round(float(rate), 3) if rate else None
        result.video_codec = _codec_name(cc)
        if cc.pix_fmt:
            extra["pixel_format"] = cc.pix_fmt
        if vs.frames:
            extra["frames"] = vs.frames
    if audio:
        au = audio[0]
        result.has_audio = True
        result.audio_codec = _codec_name(au.codec_context)
        extra["sample_rate"] = au.codec_context.sample_rate
        extra["channels"] = au.codec_context.channels
    return result


def frame_score(image: Image.Image) -> float:
    """How good a frame is as a poster: detail (luma standard deviation) weighted by a
    sane exposure. A black, white or flat frame scores near zero."""
    small = image.convert("L").resize((64, 36))
    stat = ImageStat.Stat(small)
    mean, std = stat.mean[0], stat.stddev[0]
    exposure = 1.0 - abs(mean - 128.0) / 128.0
    return std * (0.25 + 0.75 * exposure)


def _fit(width: int, height: int, box: tuple[int, int]) -> tuple[int, int]:
    scale = min(box[0] / width, box[1] / height, 1.0)
    # Even sizes keep swscale on its fast paths.
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _jpeg(image: Image.Image, quality: int = 82) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=quality, optimize=False)
    return buf.getvalue()


def sample_times(duration: float | None, count: int) -> list[float]:
    """Centres of `count` equal slices of the clip."""
    if not duration or duration <= 0:
        return [0.0]
    return [duration * (i + 0.5) / count for i in range(count)]


def video_frames_at(
    path: str,
    times: list[float],
    *,
    box: tuple[int, int],
    keyframes: list[float] | None = None,
) -> list[Image.Image]:
    """One RGB image (fitted into `box`) per target time, in order; fewer if the clip
    ends early. Seeks only when the next target is far ahead or, given the clip's
    `keyframes` (seconds), when a keyframe lies between the decoder and the target:
    decoding up to it would be wasted."""
    images: list[Image.Image] = []
    with _open_without_analysis_decode(path) as container:
        video, _audio = primary_streams(container)
        if not video:
            return images
        stream = video[0]
        stream.thread_type = "AUTO"
        # Frames nothing refers to (most B-frames) are skipped: a thumbnail does not need
        # the exact frame, and decoding them is most of the cost.
        stream.codec_context.skip_frame = "NONREF"
        # Deblocking is a third of H.264 decode time and invisible after the downscale to
        # a thumbnail (measured: 6.0 s -> 4.1 s for a 10 s 1080p clip on 2 cores).
        stream.codec_context.options = {"skip_loop_filter": "all"}
        tb = stream.time_base
        start = stream.start_time or 0
        rate = stream.average_rate or stream.guessed_rate
        half_frame = 0.5 / float(rate) if rate else 0.02
        size = None
        position = float("-inf")
        frames = None
        last = None
        used_pts = None
        for target in times:
            if frames is None or _should_seek(position, target, keyframes):
                container.seek(start + int(target / tb), stream=stream, backward=True)
                frames = container.decode(stream)
            picked = None
            for frame in frames:
                position = float((frame.pts - start) * tb) if frame.pts is not None else position
                last = frame
                if position >= target - half_frame:
                    picked = frame
                    break
            if picked is None:
                # The clip ended before the target (declared duration a bit long): use
                # its last frame once, then stop.
                if last is None or last.pts == used_pts:
                    break
                picked = last
            used_pts = picked.pts
            if size is None:
                size = _fit(picked.width, picked.height, box)
            # AREA: the cheapest good-looking downscale in swscale for big reductions.
            images.append(picked.to_image(width=size[0], height=size[1], interpolation="AREA"))
    return images


def _should_seek(position: float, target: float, keyframes: list[float] | None) -> bool:
    if keyframes is None:
        return target - position > SEQUENTIAL_WINDOW_S
    before = [k for k in keyframes if k <= target]
    return bool(before) and before[-1] > position


def keyframe_times(path: str) -> list[float]:
    """Seconds (from the stream's start) of the video's keyframes, in order, read by
    demuxing without decoding (about 40 ms for a 10 s 1080p clip)."""
    with _open_without_analysis_decode(path) as container:
        video, _audio = primary_streams(container)
        if not video:
            return []
        stream = video[0]
        tb, start = stream.time_base, stream.start_time or 0
        return sorted(
            float((packet.pts - start) * tb)
            for packet in container.demux(stream)
            if packet.is_keyframe and packet.pts is not None
        )


def keyframe_images(path: str, times: list[float], *, box: tuple[int, int]) -> list[Image.Image]:
    """The keyframes at `times` (from `keyframe_times`), decoding nothing else."""
    images: list[Image.Image] = []
    with _open_without_analysis_decode(path) as container:
        stream = primary_streams(container)[0][0]
        stream.thread_type = "SLICE"  # see first_keyframe_poster
        stream.codec_context.skip_frame = "NONKEY"
        tb, start = stream.time_base, stream.start_time or 0
        for target in times:
            container.seek(start + int(target / tb), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.pts is not None and float((frame.pts - start) * tb) >= target - 0.001:
                    size = _fit(frame.width, frame.height, box)
                    images.append(
                        frame.to_image(width=size[0], height=size[1], interpolation="AREA")
                    )
                    break
    return images


def slice_plan(duration: float, count: int, keys: list[float]) -> list[tuple[str, float]]:
    """Per slice, ("key", t): the keyframe at t nearest the slice's centre, or
    ("decode", t): no keyframe inside, decode up to the slice's start t."""
    chosen: list[tuple[str, float]] = []
    for i in range(count):
        lo, hi = duration * i / count, duration * (i + 1) / count
        inside = [k for k in keys if lo <= k < hi]
        centre = (lo + hi) / 2
        if inside:
            chosen.append(("key", min(inside, key=lambda k: abs(k - centre))))
        else:
            chosen.append(("decode", lo))
    return chosen


def slice_frames(
    path: str, duration: float, count: int, *, box: tuple[int, int]
) -> list[Image.Image]:
    """One frame from each of `count` equal slices of the clip, decoding as little as the
    clip's keyframes allow: a slice holding a keyframe shows it (the one nearest its
    centre: one intra-frame decode); any other shows its first frame, decoded forward
    from the keyframe before it. A one-pass decoder decodes every frame instead."""
    keys = keyframe_times(path)
    chosen = slice_plan(duration, count, keys)
    key_times = [t for how, t in chosen if how == "key"]
    decode_times = [t for how, t in chosen if how == "decode"]
    key_images = iter(keyframe_images(path, key_times, box=box)) if key_times else iter(())
    decoded = (
        iter(video_frames_at(path, decode_times, box=box, keyframes=keys))
        if decode_times
        else iter(())
    )
    images: list[Image.Image] = []
    for how, _t in chosen:
        image = next(key_images if how == "key" else decoded, None)
        if image is None:
            break  # the clip ended early: the frames so far, in order
        images.append(image)
    return images


def video_thumbnails(
    path: str, duration: float | None, *, frames: int = FILMSTRIP_FRAMES
) -> Thumbnails:
    if duration and duration / frames < SEQUENTIAL_WINDOW_S:
        # A short clip: sampling slice centres would decode all of it (see slice_frames).
        images = slice_frames(path, duration, frames, box=POSTER_BOX)
    else:
        images = video_frames_at(path, sample_times(duration, frames), box=POSTER_BOX)
    if not images:
        return Thumbnails()
    best = max(images, key=frame_score)
    return Thumbnails(
        poster_jpeg=_jpeg(best),
        filmstrip_jpeg=_jpeg(filmstrip(images), quality=75),
        filmstrip_frames=len(images),
    )


def first_keyframe_poster(path: str) -> bytes | None:
    """A JPEG poster from the clip's first non-flat keyframe (among the first
    FIRST_POSTER_KEYFRAMES), or None when no frame decodes."""
    with av.open(path, options=AV_OPEN_OPTIONS) as container:
        return _first_keyframe_poster(container)[0]


def _first_keyframe_poster(container) -> tuple[bytes | None, str | None]:
    """(JPEG poster, the frames' pixel format), or (None, None)."""
    video, _audio = primary_streams(container)
    if not video:
        return None, None
    stream = video[0]
    # Frame threading holds each output back until every thread has a frame, which would
    # decode several keyframes to get the first one; slice threads do not.
    stream.thread_type = "SLICE"
    # Only keyframes are decoded; the packets between them are merely demuxed.
    stream.codec_context.skip_frame = "NONKEY"
    stream.codec_context.options = {"skip_loop_filter": "all"}  # see video_frames_at
    best, best_score = None, -1.0
    for n, frame in enumerate(container.decode(stream), start=1):
        size = _fit(frame.width, frame.height, POSTER_BOX)
        image = frame.to_image(width=size[0], height=size[1], interpolation="AREA")
        score = frame_score(image)
        if score > best_score:
            best, best_score = image, score
        if score >= FLAT_SCORE or n >= FIRST_POSTER_KEYFRAMES:
            break
    if best is None:
        return None, None
    return _jpeg(best), frame.format.name


def filmstrip(images: list[Image.Image], *, tile_height: int = TILE_HEIGHT) -> Image.Image:
    """Frames side by side in one horizontal sprite, each `tile_height` tall. Hover-scrub
    shows tile i with `background-size: N*100% 100%; background-position-x: i/(N-1)`."""
    w0, h0 = images[0].size
    tile_w = max(2, round(w0 * tile_height / h0))
    sprite = Image.new("RGB", (tile_w * len(images), tile_height))
    for i, im in enumerate(images):
        sprite.paste(im.resize((tile_w, tile_height), Image.Resampling.BILINEAR), (i * tile_w, 0))
    return sprite


def image_poster(path: str) -> Thumbnails:
    with Image.open(path) as im:
        im.seek(0)
        im.draft("RGB", POSTER_BOX)  # JPEG: decode at a reduced scale, much faster
        poster = im.convert("RGBA") if im.mode in ("P", "LA", "PA") else im.copy()
    poster.thumbnail(POSTER_BOX)
    if poster.mode in ("RGBA", "LA"):
        # Transparent images on the panel's dark background, not on black.
        bg = Image.new("RGB", poster.size, (29, 33, 41))
        bg.paste(poster, mask=poster.getchannel("A"))
        poster = bg
    return Thumbnails(poster_jpeg=_jpeg(poster))


def audio_peaks(path: str, *, columns: int = WAVEFORM_SIZE[0], rate: int = 8000) -> list[float]:
    """Peak amplitude (0..1) per column across the whole track."""
    chunk_peaks: list[int] = []
    chunk = 64
    with av.open(path, options=AV_OPEN_OPTIONS) as container:
        if not container.streams.audio:
            return []
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        pending = array("h")
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                pending.frombytes(bytes(out.planes[0])[: out.samples * 2])
            whole = len(pending) - len(pending) % chunk
            for i in range(0, whole, chunk):
                part = pending[i : i + chunk]
                chunk_peaks.append(max(max(part), -min(part)))
            del pending[:whole]
        if pending:
            chunk_peaks.append(max(max(pending), -min(pending)))
    if not chunk_peaks:
        return []
    per = len(chunk_peaks) / columns
    peaks = []
    for c in range(columns):
        lo, hi = int(c * per), max(int(c * per) + 1, int((c + 1) * per))
        part = chunk_peaks[lo:hi]
        peaks.append(max(part) / 32768.0 if part else 0.0)
    return peaks


def waveform_png(peaks: list[float], *, size: tuple[int, int] = WAVEFORM_SIZE) -> bytes:
    width, height = size
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    mid = height / 2
    top = max(peaks, default=0.0) or 1.0
    for x, peak in enumerate(peaks[:width]):
        half = max(1.0, (peak / top) * (mid - 2))
        draw.line([(x, mid - half), (x, mid + half)], fill=(108, 140, 255, 255))
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def first_thumbnails(path: str, info: Probe) -> Thumbnails:
    """What the item can show as soon as it is ready: for a video, a keyframe poster
    (`needs_refining` says the filmstrip and a better poster follow); for images and
    sounds, their final images. Raises OSError when a video has no decodable frame."""
    if info.kind != "video":
        return thumbnails_for(path, info)
    return _video_first(first_keyframe_poster(path))


def _video_first(poster: bytes | None) -> Thumbnails:
    if poster is None:
        raise OSError("no video frame could be decoded")
    return Thumbnails(poster_jpeg=poster)


@dataclass
class FirstPass:
    info: Probe
    thumbnails: Thumbnails
    probe_s: float
    images_s: float


def probe_and_first_images(path: str) -> FirstPass:
    """`probe` then `first_thumbnails`, opening a video once: opening runs FFmpeg's stream
    analysis, which for H.264 decodes the first frame; a second open would pay it again."""
    started = time.perf_counter()
    image = _probe_image(path)
    if image is not None:
        probed = time.perf_counter()
        return FirstPass(image, image_poster(path), probed - started, time.perf_counter() - probed)
    with _open_without_analysis_decode(path) as container:
        info = _probe_av(container)
        probed = time.perf_counter()
        poster, pixel_format = (None, None)
        if info.kind == "video":
            poster, pixel_format = _first_keyframe_poster(container)
    if info.kind != "video":
        # Sounds are not in a hurry: their facts from a full analysis, as before.
        info = probe(path)
        probed = time.perf_counter()
        return FirstPass(info, thumbnails_for(path, info), probed - started, 0.0)
    if pixel_format and "pixel_format" not in info.extra:
        info.extra["pixel_format"] = pixel_format
    return FirstPass(info, _video_first(poster), probed - started, time.perf_counter() - probed)


# Per-stream decoder options for FFmpeg's stream analysis (avformat_find_stream_info),
# which decodes each stream's first frame to learn the pixel format, although sizes,
# rates and codecs are in the headers. For a 1080p keyframe that decode is ~40 ms, and
# the keyframe poster decodes the same frame again and tells the pixel format anyway.
# Longer than any stream count we accept: PyAV applies entry i to stream i.
ANALYSIS_WITHOUT_DECODE = [{"skip_frame": "all"}] * 32


def _open_without_analysis_decode(path: str):
    try:
        return av.open(path, options=AV_OPEN_OPTIONS, stream_options=ANALYSIS_WITHOUT_DECODE)
    except ValueError:
        # A format that shows its streams only after the analysis takes no per-stream
        # options (PyAV refuses them): analyse normally.
        return av.open(path, options=AV_OPEN_OPTIONS)


def needs_refining(info: Probe) -> bool:
    return info.kind == "video"


def thumbnails_for(path: str, info: Probe) -> Thumbnails:
    if info.kind == "video":
        return video_thumbnails(path, info.duration_s)
    if info.kind == "image":
        return image_poster(path)
    return Thumbnails(waveform_png=waveform_png(audio_peaks(path)))
