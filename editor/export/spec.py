"""The timeline as plain data, decoupled from the ORM: what the graph builder consumes
and what an Export stores (as JSON) so a render is not affected by later edits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ClipSpec:
    path: str
    media_kind: str  # "video" | "image" | "audio"
    start_s: float  # on the timeline
    in_s: float  # in the source
    out_s: float
    volume: float = 1.0
    has_audio: bool = False
    src_fps: float | None = None
    # Seconds; on a video track from / to black, on an audio track from / to silence.
    # Defaults keep specs frozen before fades existed loadable (from_dict).
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.out_s - self.in_s

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class TrackSpec:
    kind: str  # "video" | "audio"
    clips: tuple[ClipSpec, ...] = ()
    muted: bool = False
    hidden: bool = False

    @property
    def active(self) -> bool:
        """Hidden video tracks are not drawn; muted (or hidden) audio tracks not heard."""
        if self.kind == "video":
            return not self.hidden
        return not (self.muted or self.hidden)


@dataclass(frozen=True)
class TimelineSpec:
    tracks: tuple[TrackSpec, ...] = field(default_factory=tuple)  # top to bottom

    @property
    def duration_s(self) -> float:
        """Up to the end of the last clip that is seen or heard."""
        return max(
            (c.end_s for t in self.tracks if t.active for c in t.clips if self._used(t, c)),
            default=0.0,
        )

    @staticmethod
    def _used(track: TrackSpec, clip: ClipSpec) -> bool:
        return track.kind == "video" or clip.media_kind == "audio" or clip.has_audio

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TimelineSpec:
        return cls(
            tracks=tuple(
                TrackSpec(
                    kind=t["kind"],
                    muted=t.get("muted", False),
                    hidden=t.get("hidden", False),
                    clips=tuple(ClipSpec(**c) for c in t.get("clips", ())),
                )
                for t in data.get("tracks", ())
            )
        )
