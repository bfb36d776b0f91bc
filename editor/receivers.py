"""The editor's answer to a media item being deleted: remove its clips through the
editor's own services, so each timeline records an undo step and is pushed live."""

from collections import defaultdict

from .models import Clip
from .services.clips import clips_delete


def remove_clips_of_deleted_media(sender, *, item, **kwargs) -> None:
    by_timeline = defaultdict(list)
    for clip in Clip.objects.filter(media_item=item).select_related("track__timeline"):
        by_timeline[clip.track.timeline].append(clip)
    for timeline, clips in by_timeline.items():
        # A locked track refuses with a ValidationError, which media_delete turns into
        # a message; nothing is deleted then.
        clips_delete(clips=clips, timeline=timeline)
