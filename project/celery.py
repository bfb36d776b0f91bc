"""The Celery app: JSON only, late acks, one task prefetched at a time (see settings)."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger, task_postrun, task_prerun

from .logging import install_redaction, request_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("cutroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule(settings) -> dict:
    """The periodic tasks, with intervals from settings (their defaults live there). Beat
    runs with the worker in development (`make run`) and as its own process in
    production."""
    schedule = {
        # Re-dispatches live generation jobs left without a pending step; fails stuck ones.
        "generation-sweep": {
            "task": "generation.tasks.sweep",
            "schedule": settings.GENERATION_SWEEP_INTERVAL_S,
        },
        # Re-enqueues media items left "processing" (broker down at upload, worker killed).
        "media-requeue-stuck": {
            "task": "media_library.tasks.requeue_stuck",
            "schedule": settings.MEDIA_REQUEUE_INTERVAL_S,
        },
        # Removes chunked uploads idle past UPLOAD_EXPIRE_HOURS and orphan partial files.
        "media-expire-partial-uploads": {
            "task": "media_library.tasks.expire_partial_uploads",
            "schedule": settings.UPLOAD_EXPIRE_INTERVAL_S,
        },
        # Fails exports left "running" by a worker that died mid-render; removes the file.
        "export-sweep": {
            "task": "editor.tasks.export_sweep",
            "schedule": settings.EXPORT_SWEEP_INTERVAL_S,
        },
    }
    # Reads the providers' pricing APIs (fal) so estimates follow a price rise (0 = off).
    if settings.PRICE_REFRESH_INTERVAL_S > 0:
        schedule["provider-prices"] = {
            "task": "generation.tasks.refresh_prices",
            "schedule": float(settings.PRICE_REFRESH_INTERVAL_S),
        }
    return schedule


@app.on_after_configure.connect
def _install_beat_schedule(sender, **_kwargs):
    # After configuration, so Django's settings are read once they are set up.
    from django.conf import settings

    sender.conf.beat_schedule = beat_schedule(settings)


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
