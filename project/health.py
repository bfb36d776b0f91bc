"""Health checks for /healthz: each returns (ok, detail) and never raises."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - health reports, never raises
        return False, type(exc).__name__


def check_redis() -> tuple[bool, str]:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        client.ping()
        return True, "ok"
    except Exception as exc:  # noqa: BLE001
        return False, type(exc).__name__


def check_workers(timeout: float = 1.0) -> tuple[bool, str]:
    """Ask live workers to answer a broadcast ping; none answering means down."""
    from project.celery import app

    try:
        # The broker is read at call time so a test (or an operator shell) can point it
        # at another broker without re-importing the Celery app.
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            replies = app.control.ping(timeout=timeout, connection=conn) or []
    except Exception as exc:  # noqa: BLE001
        return False, type(exc).__name__
    if not replies:
        return False, "no worker answered"
    return True, f"{len(replies)} worker(s)"
