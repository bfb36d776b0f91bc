"""Soak: steady generation (JSON API -> fal emulator) and uploads (the upload view) for
N minutes with websocket clients connected; prints the resident memory (RSS) of daphne
and of the Celery worker (main process + pool children) after a warm-up and at the end,
and the growth in percent (the issue's bar: no more than 10 %).

    python bench/soak.py --minutes 30         # the issue's soak
    python bench/soak.py --minutes 2          # a quick look

Same setup as bench/load_jobs.py: its own daphne + worker on a fresh database (SQLite under
var/bench/ unless DATABASE_URL is set) and the Redis DB of REDIS_URL.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants, from /proc (MB)."""
    total = 0
    pending = [pid]
    seen = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/children") as fh:
                pending.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--jobs-per-min", type=int, default=30)
    parser.add_argument("--uploads-per-min", type=int, default=12)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()

    from stack import prepare

    stack = prepare("soak", running_polls=2)
    bench_dir, database_url, fal, extra = (
        stack.bench_dir,
        stack.database_url,
        stack.fal,
        stack.extra,
    )

    import httpx
    from django.contrib.auth import get_user_model

    from generation.models import GenerationJob
    from generation.services.tokens import api_token_create
    from media_library.models import MediaItem
    from media_library.testing import make_video
    from tests.harness.live_client import SocketClient, session_cookie_for
    from tests.harness.processes import CeleryWorker, DaphneServer, base_env

    clip = make_video(bench_dir / "soak-clip.mp4", seconds=2, audio=True).read_bytes()

    env = base_env(database_url, extra)
    worker = CeleryWorker(env, concurrency=2, tag="bench-soak")
    daphne = DaphneServer(env)
    sockets = []
    try:
        worker.start()
        daphne.start()
        user = get_user_model().objects.create_user("soak", password="x-soak-password-1")
        _token, raw = api_token_create(user=user, name="soak")
        cookie = session_cookie_for(user)
        csrf = secrets.token_hex(16)
        sockets = [SocketClient(daphne.url, cookie=cookie) for _ in range(args.clients)]
        http = httpx.Client(base_url=daphne.url, timeout=60)
        http.cookies.set("sessionid", cookie)
        http.cookies.set("csrftoken", csrf)

        def generate(i: int) -> int:
            r = http.post(
                "/api/generate-video",
                json={"prompt": f"soak {i}: waves on a pier", "model": "hailuo", "duration": 6},
                headers={"Authorization": f"Bearer {raw}"},
            )
            return r.status_code

        def upload(i: int) -> int:
            r = http.post(
                "/media/upload/",
                files={"file": (f"soak-{i}.mp4", clip, "video/mp4")},
                headers={"X-CSRFToken": csrf, "Origin": daphne.url, "Referer": daphne.url + "/"},
            )
            return r.status_code

        def settled() -> bool:
            live = GenerationJob.objects.exclude(status__in=["succeeded", "failed", "cancelled"])
            return not live.exists() and not MediaItem.objects.filter(status="processing").exists()

        def drain(limit: float = 120) -> None:
            end = time.monotonic() + limit
            while time.monotonic() < end and not settled():
                time.sleep(0.5)

        # Warm-up: a first batch of each, so imports, caches and pools are loaded.
        codes = [generate(-i) for i in range(1, 6)] + [upload(-i) for i in range(1, 3)]
        drain()
        start_rss = (rss_mb(daphne.pid), rss_mb(worker.pid))
        started = time.monotonic()
        period = 60.0 / max(args.jobs_per_min, 1)
        upload_every = max(1, round(args.jobs_per_min / max(args.uploads_per_min, 1)))
        i = 0
        while time.monotonic() - started < args.minutes * 60:
            codes.append(generate(i))
            if i % upload_every == 0:
                codes.append(upload(i))
            i += 1
            time.sleep(max(0.0, started + i * period - time.monotonic()))
        drain()
        end_rss = (rss_mb(daphne.pid), rss_mb(worker.pid))
        elapsed = time.monotonic() - started
    finally:
        for sock in sockets:
            sock.close()
        daphne.stop()
        worker.stop()
        fal.stop()

    statuses: dict[str, int] = {}
    for status in GenerationJob.objects.values_list("status", flat=True):
        statuses[status] = statuses.get(status, 0) + 1
    media: dict[str, int] = {}
    for status in MediaItem.objects.values_list("status", flat=True):
        media[status] = media.get(status, 0) + 1
    bad = [c for c in codes if c not in (201, 202)]
    print(f"soak: {elapsed / 60:.1f} min, {i} generations + {i // upload_every + 1} uploads")
    print(f"  jobs {statuses}; media items {media}; refused requests {len(bad)} {bad[:5]}")
    for name, before, after in (
        ("daphne", start_rss[0], end_rss[0]),
        ("worker (main + pool)", start_rss[1], end_rss[1]),
    ):
        growth = (after - before) / before * 100 if before else float("nan")
        print(f"  RSS {name}: {before:.0f} MB -> {after:.0f} MB ({growth:+.1f} %)")
    shutil.rmtree(stack.media_root, ignore_errors=True)


if __name__ == "__main__":
    main()
