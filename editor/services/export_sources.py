"""Building the export spec: the timeline frozen as plain data for the graph builder
(editor.export.spec), and, in the worker, stored-object sources copied to local files."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from django.core.files.storage import default_storage

from editor.export.spec import ClipSpec, TimelineSpec, TrackSpec
from editor.models import Clip, Timeline, Track

# Remote storage: the frozen spec names the stored object, not a signed URL that would
# expire while the export waits in the queue; export_run copies it to a local file.
STORED = "storage:"


def _media_path(item) -> str:
    try:
        return item.file.path
    except NotImplementedError:
        return STORED + item.file.name


def spec_with_local_sources(spec: TimelineSpec, folder: Path) -> TimelineSpec:
    """Replace stored-object names with local copies in `folder` (one download per
    object), so ffmpeg reads files whatever the storage backend."""
    copies: dict[str, str] = {}

    def local(path: str) -> str:
        if not path.startswith(STORED):
            return path
        name = path[len(STORED) :]
        if name not in copies:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{len(copies)}{Path(name).suffix}"
            with default_storage.open(name, "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            copies[name] = str(target)
        return copies[name]

    return TimelineSpec(
        tracks=tuple(
            replace(t, clips=tuple(replace(c, path=local(c.path)) for c in t.clips))
            for t in spec.tracks
        )
    )


def timeline_spec(timeline: Timeline) -> TimelineSpec:
    """The ORM timeline as plain data for the graph builder (2 queries)."""
    clips_by_track: dict[int, list[ClipSpec]] = {}
    for clip in (
        Clip.objects.filter(track__timeline=timeline)
        .select_related("media_item")
        .order_by("start_s", "id")
    ):
        item = clip.media_item
        clips_by_track.setdefault(clip.track_id, []).append(
            ClipSpec(
                path=_media_path(item),
                media_kind=item.kind,
                start_s=clip.start_s,
                in_s=clip.in_s,
                out_s=clip.out_s,
                volume=clip.volume,
                fade_in_s=clip.fade_in_s,
                fade_out_s=clip.fade_out_s,
                has_audio=item.has_audio or item.kind == "audio",
                src_fps=item.fps,
            )
        )
    tracks = Track.objects.filter(timeline=timeline).order_by("order", "id")
    return TimelineSpec(
        tracks=tuple(
            TrackSpec(
                kind=t.kind,
                muted=t.muted,
                hidden=t.hidden,
                clips=tuple(clips_by_track.get(t.pk, ())),
            )
            for t in tracks
        )
    )
