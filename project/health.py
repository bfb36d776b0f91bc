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


def ping_workers(
    broker_url: str, *, timeout: float = 1.0, destination: list[str] | None = None
) -> list:
    """Broadcast a ping on `broker_url` and collect the replies. A throwaway Celery app is
    used so any broker can be asked (an operator shell, a test with a private broker)
    without touching the project app's connection pool."""
    from celery import Celery

    probe = Celery("cutroom-probe", broker=broker_url, set_as_current=False)
    try:
        return probe.control.ping(timeout=timeout, destination=destination) or []
    finally:
        probe.close()


def check_workers(timeout: float = 1.0) -> tuple[bool, str]:
    """Ask live workers to answer a broadcast ping; none answering means down."""
    try:
        replies = ping_workers(settings.CELERY_BROKER_URL, timeout=timeout)
    except Exception as exc:  # noqa: BLE001
        return False, type(exc).__name__
    if not replies:
        return False, "no worker answered"
    return True, f"{len(replies)} worker(s)"
