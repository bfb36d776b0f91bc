"""Recovery for exports whose worker died mid-render.

An export task is acknowledged late, but Redis redelivers an unacknowledged task only
after the broker's visibility timeout (hours, so a long render is never run twice). Until
then a SIGKILLed or OOM-killed worker would leave the export "running" forever with its
partial MP4 on disk. A running export writes progress (and so `updated_at`) at least
every EXPORT_STALL_TIMEOUT_S, or the runner's watchdog ends it; one silent for
EXPORT_SWEEP_AFTER_S has no live worker, so the sweeper fails it with a plain sentence
and removes what it left behind. A late redelivery then finds it failed and does nothing.
"""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from editor.models import Export

from .exports import export_mark_failed, export_work_dir

logger = logging.getLogger(__name__)

WORKER_LOST = (
    "The export stopped because the worker rendering it quit unexpectedly. "
    "Nothing was saved; start the export again."
)


def export_leftovers_remove(*, export_id: int) -> None:
    """The partial MP4 and the fetched sources of one export, if any."""
    folder = export_work_dir()
    (folder / f"export-{export_id}.mp4").unlink(missing_ok=True)
    shutil.rmtree(folder / f"export-{export_id}-sources", ignore_errors=True)


def export_sweep(*, stale_after_s: float | None = None) -> list[int]:
    """Fail running exports with no progress for `stale_after_s` (default
    EXPORT_SWEEP_AFTER_S); returns their ids."""
    if stale_after_s is None:
        stale_after_s = settings.EXPORT_SWEEP_AFTER_S
    cutoff = timezone.now() - timedelta(seconds=stale_after_s)
    stale = list(
        Export.objects.filter(status=Export.Status.RUNNING, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:100]
    )
    failed: list[int] = []
    for export_id in stale:
        with transaction.atomic():
            export = Export.objects.select_for_update().filter(pk=export_id).first()
            # Re-checked under the lock: the worker may have written progress meanwhile.
            if (
                export is None
                or export.status != Export.Status.RUNNING
                or export.updated_at >= cutoff
            ):
                continue
            # The worker's own guarded running -> failed step; the lock keeps it from
            # racing the recheck above, so it cannot find the export moved.
            export_mark_failed(export_id=export_id, message=WORKER_LOST)
        export_leftovers_remove(export_id=export_id)
        logger.warning("export %s: no progress for %ss, marked failed", export_id, stale_after_s)
        failed.append(export_id)
    return failed
