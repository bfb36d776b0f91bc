"""The Celery app: JSON only, late acks, one task prefetched at a time (see settings)."""

import os

from celery import Celery
from celery.schedules import crontab  # noqa: F401 - kept for schedules added by apps
from celery.signals import after_setup_logger, after_setup_task_logger, task_postrun, task_prerun

from .logging import install_redaction, request_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("cutroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic sweepers register themselves here by task name; beat runs with the worker
# in development (`make run`) and as its own process in production.
app.conf.beat_schedule = {
    # Re-dispatches live generation jobs left without a pending step; fails stuck ones.
    "generation-sweep": {
        "task": "generation.tasks.sweep",
        "schedule": float(os.environ.get("GENERATION_SWEEP_INTERVAL_S", "60")),
    },
    # Re-enqueues media items left "processing" (broker down at upload, worker killed).
    "media-requeue-stuck": {
        "task": "media_library.tasks.requeue_stuck",
        "schedule": float(os.environ.get("MEDIA_REQUEUE_INTERVAL_S", "300")),
    },
    # Removes chunked uploads idle past UPLOAD_EXPIRE_HOURS and orphan partial files.
    "media-expire-partial-uploads": {
        "task": "media_library.tasks.expire_partial_uploads",
        "schedule": float(os.environ.get("UPLOAD_EXPIRE_INTERVAL_S", "3600")),
    },
    # Fails exports left "running" by a worker that died mid-render; removes the partial file.
    "export-sweep": {
        "task": "editor.tasks.export_sweep",
        "schedule": float(os.environ.get("EXPORT_SWEEP_INTERVAL_S", "60")),
    },
}
# Reads the providers' pricing APIs (fal) so estimates follow a price rise (0 = off).
if float(os.environ.get("PRICE_REFRESH_INTERVAL_S", "86400")) > 0:
    app.conf.beat_schedule["provider-prices"] = {
        "task": "generation.tasks.refresh_prices",
        "schedule": float(os.environ.get("PRICE_REFRESH_INTERVAL_S", "86400")),
    }


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_worker_logs(logger=None, **_kwargs):
    """Celery gives its task logger a handler of its own (outside settings.LOGGING):
    it gets the same secret redaction as every handler LOGGING defines."""
    if logger is not None:
        install_redaction(logger)


@task_prerun.connect
def _bind_task_request_id(task_id=None, **_kwargs):
    """Worker log lines carry the task id where web lines carry the request id."""
    request_id_var.set(f"task-{(task_id or '')[:12]}")


@task_postrun.connect
def _unbind_task_request_id(**_kwargs):
    request_id_var.set("-")


@app.task(name="project.ping")
def ping() -> str:
    """Answered by any live worker; /healthz uses control.ping instead, tests use this."""
    return "pong"
