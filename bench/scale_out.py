"""Scale-out: the README's deployment on one machine — Debian's nginx (the README's block)
in front of two web processes, two Celery workers — against the baseline of one web
process and one worker with no proxy, measured in the same run with the same load.

    python bench/scale_out.py [--jobs 120] [--clients 40] [--users 8]

Prints, for each setup, jobs/s, pushes/s received by the tabs (every job state change on
every tab of its owner), push latency p50/p95 (DB transition -> tab) and what was lost,
duplicated or leaked; then the ratios scale-out/baseline. Uses a private redis-server so
nothing else consumes the queues. A 2-core machine is CPU-bound long before two nodes
pay off: the point is that pushes cross nodes with no loss and bounded latency.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from pipeline_common import prepare

from tests.harness.processes import CeleryWorker, WebServer


def run(name, base_url_of, env, jobs, clients, users, fal):
    import load_jobs
    from django.contrib.auth import get_user_model

    from generation.services.tokens import api_token_create
    from tests.harness.live_client import session_cookie_for

    accounts = []
    for i in range(users):
        user = get_user_model().objects.create_user(f"{name}{i}", password="x-bench-password-1")
        _t, raw = api_token_create(user=user, name=name)
        accounts.append((user, raw, [session_cookie_for(user) for _ in range(clients // users)]))
    before = fal.count("submits_accepted")
    figures = load_jobs.run_load(
        base_url=base_url_of, accounts=accounts, jobs=jobs, fal=None, timeout=600
    )
    figures.submits = fal.count("submits_accepted") - before
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=120)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--users", type=int, default=8)
    args = parser.parse_args()
    env = prepare("scale_out")

    from tests.emulators.fal_emulator import FalEmulator
    from tests.integration.scale_out import scale_out_stack
    from tests.integration.test_pipeline_redis import PrivateRedis
    from tests.integration.workers import pipeline_env

    results = {}
    with tempfile.TemporaryDirectory() as tmp, FalEmulator(queue_polls=1, running_polls=1) as fal:
        redis = PrivateRedis(Path(tmp))
        redis.start()
        try:
            extra = pipeline_env(
                media_root=Path(env["MEDIA_ROOT"]),
                fal=fal,
                API_RATE="100000/m",
                REDIS_URL=redis.url,
                CELERY_BROKER_URL=redis.url,
            )
            full = {**env, **extra}
            web, worker = WebServer(full), CeleryWorker(full, concurrency=2, tag="bench-base")
            web.start()
            worker.start()
            try:
                results["baseline: 1 web, 1 worker (c=2), direct"] = run(
                    "base", web.url, full, args.jobs, args.clients, args.users, fal
                )
            finally:
                web.stop()
                worker.stop()
            with scale_out_stack(full, Path(tmp), concurrency=1) as stack:
                results["scale-out: nginx, 2 web, 2 workers (c=1)"] = run(
                    "fleet", stack.url, full, args.jobs, args.clients, args.users, fal
                )
        finally:
            redis.kill()
    print(f"scale_out: {args.jobs} jobs, {args.clients} tabs over {args.users} users")
    for name, f in results.items():
        pushes = len(f.latencies_ms)
        print(f"  {name}")
        print(
            f"    {f.jobs / f.finish_s:.1f} jobs/s, {pushes / f.finish_s:.1f} pushes/s received; "
            f"push latency p50 {f.p50_ms:.0f} ms, p95 {f.p95_ms:.0f} ms"
        )
        print(
            f"    statuses {f.statuses}; submits {f.submits}; lost {f.lost_media}, duplicated "
            f"{f.duplicated_media}, foreign pushes {f.foreign_pushes}, missed final {f.missed_final}"
        )
    (bname, base), (sname, scaled) = results.items()
    print(
        f"  ratio scale-out/baseline: pushes/s "
        f"{(len(scaled.latencies_ms) / scaled.finish_s) / (len(base.latencies_ms) / base.finish_s):.2f}, "
        f"p95 latency {scaled.p95_ms / base.p95_ms:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
