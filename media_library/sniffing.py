"""Decide what a file is from its bytes (Pillow, then PyAV), never from its name or the
browser's content type, and refuse anything we would not want to store.

Pure functions: no Django, no database. `sniff()` raises `MediaRejected` with a sentence
the user can read.
"""

from __future__ import annotations

import os
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import av
from PIL import Image

# Pillow format -> (mime, extension). Everything else Pillow recognises is refused.
IMAGE_FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}

# FFmpeg demuxers we accept. Passing them as `format_whitelist` also stops FFmpeg from
# ever opening a playlist/concat demuxer that would read other files or URLs.
DEMUXERS = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "mp3", "wav", "ogg", "flac")
DEMUXER_WHITELIST = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,mp3,wav,ogg,flac"
AV_OPEN_OPTIONS = {"format_whitelist": DEMUXER_WHITELIST, "protocol_whitelist": "file"}

# Every MIME type we ever serve inline; the file views use this as their allowlist.
INLINE_MIME_TYPES = frozenset(
    {
        "video/mp4",
        "video/quicktime",
        "video/webm",
        "video/x-matroska",
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/gif",
        "audio/mpeg",
        "audio/wav",
        "audio/mp4",
        "audio/ogg",
        "audio/flac",
        "audio/webm",
    }
)

WEBM_VIDEO_CODECS = {"vp8", "vp9", "av1"}
WEBM_AUDIO_CODECS = {"opus", "vorbis"}
TITLE_MAX = 200


class MediaRejected(Exception):
    """Bad input. `message` is shown to the user as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "video" | "image" | "audio" (MediaItem.Kind values)
    mime_type: str
    extension: str


NOT_MEDIA = "This file is not a video, image or audio file we can read."
TRUNCATED = "This file is damaged or incomplete (it looks truncated). Please upload it again."
WRONG_LENGTH = (
    "This video's header gives the wrong length (it claims {declared:.1f} s but holds more). "
    "It was damaged or cut badly: export it again and upload the new file."
)
UNSUPPORTED = (
    "This file type is not supported. Use MP4, MOV, WebM or MKV video; "
    "PNG, JPEG, WebP or GIF images; MP3, WAV, M4A, OGG or FLAC audio."
)


def clean_title(name: str, *, fallback: str = "Untitled") -> str:
    """A display title from a user-supplied name: no directories, no control or
    format characters, collapsed whitespace, at most TITLE_MAX characters."""
    name = name or ""
    # Both separators, whatever the server OS: a browser on Windows may send C:\x\y.mp4.
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    name = " ".join(name.split()).strip(" .")
    return name[:TITLE_MAX] or fallback


def _rewind(src: str | BinaryIO) -> None:
    if not isinstance(src, str | os.PathLike):
        src.seek(0)


def sniff(src: str | BinaryIO, *, max_image_pixels: int) -> Sniffed:
    """Identify `src` (a path or a seekable binary file) or raise MediaRejected."""
    _rewind(src)
    image = _sniff_image(src, max_image_pixels=max_image_pixels)
    if image is not None:
        return image
    _rewind(src)
    return _sniff_av(src)


def _sniff_image(src, *, max_image_pixels: int) -> Sniffed | None:
    try:
        with warnings.catch_warnings():
            # Our own pixel cap below is the rule; Pillow's warning is noise here.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(src)
    except Image.DecompressionBombError as exc:
        raise MediaRejected(_too_many_pixels(max_image_pixels)) from exc
    except (OSError, ValueError, SyntaxError):
        return None  # not an image Pillow knows: let PyAV look at it
    with im:
        if im.format not in IMAGE_FORMATS:
            raise MediaRejected(UNSUPPORTED)
        width, height = im.size
        if width <= 0 or height <= 0:
            raise MediaRejected(NOT_MEDIA)
        if width * height > max_image_pixels:
            raise MediaRejected(_too_many_pixels(max_image_pixels))
        frames = getattr(im, "n_frames", 1)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im.load()
                if frames > 1:
                    # The last frame of an animation is where a cut-off download shows.
                    im.seek(frames - 1)
                    im.load()
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise MediaRejected(TRUNCATED) from exc
        mime, ext = IMAGE_FORMATS[im.format]
        return Sniffed(kind="image", mime_type=mime, extension=ext)


def _too_many_pixels(cap: int) -> str:
    return f"This image is too large: at most {cap / 1_000_000:.0f} megapixels are allowed."


def _primary_streams(container):
    video = [
        s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic
    ]
    audio = list(container.streams.audio)
    return video, audio


def _sniff_av(src) -> Sniffed:
    try:
        container = av.open(src, mode="r", options=AV_OPEN_OPTIONS)
    except av.error.FFmpegError as exc:
        raise MediaRejected(TRUNCATED if _has_media_signature(src) else NOT_MEDIA) from exc
    with container:
        if container.format.name not in DEMUXERS:
            raise MediaRejected(UNSUPPORTED)
        video, audio = _primary_streams(container)
        if not video and not audio:
            raise MediaRejected(NOT_MEDIA)
        stream = video[0] if video else audio[0]
        kind = "video" if video else "audio"
        _check_decodable(container, stream)
        _check_complete(container, stream)
        if video:
            _check_not_longer_than_declared(container)
        mime, ext = _container_type(container, kind, video, audio)
        return Sniffed(kind=kind, mime_type=mime, extension=ext)


def _has_media_signature(src) -> bool:
    """A known container's magic bytes that FFmpeg still cannot open: an MP4 whose index
    (at the end) was cut off, say. Worth a more useful message than "not media"."""
    if isinstance(src, str | os.PathLike):
        with open(src, "rb") as fh:
            head = fh.read(12)
    else:
        src.seek(0)
        head = src.read(12)
    return (
        head[4:8] == b"ftyp"
        or head[:4] in (b"\x1aE\xdf\xa3", b"OggS", b"fLaC", b"ID3\x03", b"ID3\x04")
        or (head[:4] == b"RIFF" and head[8:12] == b"WAVE")
    )


def _check_decodable(container, stream) -> None:
    """At least one frame must decode: random bytes that happen to probe as MP3 fail here."""
    try:
        for _frame in container.decode(stream):
            return
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaRejected(NOT_MEDIA) from exc
    raise MediaRejected(NOT_MEDIA)


def _stream_duration_s(container, stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _check_complete(container, stream) -> None:
    """A cut-off upload can keep its index (MP4 `moov` at the front) but lose the data the
    index points at. Seek near the end and demux every stream (no decoding, so it is
    cheap) to the last packet: if the packets stop short of the declared duration, or
    reading fails, the file is truncated."""
    duration = _stream_duration_s(container, stream)
    if not duration or duration < 0.5:
        return
    # Declared durations and packet ends differ by a frame or two (audio priming,
    # container rounding); a cut-off file misses far more than this.
    tolerance = 0.25 + 0.005 * duration
    try:
        target = max(0.0, duration - 1.0 - tolerance)
        container.seek(int(target * av.time_base) + (container.start_time or 0), backward=True)
        last_end = None
        for packet in container.demux():
            s = packet.stream
            if packet.pts is None or s.time_base is None:
                continue
            end = float((packet.pts - (s.start_time or 0) + (packet.duration or 0)) * s.time_base)
            last_end = end if last_end is None else max(last_end, end)
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaRejected(TRUNCATED) from exc
    if last_end is None or last_end < duration - tolerance:
        raise MediaRejected(TRUNCATED)


def _declared_duration_s(container) -> float | None:
    lengths = [_stream_duration_s(container, s) or 0.0 for s in container.streams]
    if container.duration:
        lengths.append(container.duration / av.time_base)
    return max(lengths, default=0.0) or None


def _check_not_longer_than_declared(container) -> None:
    """The opposite lie to truncation: a header that claims a tenth of the samples the
    file holds. The library would show, trim and export the clip at the false length, so
    refuse it. Seeks to just past the declared end and reads a few packets (no decoding);
    packets an edit list discards do not count."""
    declared = _declared_duration_s(container)
    if not declared:
        return  # no length claimed (a live WebM recording): nothing to contradict
    slack = max(1.0, 0.05 * declared)
    start = container.start_time or 0
    try:
        container.seek(int(declared * av.time_base) + start, backward=True)
        for count, packet in enumerate(container.demux()):
            s = packet.stream
            if packet.pts is None or s.time_base is None or packet.is_discard:
                continue
            end = float((packet.pts - (s.start_time or 0) + (packet.duration or 0)) * s.time_base)
            if end > declared + slack:
                raise MediaRejected(WRONG_LENGTH.format(declared=declared))
            if count > 2000:
                return
    except (av.error.FFmpegError, ValueError):
        return  # a seek the demuxer cannot do proves nothing either way


def _container_type(container, kind: str, video, audio) -> tuple[str, str]:
    name = container.format.name
    vcodecs = {s.codec_context.name for s in video}
    acodecs = {s.codec_context.name for s in audio}
    if name.startswith("mov,"):
        brand = (container.metadata.get("major_brand") or "").strip().lower()
        if kind == "audio":
            return "audio/mp4", "m4a"
        if brand == "qt":
            return "video/quicktime", "mov"
        return "video/mp4", "mp4"
    if name == "matroska,webm":
        is_webm = vcodecs <= WEBM_VIDEO_CODECS and acodecs <= WEBM_AUDIO_CODECS
        if kind == "audio":
            return ("audio/webm", "webm") if is_webm else ("audio/x-matroska", "mka")
        return ("video/webm", "webm") if is_webm else ("video/x-matroska", "mkv")
    if kind == "video":
        # Ogg with Theora: a video, but not one of the containers we promise to play.
        raise MediaRejected(UNSUPPORTED)
    return {
        "mp3": ("audio/mpeg", "mp3"),
        "wav": ("audio/wav", "wav"),
        "ogg": ("audio/ogg", "ogg"),
        "flac": ("audio/flac", "flac"),
    }[name]
