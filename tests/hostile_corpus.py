"""A hostile upload corpus, generated (no fixtures on disk): polyglots, bombs, lying and
damaged videos, absurd dimensions, hostile names. Shared by the unit and integration
hostile-input tests and the soak bench.

Each entry is (name sent by the browser, bytes, expectation). An expectation is either
`Refused(status, message_fragment)` or `Accepted(kind, mime)`.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from media_library.testing import make_image_bytes, make_video


@dataclass(frozen=True)
class Refused:
    status: int
    message: str


@dataclass(frozen=True)
class Accepted:
    kind: str
    mime: str


NOT_MEDIA = "not a video, image or audio file we can read"
TRUNCATED = "damaged or incomplete"
TOO_LARGE = "too large"
EMPTY = "empty (0 bytes)"
UNSUPPORTED = "not supported"
LYING = "wrong length"

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int, *, idat: bytes | None = None) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat if idat is not None else zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


def one_bit_png(width: int, height: int) -> bytes:
    """A real, fully decodable image that compresses to a few kB: a true bomb."""
    buf = io.BytesIO()
    Image.new("1", (width, height)).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def gif_declaring(width: int, height: int) -> bytes:
    """A GIF whose logical screen is huge and whose only frame is 1×1."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0)
    palette = b"\0\0\0\xff\xff\xff"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return header + palette + image + b"\x3b"


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real small JPEG whose SOF0 is patched to claim width×height."""
    data = bytearray(make_image_bytes("JPEG", size=(16, 16)))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def mp4_with_declared_duration(data: bytes, factor: float) -> bytes:
    """Rewrite mvhd/tkhd/mdhd durations (version 0 boxes) by `factor`: the header lies
    about how long the clip is, the samples stay as they are."""
    out = bytearray(data)
    for box, offset in ((b"mvhd", 16), (b"tkhd", 20), (b"mdhd", 16)):
        start = 0
        while (at := out.find(box, start)) >= 0:
            pos = at + 4 + offset
            (value,) = struct.unpack(">I", out[pos : pos + 4])
            out[pos : pos + 4] = struct.pack(">I", max(1, int(value * factor)))
            start = at + 4
    return bytes(out)


def corrupt_tail(data: bytes) -> bytes:
    """Flip bytes in the second half of the media data: the header and the first frames
    are intact, later frames are garbage (a bad disk, a bad transfer)."""
    out = bytearray(data)
    mdat = out.find(b"mdat")
    begin = mdat + (len(out) - mdat) // 2
    for i in range(begin, len(out) - 64, 5):
        out[i] ^= 0x5A
    return bytes(out)


def zero_mdat(data: bytes) -> bytes:
    out = bytearray(data)
    mdat = out.find(b"mdat")
    out[mdat + 4 :] = bytes(len(out) - mdat - 4)
    return bytes(out)


def corpus(tmp_path: Path) -> dict[str, tuple[str, bytes, Refused | Accepted]]:
    clip = make_video(tmp_path / "clip.mp4", seconds=3, audio=True, faststart=True).read_bytes()
    tail_clip = make_video(tmp_path / "tail.mp4", seconds=3).read_bytes()
    webm = make_video(tmp_path / "clip.webm", seconds=2, codec="libvpx-vp9").read_bytes()
    png = make_image_bytes("PNG", size=(64, 48))
    gif = make_image_bytes("GIF", size=(64, 48))
    return {
        # --- polyglots ---------------------------------------------------------------
        "png then html (valid png, html trailer)": (
            "invoice.png",
            png + HTML,
            Accepted("image", "image/png"),
        ),
        "png signature then html": (
            "x.html.png",
            b"\x89PNG\r\n\x1a\n" + HTML,
            Refused(400, NOT_MEDIA),
        ),
        "gif header then javascript": (
            "x.gif",
            b"GIF89a/*\x00\x00\x00\x00*/=1;alert(document.domain);//" + bytes(40),
            Refused(400, NOT_MEDIA),
        ),
        "valid gif then javascript": (
            "anim.gif",
            gif + b"\n;alert(1)//",
            Accepted("image", "image/gif"),
        ),
        "svg with script": (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            Refused(400, NOT_MEDIA),
        ),
        "html named mp4": ("video.mp4", HTML * 20, Refused(400, NOT_MEDIA)),
        "hls playlist reading a local file": (
            "stream.m3u8",
            b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n",
            Refused(400, NOT_MEDIA),
        ),
        "ffconcat reading a local file": (
            "list.txt",
            b"ffconcat version 1.0\nfile '/etc/passwd'\n",
            Refused(400, NOT_MEDIA),
        ),
        # --- bombs and absurd dimensions ---------------------------------------------
        "png header declaring 100k x 100k": (
            "bomb.png",
            png_declaring(100_000, 100_000),
            Refused(413, TOO_LARGE),
        ),
        "real 1-bit png just over the pixel cap": (
            "bomb2.png",
            one_bit_png(7100, 7100),
            Refused(413, TOO_LARGE),
        ),
        "gif logical screen 65535 x 65535": (
            "screen.gif",
            gif_declaring(65535, 65535),
            Refused(413, TOO_LARGE),
        ),
        "jpeg claiming 65000 x 65000": (
            "huge.jpg",
            jpeg_declaring(65000, 65000),
            Refused(413, TOO_LARGE),
        ),
        "gif 7000 x 7000 canvas, 100 one-pixel frames (2 kB)": (
            "party.gif",
            animated_gif_bomb(7000, 7000, 100),
            Refused(413, TOO_LARGE),
        ),
        "animated webp 7000 x 7000 canvas, 100 frames": (
            "party.webp",
            animated_webp_bomb(7000, 7000, 100),
            Refused(413, TOO_LARGE),
        ),
        "small animated gif": ("dance.gif", small_animated_gif(), Accepted("image", "image/gif")),
        "png declaring zero width": (
            "zero.png",
            png_declaring(0, 10),
            Refused(400, NOT_MEDIA),
        ),
        "png 60000 x 1 (absurd shape, under the cap)": (
            "strip.png",
            one_bit_png(60000, 1),
            Accepted("image", "image/png"),
        ),
        "png 1 x 40000": ("tall.png", one_bit_png(1, 40000), Accepted("image", "image/png")),
        # --- damaged and lying video ---------------------------------------------------
        "zero bytes": ("empty.mp4", b"", Refused(400, EMPTY)),
        "mp4 cut at 40 percent": (
            "cut.mp4",
            clip[: len(clip) * 4 // 10],
            Refused(400, TRUNCATED),
        ),
        "mp4 with index last, cut in half": (
            "cut2.mp4",
            tail_clip[: len(tail_clip) // 2],
            Refused(400, TRUNCATED),
        ),
        "webm cut in half": ("cut.webm", webm[: len(webm) // 2], Refused(400, TRUNCATED)),
        "mp4 header only (first 64 bytes)": ("head.mp4", clip[:64], Refused(400, NOT_MEDIA)),
        "mp4 with zeroed media data": ("zeros.mp4", zero_mdat(clip), Refused(400, NOT_MEDIA)),
        # FFmpeg takes the length from the sample table when the header claims more, so
        # this one is stored with its true length (the integration test checks 3 s).
        "mp4 claiming 100x its length": (
            "long-lie.mp4",
            mp4_with_declared_duration(clip, 100),
            Accepted("video", "video/mp4"),
        ),
        "mp4 claiming a tenth of its length": (
            "short-lie.mp4",
            mp4_with_declared_duration(clip, 0.1),
            Refused(400, LYING),
        ),
        "mp4 with garbage in its second half": (
            "garbled.mp4",
            corrupt_tail(clip),
            Accepted("video", "video/mp4"),
        ),
        "random bytes named mov": ("noise.mov", bytes(range(256)) * 300, Refused(400, NOT_MEDIA)),
    }


HOSTILE_NAMES = {
    "path traversal": "../../../../etc/passwd.png",
    "windows traversal": "..\\..\\..\\Windows\\win.ini.png",
    "absolute path": "/var/www/html/index.png",
    "url-encoded traversal": "%2e%2e%2f%2e%2e%2fescape.png",
    "very long": ("clip-" * 2000) + ".png",
    "unicode": "🎬 Clip ✂️ 日本語 مرحبا Ünïcödé.png",
    "bidi override": "harmless\u202egnp.exe",
    "control characters": "a\x01b\x1b[31mred\x7f.png",
    "markup": '<img src=x onerror="alert(1)">.png',
    "only dots": "...",
    "reserved windows name": "CON.png",
    "newline header injection": "a.png\r\nContent-Type: text/html",
}


# --- animation bombs (tests/unit/test_image_bombs.py) ------------------------------------


def animated_gif_bomb(
    width: int, height: int, frames: int, *, frame_size: tuple[int, int] = (1, 1)
) -> bytes:
    """A GIF of a few bytes per frame whose every frame is composited on a width×height
    canvas: decoding it costs frames × width × height, whatever the file size (the issue's
    2 KB file with a 7000×7000 canvas and 100 frames took ~10 s and +800 MB)."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    loop = b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    fw, fh = frame_size
    frame = (
        b"!\xf9\x04\x04\x0a\x00\x00\x00"  # graphic control: 100 ms, "do not dispose"
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, fw, fh, 0)
        + b"\x02\x02\x44\x01\x00"  # one pixel of LZW data
    )
    return header + loop + frame * frames + b"\x3b"


def small_animated_gif(*, frames: int = 8, size: tuple[int, int] = (64, 48)) -> bytes:
    """An ordinary animation, as an encoder writes one."""
    images = [Image.new("P", size, i % 2) for i in range(frames)]
    for i, im in enumerate(images):
        im.putpalette([0, 0, 0, 255, 255, 255, 200, 30, 30] + [0] * (256 * 3 - 9))
        im.paste(2, (i * 3 % size[0], 0, i * 3 % size[0] + 4, 4))
    buf = io.BytesIO()
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return buf.getvalue()


def apng_declaring_frames(frames: int) -> bytes:
    """A 16×16 APNG whose acTL chunk claims `frames` frames (it holds one)."""
    ihdr = struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0)
    actl = struct.pack(">II", frames, 0)
    fctl = struct.pack(">IIIIIHHBB", 0, 16, 16, 0, 0, 1, 10, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"acTL", actl)
        + png_chunk(b"fcTL", fctl)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * (17 * 16)))
        + png_chunk(b"IEND", b"")
    )


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[pos : pos + 8])
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 8 + length + (length & 1)
    return chunks


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def animated_webp_bomb(width: int, height: int, frames: int) -> bytes:
    """A real small animated WebP (Pillow) whose canvas is patched to width×height and
    whose first frame is repeated `frames` times: a few kB that decode to frames ×
    width × height pixels (and Pillow allocates the canvas twice when it opens it)."""
    images = [Image.new("RGB", (16, 16), (i * 80, 0, 0)) for i in range(2)]
    buf = io.BytesIO()
    images[0].save(buf, "WEBP", save_all=True, append_images=images[1:], lossless=True)
    chunks = dict(_riff_chunks(buf.getvalue()))
    vp8x = bytearray(chunks[b"VP8X"])
    vp8x[4:7] = (width - 1).to_bytes(3, "little")
    vp8x[7:10] = (height - 1).to_bytes(3, "little")
    body = (
        b"WEBP"
        + _riff_chunk(b"VP8X", bytes(vp8x))
        + _riff_chunk(b"ANIM", chunks[b"ANIM"])
        + _riff_chunk(b"ANMF", chunks[b"ANMF"]) * frames
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body
