"""Shared set-up for the pipeline benches: a private SQLite database under var/bench/,
the Redis DB from REDIS_URL (use your own slot), a real Celery worker and daphne, and the
fal queue emulator from tests/ (serving a result of any size).

Import this module before anything from Django.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench"

# Production timing unless a bench says otherwise; limits out of the way.
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "project.settings",
    "DEBUG": "true",
    "LOG_LEVEL": "WARNING",
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "GENERATION_RATE": "100000/m",
    "GENERATION_COOLDOWN_S": "0",
    "GENERATION_MAX_CONCURRENT": "100000",
    "GENERATION_MONTHLY_BUDGET_USD": "100000",
    "CACHE_KEY_PREFIX": "bench",
    "CHANNEL_PREFIX": "bench:asgi",
}


def prepare(name: str) -> dict[str, str]:
    """Fresh database and media root for this bench; returns the subprocess environment.

    SQLite under var/bench/ by default; with BENCH_DATABASE_URL=postgres://…/<db> that
    PostgreSQL database is dropped and created afresh instead."""
    VAR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(BENCH_ENV)
    env["DATABASE_URL"] = _fresh_database(name, os.environ.get("BENCH_DATABASE_URL", ""))
    env["MEDIA_ROOT"] = str(VAR / f"{name}-media")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
    os.environ.update({k: env[k] for k in (*BENCH_ENV, "DATABASE_URL", "MEDIA_ROOT", "REDIS_URL")})
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    import django

    django.setup()
    _purge_broker(env["REDIS_URL"])
    return env


def _fresh_database(name: str, url: str) -> str:
    if not url.startswith("postgres"):
        for path in VAR.glob(f"{name}.sqlite3*"):
            path.unlink()
        return f"sqlite:///{VAR / f'{name}.sqlite3'}"
    import psycopg

    base, _, db = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    return url


def _purge_broker(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.delete("default", "media", "unacked", "unacked_index", "unacked_mutex")


def make_user(username: str = "bench"):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password="bench-pass-123!")


def make_result_file(path: Path, megabytes: float) -> Path:
    """A real H.264 MP4 of about `megabytes` (noise does not compress)."""
    import av
    from PIL import Image

    if path.exists() and abs(path.stat().st_size / 1e6 - megabytes) < megabytes * 0.3:
        return path
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": "10"}
        frames = 0
        while True:
            image = Image.frombytes("RGB", (640, 360), os.urandom(640 * 360 * 3))
            frame = av.VideoFrame.from_image(image)
            for packet in stream.encode(frame):
                container.mux(packet)
            frames += 1
            if frames % 12 == 0 and path.stat().st_size / 1e6 >= megabytes:
                break
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def fal_emulator_serving(data: bytes, **options):
    """The tests' fal emulator, with its result download answering `data`."""
    import json

    import httpx

    from tests.emulators.fal_emulator import FalEmulator

    webhook_client = httpx.Client(timeout=10)

    class BenchFal(FalEmulator):
        def _post_webhook(self, record, payload):
            # The tests' emulator builds a new httpx client (and TLS context, ~55 ms) per
            # webhook; a provider's sender does not, so the bench keeps one client.
            body = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json", **self.webhook_headers(record, body)}
            entry = {"request_id": record.id, "url": record.webhook, "payload": payload}
            try:
                entry["status"] = webhook_client.post(
                    record.webhook, content=body, headers=headers
                ).status_code
            except httpx.HTTPError as exc:
                entry["status"] = f"error: {type(exc).__name__}"
            with self.lock:
                self.webhooks.append(entry)

        def serve_file(self, handler, request_id):
            self.bump("file_downloads")
            handler.send_response(200)
            handler.send_header("Content-Type", "video/mp4")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.safe_write(data)

        def output(self, record):
            out = super().output(record)
            out["video"]["file_size"] = len(data)
            return out

    return BenchFal(**options)


def wait(condition, timeout: float, what: str, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")
