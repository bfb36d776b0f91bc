"""The stack the load and soak benches run against: a fresh database, a fal emulator,
and the environment for their own daphne + Celery worker (shared by load_jobs.py and
soak.py so both measure the same setup)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class BenchStack:
    bench_dir: Path
    database_url: str
    redis_url: str
    media_root: Path
    fal: object
    extra: dict[str, str]


def prepare(name: str, *, running_polls: int) -> BenchStack:
    """Reset var/bench/<name> state, start the emulator, set up Django in this process
    with the same settings the subprocesses get, migrate and empty the task queues."""
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    db_path = bench_dir / f"{name}.sqlite3"
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{db_path}"
    if database_url.startswith("sqlite"):
        db_path.unlink(missing_ok=True)
    media_root = bench_dir / f"media-{name}"
    shutil.rmtree(media_root, ignore_errors=True)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

    from tests.emulators.fal_emulator import FalEmulator
    from tests.integration.workers import pipeline_env

    fal = FalEmulator(queue_polls=1, running_polls=running_polls).start()
    extra = pipeline_env(media_root=media_root, fal=fal)
    # DEBUG stays on as in the test harness (no collectstatic, no TLS redirects).
    extra.update({"API_RATE": "100000/m", "REDIS_URL": redis_url})
    os.environ.update({"DATABASE_URL": database_url, **extra})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(redis_url).delete("default", "media", "unacked", "unacked_index")
    return BenchStack(bench_dir, database_url, redis_url, media_root, fal, extra)
