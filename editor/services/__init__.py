"""Editor write API. Every function is keyword-only and raises
django.core.exceptions.ValidationError (with one plain sentence in `.messages[0]`) when
the edit is refused; a refused edit stores nothing.

Times are float seconds, rounded to the millisecond on the way in. `start_s` is on the
timeline; `in_s` / `out_s` are positions in the source media.

Timelines and tracks
    timeline_create(*, owner, name="Untitled timeline", preset="1920x1080", fps=30.0) -> Timeline
        presets: Timeline.Preset ("1920x1080", "1080x1920", "1080x1080", "1280x720");
        starts with one video track and one audio track.
    timeline_rename(*, timeline, name) -> Timeline
    timeline_set_format(*, timeline, preset, fps) -> Timeline
    timeline_duplicate(*, timeline, name=None) -> Timeline          (no history copied)
    timeline_delete(*, timeline) -> None
    track_create(*, timeline, kind) -> Track                         (undoable)
    track_update(*, track, muted=None, hidden=None, locked=None) -> Track   (undoable)
    track_delete(*, track) -> None                                   (undoable, with clips)

Clips (all undoable; a video clip and its linked audio clip edit together)
    clip_add(*, timeline, media_item, start_s, track=None, in_s=None, out_s=None) -> list[Clip]
        track=None: a new track of the media's kind. Returns [clip] or [video, linked audio].
    clip_move(*, clip, start_s, track=None, new_track=False) -> Clip
    clips_move(*, timeline, clips, delta_s) -> list[Clip]            (multi-select nudge)
    clip_trim(*, clip, edge, in_s=None, out_s=None) -> Clip          edge "in" | "out"
    clip_split(*, clip, at_s) -> (left, right)                       at_s = timeline time
    clips_split_at(*, timeline, at_s, clips=None) -> list[Clip]      (one undo step; right halves)
        clips=None: every clip under the playhead on an unlocked track.
    clip_delete(*, clip) -> int;  clips_delete(*, timeline, clips) -> int
    clip_ripple_delete(*, clip) -> int;  clips_ripple_delete(*, timeline, clips) -> int
    clips_paste(*, timeline, clips, at_s) -> list[Clip]
    clip_set_volume(*, clip, volume) -> Clip                         0..2 linear
    clip_set_fade(*, clip, edge, seconds) -> Clip                    edge "in" | "out"; this clip only
    clip_unlink(*, clip) -> None
    `clips` arguments accept Clip objects or ids.

History
    timeline_undo(*, timeline) -> EditOperation | None   (None: nothing to undo)
    timeline_redo(*, timeline) -> EditOperation | None

Exports
    export_start(*, timeline, preset="1080p", fps=None, file_name=None) -> Export
        preset: Export.Preset ("1080p", "720p", "480p", "timeline"); fps None = timeline's.
    export_cancel(*, export) -> Export

Every recorded edit (and undo/redo) pushes "editor/partials/timeline.html" with
{"timeline": t, "oob": True} to the owner's open tabs after commit (editor.live).
"""

from .clip_batches import (
    clips_delete,
    clips_move,
    clips_paste,
    clips_ripple_delete,
    clips_split_at,
)
from .clips import (
    clip_add,
    clip_delete,
    clip_move,
    clip_ripple_delete,
    clip_set_fade,
    clip_set_volume,
    clip_split,
    clip_trim,
    clip_unlink,
)
from .exports import export_cancel, export_start
from .history import timeline_redo, timeline_undo
from .timelines import (
    timeline_create,
    timeline_delete,
    timeline_duplicate,
    timeline_rename,
    timeline_set_format,
    track_create,
    track_delete,
    track_update,
)

__all__ = [
    "clip_add",
    "clip_delete",
    "clip_move",
    "clip_ripple_delete",
    "clip_set_fade",
    "clip_set_volume",
    "clip_split",
    "clip_trim",
    "clip_unlink",
    "clips_delete",
    "clips_move",
    "clips_paste",
    "clips_ripple_delete",
    "clips_split_at",
    "export_cancel",
    "export_start",
    "timeline_create",
    "timeline_delete",
    "timeline_duplicate",
    "timeline_redo",
    "timeline_rename",
    "timeline_set_format",
    "timeline_undo",
    "track_create",
    "track_delete",
    "track_update",
]
