"""Pipeline tasks: thin — load by id, call the service, which schedules the next step.

None of them sleeps waiting for a provider, and none is ever revoked with terminate=True:
cancelling is a flag the steps read. They are safe to run twice (late acks redeliver a
task whose worker died): every step claims the job before acting.
"""

import logging

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown

from project.task_retry import DB_RETRY

from . import services
from .services import workers

logger = logging.getLogger("generation.jobs")


@shared_task(name="generation.tasks.submit", **DB_RETRY)
def submit(job_id: int) -> None:
    services.job_submit(job_id=job_id)


@shared_task(name="generation.tasks.poll", bind=True, **DB_RETRY)
def poll(self, job_id: int, seq: int) -> None:
    services.job_poll(job_id=job_id, seq=seq, retried=self.request.retries > 0)


@shared_task(name="generation.tasks.finalize", **DB_RETRY)
def finalize(job_id: int) -> None:
    services.job_finalize(job_id=job_id)


@shared_task(name="generation.tasks.render_local", **DB_RETRY)
def render_local(job_id: int) -> None:
    services.job_render_local(job_id=job_id)


@shared_task(name="generation.tasks.cancel", **DB_RETRY)
def cancel(job_id: int) -> None:
    services.job_cancel_work(job_id=job_id)


@shared_task(name="generation.tasks.sweep", **DB_RETRY)
def sweep() -> dict:
    counts = services.job_sweep()
    counts["dead_worker_jobs"] = workers.recover_dead_claims()
    return counts


@shared_task(name="generation.tasks.recover_dead_workers", **DB_RETRY)
def recover_dead_workers() -> dict:
    """Jobs and partial files of worker lives that are gone (see services.workers)."""
    return {
        "jobs": workers.recover_dead_claims(),
        "partials": workers.remove_dead_partials(workers.job_work_dir()),
    }


@worker_ready.connect
def _recover_on_start(sender=None, **_kwargs) -> None:
    # A worker coming back takes over at once what its previous life (or another dead
    # worker) held, instead of waiting for the lease to lapse and the sweeper (~2 min).
    try:
        workers.on_worker_ready(sender.hostname)
    except Exception:  # noqa: BLE001 - never stop a worker from starting; the sweeper remains
        logger.exception("could not re-dispatch the jobs of dead workers")


@worker_shutdown.connect
def _unregister_on_stop(**_kwargs) -> None:
    workers.unregister()


@shared_task(name="generation.tasks.refresh_prices", **DB_RETRY)
def refresh_prices() -> dict:
    from .services.prices import prices_refresh

    return prices_refresh()
