"""The one retry policy for Celery tasks that touch the database.

A database that drops its connections (restart, failover, pg_terminate_backend) fails the
step that was using one; without a retry a job's or a slot's chain of steps stops until a
sweeper notices. Every such step is safe to run twice, and the retry gets a fresh
connection (Celery's Django fixup closes the broken one; CONN_HEALTH_CHECKS tests reused
ones).
"""

from django.db import InterfaceError, OperationalError

DB_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "max_retries": 8,
}
