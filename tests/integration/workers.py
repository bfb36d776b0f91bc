"""Pipeline integration helpers: a provider emulator shared by a test module, and the
session's real Celery worker re-started with that emulator's settings (so no second worker
on the same queues runs with the wrong environment), plus polling helpers.

    fal = started_fal_emulator()           # module fixture
    with worker_env(celery_worker, pipeline_env(fal, media_root)) as worker:
        ...  worker.kill(); worker.start()  # SIGKILL and restart, same environment
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.harness.processes import CeleryWorker, wait_until

# Fast pipeline timing for tests: polls every 0.2-0.5 s, short retries and leases.
FAST_TIMING = {
    "GENERATION_POLL_MIN_S": "0.2",
    "GENERATION_POLL_MAX_S": "0.5",
    "GENERATION_RETRY_BASE_S": "0.2",
    "GENERATION_RETRY_MAX_S": "1.0",
    "GENERATION_MAX_ATTEMPTS": "5",
    "GENERATION_LEASE_S": "3",
    "GENERATION_SWEEP_GRACE_S": "1",
    "PROVIDER_HTTP_TIMEOUT_S": "2",
    "GENERATION_RATE": "10000/m",
    "GENERATION_COOLDOWN_S": "0",
    "GENERATION_MAX_CONCURRENT": "1000",
    "GENERATION_MONTHLY_BUDGET_USD": "1000",
}


def pipeline_env(
    *, media_root: Path, fal=None, replicate=None, public_base_url: str = "", **extra: str
) -> dict[str, str]:
    env = dict(FAST_TIMING)
    env["MEDIA_ROOT"] = str(media_root)
    env["PUBLIC_BASE_URL"] = public_base_url
    if fal is not None:
        env.update(fal.settings_env())
    if replicate is not None:
        env.update(replicate.settings_env())
    env.update(extra)
    return env


def apply_to_settings(settings, env: dict[str, str]) -> None:
    """Give the test process the same settings the worker runs with."""
    from decimal import Decimal

    for name, value in env.items():
        if name in (
            "GENERATION_MAX_ATTEMPTS",
            "GENERATION_COOLDOWN_S",
            "GENERATION_MAX_CONCURRENT",
        ):
            setattr(settings, name, int(value))
        elif name == "GENERATION_MONTHLY_BUDGET_USD":
            setattr(settings, name, Decimal(value))
        elif name.endswith("_S"):
            setattr(settings, name, float(value))
        elif name == "MEDIA_ROOT":
            setattr(settings, name, Path(value))
        else:
            setattr(settings, name, value)


@contextmanager
def worker_env(worker: CeleryWorker, extra: dict[str, str]) -> Iterator[CeleryWorker]:
    """Restart `worker` with `extra` in its environment; restore it afterwards."""
    saved = dict(worker.env)
    worker.stop()
    worker.env = {**saved, **extra}
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        worker.env = saved
        worker.start()


def wait_for_job(job, statuses, *, timeout: float = 30.0):
    """Poll the database until the job reaches one of `statuses`; returns the fresh row."""
    wanted = {statuses} if isinstance(statuses, str) else set(statuses)

    def reached():
        job.refresh_from_db()
        return job if job.status in wanted else None

    try:
        return wait_until(reached, timeout=timeout, interval=0.05, what=f"job {job.pk} -> {wanted}")
    except TimeoutError as exc:
        raise TimeoutError(
            f"{exc}; job is {job.status} ({job.error_code}: {job.error_message})"
        ) from None


def wait_for(condition, *, timeout: float = 30.0, what: str = "condition"):
    return wait_until(condition, timeout=timeout, interval=0.05, what=what)
