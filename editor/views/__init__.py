"""Editor views: the workspace page, the editor panel, the timelines list, and one small
endpoint per edit. Views only parse input (editor.forms), check ownership (another user's
timeline, clip or export is a 404) and call editor.services; a refused edit answers 400
with the service's sentence as plain text, and the browser keeps showing the stored
timeline. A successful edit answers with the re-rendered timeline fragment (the other
tabs get the same fragment pushed by the services)."""

from .common import SESSION_KEY
from .edits import (
    clip_add,
    clip_append,
    clip_move,
    clip_prop,
    clip_trim,
    clips_delete,
    clips_paste,
    clips_shift,
    clips_split,
    timeline_fragment,
    timeline_redo,
    timeline_undo,
    track_delete,
    track_toggle,
)
from .exports import export_cancel, export_list, export_start
from .timelines import (
    editor_panel,
    timeline_create,
    timeline_delete,
    timeline_duplicate,
    timeline_list,
    timeline_open,
    timeline_rename,
    workspace,
)

__all__ = [
    "SESSION_KEY",
    "clip_add",
    "clip_append",
    "clip_move",
    "clip_prop",
    "clip_trim",
    "clips_delete",
    "clips_paste",
    "clips_shift",
    "clips_split",
    "editor_panel",
    "export_cancel",
    "export_list",
    "export_start",
    "timeline_create",
    "timeline_delete",
    "timeline_duplicate",
    "timeline_fragment",
    "timeline_list",
    "timeline_open",
    "timeline_redo",
    "timeline_rename",
    "timeline_undo",
    "track_delete",
    "track_toggle",
    "workspace",
]
