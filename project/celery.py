"""The Celery app: JSON only, late acks, one task prefetched at a time (see settings)."""

import os

from celery import Celery
from celery.schedules import crontab  # noqa: F401 - kept for schedules added by apps

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
}


@app.task(name="project.ping")
def ping() -> str:
    """Answered by any live worker; /healthz uses control.ping instead, tests use this."""
    return "pong"
