"""Media tasks (queue `media`, see CELERY_TASK_ROUTES). Thin: load by id, call a service."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import services
from .models import MediaItem

logger = logging.getLogger(__name__)

TOO_SLOW = (
    "Processing this file took too long, so it was stopped. It may be damaged or too complex."
)


@shared_task(
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
def process_media(media_id: int) -> str:
    try:
        item = services.media_process(media_id=media_id)
    except SoftTimeLimitExceeded:
        logger.warning("media %s: processing hit the time limit", media_id)
        item = services.media_mark_failed(media_id=media_id, message=TOO_SLOW)
    except services.IllegalTransition:
        return "skipped"  # a redelivered task for an item another run already finished
    return item.status if item else "skipped"


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
