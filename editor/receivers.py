"""The editor's answers to other apps' signals (connected in EditorConfig.ready): which
timelines use a media item, and, when one is deleted, removing its clips through the
editor's own services so each timeline records an undo step and is pushed live; a
generation job's progress and end, shown by (and filling) its slot on a timeline."""

import logging
from collections import defaultdict

from . import selectors
from .services.clip_batches import clips_delete

logger = logging.getLogger(__name__)


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


def slot_job_changed(sender, *, job, **kwargs) -> None:
    """generation.signals.job_changed: a placed generation moved on; its slot shows it and,
    once the job succeeded, is filled (editor.services.slots)."""
    from .services.slots import slots_job_changed

    slots_job_changed(job=job)


def storyboard_job_changed(sender, *, job, **kwargs) -> None:
    """generation.signals.job_changed: a job that ended frees a place under the user's
    concurrency limit, so their waiting storyboard shots may start."""
    from .services.storyboards import storyboards_job_changed

    storyboards_job_changed(job=job)


def slots_recover_on_worker_ready(sender=None, **kwargs) -> None:
    """celery worker_ready: a worker killed between a job's success and its slot's fill
    left the slot unfilled; the (re)started worker schedules those fills at once."""
    from .services.slots import slots_recover
    from .services.storyboards import storyboards_recover

    try:
        slots_recover()
        storyboards_recover()  # a release lost with a killed worker
    except Exception:  # noqa: BLE001 - never stop a worker from starting
        logger.exception("could not schedule the fill of pending slots")
