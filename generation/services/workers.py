"""Which worker life holds a job's lease, whether that life is still alive, and taking
back the jobs of a dead one the moment a worker (re)starts.

A SIGKILLed worker leaves its jobs claimed (lease_until in the future, its message unacked
until the broker's visibility timeout) and its partial files on disk. Waiting for the
lease to lapse and the sweeper to notice took ~2 minutes. Instead every worker process
life has a boot id; a claim records the boot that made it; a live worker keeps its boot
registered in Redis (a short TTL, refreshed by a thread of the main process, so it dies
with a SIGKILL). A claim whose boot is not registered, or whose node now runs another
boot (the same worker restarted), belongs to a dead worker: its jobs are re-dispatched
through the sweeper's own step (recovery.job_redispatch), whose steps claim the job again
and, for a paid submit, reconcile with the provider's request listing before sending
anything. A claim by a live boot is never taken, whatever its age.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from ..models import LIVE_STATUSES, GenerationJob

logger = logging.getLogger("generation.jobs")

# Made when the module is imported: in a prefork worker that is the main process, before
# the pool forks, so the children share their parent's boot id. A restart is a new id.
BOOT = uuid.uuid4().hex[:16]
ALIVE_TTL_S = 15
REFRESH_EVERY_S = 2
# Three refreshes missed: that life has stopped (clocks of the workers agree to ~1 s).
STALE_S = 6
CLAIM_TTL_S = 7 * 86400
# A work directory of a boot that is merely not registered is removed once this idle.
UNKNOWN_GRACE_S = 600
RECOVER_BATCH = 500

_registered_node: str | None = None


def _boot_key(boot: str) -> str:
    return f"generation:worker-boot:{boot}"


def _claim_key(job_id: int) -> str:
    return f"generation:claim:{job_id}"


def in_worker() -> bool:
    return _registered_node is not None or _current_hostname() is not None


def _current_hostname() -> str | None:
    from celery import current_task

    request = getattr(current_task, "request", None) if current_task else None
    return getattr(request, "hostname", None) if request is not None else None


def record_claim(job_id: int) -> None:
    """Called when this process wins a job's lease (claim_lease). Only inside a worker:
    an eager task in a test or a shell has no life to be found dead."""
    if not in_worker():
        return
    try:
        cache.set(_claim_key(job_id), BOOT, timeout=CLAIM_TTL_S)
    except Exception:  # noqa: BLE001 - the lease still protects the job; recovery is slower
        logger.warning("could not record the claim of job %s", job_id)


def register(node: str) -> None:
    """Mark this boot alive as `node` (main process, at worker_ready), then keep it so."""
    global _registered_node
    _registered_node = node
    _refresh(node)
    thread = threading.Thread(target=_keep_alive, args=(node,), name="boot-alive", daemon=True)
    thread.start()


def unregister() -> None:
    """A clean shutdown: the jobs it still held (none, normally) are free at once."""
    if _registered_node is None:
        return
    try:
        cache.delete(_boot_key(BOOT))
    except Exception:  # noqa: BLE001 - the TTL removes them anyway
        logger.info("could not unregister worker boot %s; its keys expire", BOOT)


def _refresh(node: str) -> None:
    cache.set(_boot_key(BOOT), {"node": node, "at": time.time()}, timeout=ALIVE_TTL_S)


def _keep_alive(node: str) -> None:
    while True:
        time.sleep(REFRESH_EVERY_S)
        try:
            _refresh(node)
        except Exception:  # noqa: BLE001 - Redis down: keep trying; claims stay alive-unknown
            logger.warning("could not refresh worker %s's liveness", node)


def boot_state(boot: str) -> str:
    """ "alive" (refreshed within STALE_S); "stopped" (registered but no longer refreshed:
    its main process is gone, SIGKILL included); or "unknown" (not registered: its TTL
    ran out, or Redis lost its keys). Judged by refreshes, not by node names, so two
    workers wrongly sharing one name never take each other's jobs."""
    entry = cache.get(_boot_key(boot))
    if not isinstance(entry, dict):
        return "unknown"
    return "alive" if time.time() - float(entry.get("at", 0)) < STALE_S else "stopped"


def _heartbeat_missed(job: GenerationJob, now) -> bool:
    """A job's lease_until is pushed to now + lease_s every heartbeat period while its
    worker lives; one that has not moved for more than a period has lost its worker."""
    from .scheduling import lease_s

    period = max(0.5, lease_s() / 3)
    return job.lease_until < now + timedelta(seconds=lease_s() - period - 2)


def recover_dead_claims(*, now=None) -> int:
    """Re-dispatch the live jobs whose lease is held by a dead worker life."""
    from .recovery import job_redispatch

    now = now or timezone.now()
    held = list(
        GenerationJob.objects.filter(status__in=LIVE_STATUSES, lease_until__isnull=False)
        .order_by("pk")
        .only("pk", "status", "lease_until", "next_poll_at", "provider", "cancel_requested")[
            :RECOVER_BATCH
        ]
    )
    if not held:
        return 0
    claims = cache.get_many([_claim_key(job.pk) for job in held])
    states: dict[str, str] = {}
    taken = 0
    for job in held:
        boot = claims.get(_claim_key(job.pk))
        if not boot:
            continue  # claimed before boots were recorded, or by an eager task: the lease rules
        if boot not in states:
            states[boot] = boot_state(boot)
        # "unknown" alone could be Redis having lost the keys of a live worker (a restart
        # without persistence): its lease must also have stopped moving.
        if states[boot] == "alive" or (
            states[boot] == "unknown" and not _heartbeat_missed(job, now)
        ):
            continue
        # Take it only as it was read: a claim renewed or a job moved on meanwhile is not ours.
        if not GenerationJob.objects.filter(
            pk=job.pk, status=job.status, lease_until=job.lease_until
        ).update(lease_until=None):
            continue
        job.lease_until = None
        cache.delete(_claim_key(job.pk))
        if job_redispatch(job, now):
            taken += 1
    if taken:
        logger.warning("re-dispatched %s job(s) held by dead workers", taken)
    return taken


def remove_dead_partials(work_dir: Path) -> int:
    """Remove the work directories (and the *.part files in them) of dead worker lives.
    Each render or download works in a directory named after its boot (see work_prefix)."""
    removed = 0
    states: dict[str, str] = {}
    for entry in work_dir.iterdir() if work_dir.is_dir() else ():
        boot, sep, _rest = entry.name.partition(".")
        if not sep or not boot or boot == BOOT:
            continue
        if boot not in states:
            states[boot] = boot_state(boot)
        if states[boot] == "alive":
            continue
        if states[boot] == "unknown" and time.time() - entry.stat().st_mtime < UNKNOWN_GRACE_S:
            continue  # perhaps a live worker whose keys Redis lost: only when long idle
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    if removed:
        logger.info("removed %s partial work dir(s) of dead workers", removed)
    return removed


def work_prefix() -> str:
    """Prefix of a render's or download's temporary directory: this life's boot id."""
    return f"{BOOT}."


def job_work_dir() -> Path:
    """Where renders and downloads make their temporary directories (each named with
    work_prefix(), so a restarted worker can tell a dead life's leftovers)."""
    path = Path(settings.MEDIA_ROOT) / "tmp" / "generation"
    path.mkdir(parents=True, exist_ok=True)
    return path


def on_worker_ready(node: str) -> None:
    """Register, free what dead lives held, and look again when a life that died just
    before this start has certainly stopped refreshing (STALE_S), and once more when an
    unregistered one has missed a lease heartbeat; the sweeper on the beat remains."""
    from .. import tasks
    from .scheduling import lease_s

    register(node)
    try:
        recover_dead_claims()
        remove_dead_partials(job_work_dir())
    finally:
        connection.close()
    # A life killed moments before this start may still look alive for up to STALE_S.
    for countdown in (STALE_S / 2, STALE_S + 1, max(ALIVE_TTL_S, lease_s() / 3) + 3):
        tasks.recover_dead_workers.apply_async(countdown=countdown)


__all__ = [
    "BOOT",
    "boot_state",
    "job_work_dir",
    "on_worker_ready",
    "record_claim",
    "recover_dead_claims",
    "register",
    "remove_dead_partials",
    "unregister",
    "work_prefix",
]
