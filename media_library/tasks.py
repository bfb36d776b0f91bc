"""Media tasks (queue `media`, see CELERY_TASK_ROUTES). Thin: load by id, call a service."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.db.models import Q
from django.utils import timezone

from . import services
from .models import MediaItem

logger = logging.getLogger(__name__)

TOO_SLOW = (
    "Processing this file took too long, so it was stopped. It may be damaged or too complex."
)
CRASHED = (
    "Processing this file stopped the worker several times, so it was given up. It may be damaged."
)

# A worker SIGKILLed mid-task leaves the message unacked in Redis until the visibility
# timeout (hours), and requeue_stuck waits minutes. So each run records a claim naming its
# worker node; when that node starts again (a supervisor restart) it re-dispatches what its
# previous life was processing. The attempt count stops a file that crashes the worker
# itself from looping forever. Kept in the cache (Redis): losing it only falls back to
# requeue_stuck.
MAX_ATTEMPTS = 3
CLAIM_TTL_S = 24 * 3600


def _claim_key(media_id: int) -> str:
    return f"media-processing-claim:{media_id}"


# What a run still has to do: processing, or (a worker stopped between the two steps of
# services.media_process) a ready video waiting for its filmstrip and refined poster.
UNFINISHED = Q(status=MediaItem.Status.PROCESSING) | Q(
    status=MediaItem.Status.READY, metadata__thumbnails=services.THUMBS_KEYFRAME
)


@shared_task(
    bind=True,
    name="media_library.tasks.process_media",
    soft_time_limit=settings.MEDIA_PROBE_TIME_LIMIT_S,
    # The hard limit kills the child if even the soft-limit handler hangs inside FFmpeg.
    time_limit=settings.MEDIA_PROBE_TIME_LIMIT_S + 30,
    # A database that is briefly away (restart, failover, a locked SQLite file) must not
    # leave the item in "processing" until the sweeper: processing is idempotent, retry.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=6,
)
def process_media(self, media_id: int) -> str:
    if not MediaItem.objects.filter(UNFINISHED, pk=media_id).exists():
        return "skipped"  # a redelivered task for an item another run already finished
    claim = cache.get(_claim_key(media_id)) or {}
    attempts = int(claim.get("attempts", 0)) + 1
    cache.set(
        _claim_key(media_id),
        {"node": self.request.hostname or "", "attempts": attempts},
        timeout=CLAIM_TTL_S,
    )
    logger.info("media %s: processing started (attempt %s)", media_id, attempts)
    try:
        if attempts > MAX_ATTEMPTS:
            item = services.media_give_up(media_id=media_id, message=CRASHED)
        else:
            item = services.media_process(media_id=media_id)
    except SoftTimeLimitExceeded:
        logger.warning("media %s: processing hit the time limit", media_id)
        item = services.media_give_up(media_id=media_id, message=TOO_SLOW)
    except services.IllegalTransition:
        return "skipped"  # another run finished it while this one worked
    finally:
        # Reached on success, failure and retry alike; only a killed process skips it.
        cache.delete(_claim_key(media_id))
    return item.status if item else "skipped"


def requeue_interrupted(*, node: str) -> int:
    """Re-dispatch the items a previous life of worker `node` was processing when it died."""
    ids = list(MediaItem.objects.filter(UNFINISHED).values_list("pk", flat=True)[:2000])
    claims = cache.get_many([_claim_key(media_id) for media_id in ids])
    mine = [
        media_id for media_id in ids if (claims.get(_claim_key(media_id)) or {}).get("node") == node
    ]
    for media_id in mine:
        process_media.delay(media_id)
    if mine:
        logger.warning("re-dispatched %s media item(s) interrupted on %s", len(mine), node)
    return len(mine)


@worker_ready.connect
def _requeue_interrupted_on_start(sender=None, **_kwargs) -> None:
    try:
        requeue_interrupted(node=sender.hostname)
    except Exception:  # noqa: BLE001 - never stop a worker from starting; requeue_stuck remains
        logger.exception("could not re-dispatch interrupted media items")


@shared_task(name="media_library.tasks.requeue_stuck")
def requeue_stuck() -> int:
    """Re-enqueue items left in PROCESSING (broker down at upload time, worker killed
    past the visibility timeout). Processing is idempotent, so a duplicate is harmless."""
    cutoff = timezone.now() - timedelta(seconds=settings.MEDIA_PROBE_TIME_LIMIT_S * 3)
    ids = list(
        MediaItem.objects.filter(
            status=MediaItem.Status.PROCESSING, updated_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    )
    for media_id in ids:
        process_media.delay(media_id)
    return len(ids)


@shared_task(name="media_library.tasks.expire_partial_uploads")
def expire_partial_uploads() -> dict[str, int]:
    """Remove chunked uploads idle longer than UPLOAD_EXPIRE_HOURS (row and partial file)
    and partial files in UPLOAD_PARTIAL_DIR that no live upload owns."""
    from . import uploads

    return uploads.expire_partial_uploads()
