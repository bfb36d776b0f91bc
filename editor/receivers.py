"""The editor's answers to the media library's signals (connected in EditorConfig.ready):
which timelines use a media item, and, when one is deleted, removing its clips through
the editor's own services so each timeline records an undo step and is pushed live."""

from collections import defaultdict

from . import selectors
from .services.clip_batches import clips_delete


def timelines_using_media_item(sender, *, item, **kwargs) -> list[str]:
    return [t.name for t in selectors.timelines_using_media(media_item=item)]


def remove_clips_of_deleted_media(sender, *, item, **kwargs) -> None:
    by_timeline = defaultdict(list)
    for clip in selectors.clips_using_media(media_item=item):
        by_timeline[clip.track.timeline].append(clip)
    for timeline, clips in by_timeline.items():
        # A locked track refuses with a ValidationError, which media_delete turns into
        # a message; nothing is deleted then.
        clips_delete(clips=clips, timeline=timeline)
