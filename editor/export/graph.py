"""Pure: a TimelineSpec in, one ffmpeg command line out (one -filter_complex graph).

How the picture is built
- Every time is snapped to the output frame grid (frame = round(seconds * fps)), so clip
  boundaries, gaps and the total length are exact frame counts.
- The lowest visible video track that has clips is the base layer: its clips and black gap
  fillers are concatenated (the cheap path: no blending, same cost as a plain concat).
  Each clip: trim by its absolute in/out points -> setpts -> fps conversion -> scale to
  fit + pad to the output size -> clone-pad and cut to exactly its frame count.
- Video tracks above it are overlaid clip by clip, scaled to fit (not padded, so the layer
  below shows around a different aspect ratio), placed with setpts and shown only inside
  their time range (overlay enable='between(t,...)').
- Images are scaled once and looped for their duration.
- Fades (video): counted in output frames of the clip (fade=...:s=first:n=count), from /
  to black, applied after the clip is cut to its frame count, so a fade lasts exactly
  round(seconds * fps) frames whatever the source's frame rate. The preview's opacity
  over its black stage is the same ramp.
- Audio: each audio clip is trimmed, resampled to 48 kHz stereo, scaled by its volume,
  faded in/out linearly (afade, on the clip's own 0-based time, before the delay),
  delayed to its start (adelay) and mixed with amix normalize=0 (no automatic volume drop)
  over a silent bed (anullsrc) exactly as long as the picture, so there is sound (or
  silence) from the first to the last frame. Video clips carry no sound themselves: their
  sound is the linked audio clip on an audio track (see editor.models).
- Hidden video tracks and muted audio tracks are left out.

Sources far into a long file are opened with an input seek (-ss) a little before the in
point so ffmpeg does not decode minutes of footage to throw them away; the trim points are
then relative to that seek point. Every input is bounded with -t.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .spec import ClipSpec, TimelineSpec, TrackSpec

SAMPLE_RATE = 48000
# Seek into a source when the in point is at least this far in (seconds).
SEEK_MIN_S = 5.0
# Keep this much before the in point when seeking (the trim does the exact cut).
SEEK_MARGIN_S = 1.0


class EmptyTimelineError(ValueError):
    """Nothing visible or audible to export."""


def fps_fraction(fps: float) -> Fraction:
    """29.97 -> 30000/1001, 23.976 -> 24000/1001, 30 -> 30."""
    value = float(fps)
    if value <= 0:
        raise ValueError("fps must be positive")
    for base in (24, 30, 60, 120):
        ntsc = Fraction(base * 1000, 1001)
        if abs(value - float(ntsc)) < 0.005:
            return ntsc
    return Fraction(value).limit_denominator(1001)


def _fmt(value: float) -> str:
    """Seconds with microsecond precision and no exponent notation."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _rate(fr: Fraction) -> str:
    return str(fr.numerator) if fr.denominator == 1 else f"{fr.numerator}/{fr.denominator}"


@dataclass
class _Inputs:
    args: list[str]
    index: dict

    def add(self, clip: ClipSpec) -> tuple[int, float]:
        """Input number for this clip's source and the seek offset already applied."""
        if clip.media_kind == "image":
            key = (clip.path, "image")
            seek = 0.0
            opts: list[str] = []
        else:
            seek = max(0.0, clip.in_s - SEEK_MARGIN_S) if clip.in_s >= SEEK_MIN_S else 0.0
            limit = clip.out_s - seek + 1.0
            key = (clip.path, round(seek, 6), round(limit, 6))
            opts = (["-ss", _fmt(seek)] if seek else []) + ["-t", _fmt(limit)]
        if key not in self.index:
            self.index[key] = len(self.index)
            self.args += [*opts, "-i", clip.path]
        return self.index[key], seek


def _frames(seconds: float, fr: Fraction) -> int:
    return int(round(Fraction(seconds).limit_denominator(1_000_000) * fr))


def _video_chain(
    clip: ClipSpec,
    src: int,
    seek: float,
    *,
    frames: int,
    first_frame: int,
    width: int,
    height: int,
    fr: Fraction,
    pad: bool,
) -> str:
    rate = _rate(fr)
    fit = f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2"
    if pad:
        fit += f",pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black"
    pix = "yuv420p" if pad else ("yuva420p" if clip.media_kind == "image" else "yuv420p")
    place = f"setpts=(N+{first_frame})/({rate})/TB" if first_frame else f"setpts=N/({rate})/TB"
    if clip.media_kind == "image":
        steps = [fit, "setsar=1", f"format={pix}", "loop=loop=-1:size=1:start=0"]
    else:
        cut = f"trim=start={_fmt(clip.in_s - seek)}:end={_fmt(clip.out_s - seek)}"
        conform = f"fps={rate}"
        # Drop frames before scaling when the source is faster than the output; scale
        # first otherwise (then duplicated frames are not scaled twice).
        if clip.src_fps and clip.src_fps > float(fr) + 0.01:
            order = [conform, fit]
        else:
            order = [fit, conform]
        steps = [cut, "setpts=PTS-STARTPTS", *order, "setsar=1", f"format={pix}"]
        # A source that ends a frame early is held on its last frame, never short.
        steps.append("tpad=stop=-1:stop_mode=clone")
    steps += [f"trim=end_frame={frames}", *_video_fades(clip, frames, fr), place]
    return f"[{src}:v]" + ",".join(steps)


def _video_fades(clip: ClipSpec, frames: int, fr: Fraction) -> list[str]:
    """fade filters for the clip's first / last frames; a fade is never longer than the
    frames the clip has on the output grid."""
    steps = []
    fade_in = min(_frames(clip.fade_in_s, fr), frames)
    fade_out = min(_frames(clip.fade_out_s, fr), frames)
    if fade_in > 0:
        steps.append(f"fade=t=in:s=0:n={fade_in}:color=black")
    if fade_out > 0:
        steps.append(f"fade=t=out:s={frames - fade_out}:n={fade_out}:color=black")
    return steps


def _gap(frames: int, *, width: int, height: int, fr: Fraction) -> str:
    return (
        f"color=c=black:s={width}x{height}:r={_rate(fr)},trim=end_frame={frames},"
        f"setsar=1,format=yuv420p"
    )


def build_ffmpeg_args(
    timeline_spec: TimelineSpec,
    *,
    output_path: str,
    width: int,
    height: int,
    fps: float,
    ffmpeg: str = "ffmpeg",
    x264_preset: str = "veryfast",
    crf: int = 20,
    audio_bitrate: str = "192k",
) -> list[str]:
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError("output width and height must be positive even numbers")
    fr = fps_fraction(fps)
    rate = _rate(fr)
    total = _frames(timeline_spec.duration_s, fr)
    if total <= 0:
        raise EmptyTimelineError("Nothing to export: the timeline is empty.")
    total_s = Fraction(total) / fr
    inputs = _Inputs(args=[], index={})
    chains: list[str] = []
    size = {"width": width, "height": height, "fr": fr}

    video_tracks = [t for t in timeline_spec.tracks if t.kind == "video" and t.active and t.clips]
    layers = list(reversed(video_tracks))  # bottom layer first
    current = _base_layer(layers[0] if layers else None, inputs, chains, total, size)
    for layer_no, track in enumerate(layers[1:], start=1):
        for clip_no, clip in enumerate(sorted(track.clips, key=lambda c: c.start_s)):
            first = _frames(clip.start_s, fr)
            last = min(_frames(clip.end_s, fr), total)
            if last <= first:
                continue
            src, seek = inputs.add(clip)
            label = f"o{layer_no}_{clip_no}"
            chains.append(
                _video_chain(
                    clip, src, seek, frames=last - first, first_frame=first, pad=False, **size
                )
                + f"[{label}]"
            )
            start_t = _fmt(float((first - Fraction(1, 2)) / fr))
            end_t = _fmt(float((last - Fraction(1, 2)) / fr))
            out = f"v{layer_no}_{clip_no}"
            chains.append(
                f"[{current}][{label}]overlay=x=(W-w)/2:y=(H-h)/2:eof_action=pass:"
                f"enable='between(t,{start_t},{end_t})'[{out}]"
            )
            current = out
    chains.append(f"[{current}]format=yuv420p[vout]")

    audio_labels = _audio(timeline_spec.tracks, inputs, chains, total_s)
    total_samples = int(round(total_s * SAMPLE_RATE))
    bed = f"anullsrc=r={SAMPLE_RATE}:cl=stereo,atrim=end_sample={total_samples}"
    if audio_labels:
        chains.append(bed + "[bed]")
        mix_inputs = "".join(f"[{a}]" for a in ["bed", *audio_labels])
        chains.append(
            f"{mix_inputs}amix=inputs={len(audio_labels) + 1}:duration=first:"
            f"dropout_transition=0:normalize=0[aout]"
        )
    else:
        chains.append(bed + "[aout]")

    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-y",
        "-v",
        "error",
        *inputs.args,
        "-filter_complex",
        ";".join(chains),
        "-map",
        "[vout]",
        "-map",
        "[aout]",
        "-c:v",
        "libx264",
        "-preset",
        x264_preset,
        "-crf",
        str(crf),
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
        "-r",
        rate,
        "-c:a",
        "aac",
        "-b:a",
        audio_bitrate,
        "-ar",
        str(SAMPLE_RATE),
        "-ac",
        "2",
        "-movflags",
        "+faststart",
        "-progress",
        "pipe:1",
        "-nostats",
        output_path,
    ]


def _base_layer(track: TrackSpec | None, inputs: _Inputs, chains: list[str], total, size) -> str:
    fr = size["fr"]
    segments: list[str] = []
    cursor = 0
    clips = sorted(track.clips, key=lambda c: c.start_s) if track else []
    for clip in clips:
        first = _frames(clip.start_s, fr)
        last = min(_frames(clip.end_s, fr), total)
        if last <= first or first < cursor:
            continue
        if first > cursor:
            segments.append(_gap(first - cursor, **size))
        src, seek = inputs.add(clip)
        segments.append(
            _video_chain(clip, src, seek, frames=last - first, first_frame=0, pad=True, **size)
        )
        cursor = last
    if total > cursor:
        segments.append(_gap(total - cursor, **size))
    if len(segments) == 1:
        chains.append(segments[0] + "[base]")
        return "base"
    labels = []
    for i, segment in enumerate(segments):
        chains.append(f"{segment}[s{i}]")
        labels.append(f"[s{i}]")
    chains.append(
        f"{''.join(labels)}concat=n={len(labels)}:v=1:a=0,setpts=N/({_rate(fr)})/TB[base]"
    )
    return "base"


def _audio(tracks, inputs: _Inputs, chains: list[str], total_s: Fraction) -> list[str]:
    labels = []
    for track_no, track in enumerate(tracks):
        if track.kind != "audio" or not track.active:
            continue
        for clip_no, clip in enumerate(sorted(track.clips, key=lambda c: c.start_s)):
            if clip.media_kind == "image" or (clip.media_kind == "video" and not clip.has_audio):
                continue
            if clip.start_s >= total_s or clip.volume <= 0:
                continue
            src, seek = inputs.add(clip)
            delay = int(round(Fraction(clip.start_s).limit_denominator(1_000_000) * SAMPLE_RATE))
            label = f"a{track_no}_{clip_no}"
            steps = [
                f"atrim=start={_fmt(clip.in_s - seek)}:end={_fmt(clip.out_s - seek)}",
                "asetpts=PTS-STARTPTS",
                f"aresample={SAMPLE_RATE}",
                f"aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo",
            ]
            length = clip.out_s - clip.in_s
            fade_in = min(clip.fade_in_s, length)
            fade_out = min(clip.fade_out_s, length)
            if fade_in > 0:
                steps.append(f"afade=t=in:st=0:d={_fmt(fade_in)}")
            if fade_out > 0:
                steps.append(f"afade=t=out:st={_fmt(length - fade_out)}:d={_fmt(fade_out)}")
            if clip.volume != 1:
                steps.append(f"volume={_fmt(clip.volume)}")
            if delay:
                steps.append(f"adelay=delays={delay}S:all=1")
            chains.append(f"[{src}:a]" + ",".join(steps) + f"[{label}]")
            labels.append(label)
    return labels
