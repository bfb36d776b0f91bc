"""Generation panel: server time of the estimate fragment (sent on every composer change),
of a model switch (estimate + redrawn settings), of the full panel with 500 jobs in the
history, and SQL queries per request. Baseline in the same run: the media app's empty
fragment (/media/close/) through the same client, i.e. middleware + session + auth and
nothing else, so the ratio shows what the panel itself adds.

    python bench/generate_panel.py [--runs 50] [--jobs 500]

Uses a throw-away SQLite database in a temp dir (or BENCH_DATABASE_URL). The estimate is
on the typing path (hx-trigger "input delay:300ms"), so it must stay far below 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=500)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="cutroom-bench-")
    os.environ["DATABASE_URL"] = (
        os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ["MEDIA_ROOT"] = tmp
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("FAL_KEY", "bench-dummy-key")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from generation.models import GenerationJob, JobStatus

    setup_test_environment()
    call_command("migrate", verbosity=0)
    user_model = get_user_model()
    user_model.objects.filter(username="bench-gen").delete()
    user = user_model.objects.create_user("bench-gen", password="x" * 20)  # noqa: S106
    statuses = [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED]
    GenerationJob.objects.bulk_create(
        GenerationJob(
            owner=user,
            model_id="hailuo",
            provider="fal",
            prompt=f"Bench shot {i}: waves against a basalt cliff in a storm",
            params={"duration": 6, "resolution": "768P"},
            estimated_cost="0.27",
            status=statuses[i % 3],
            webhook_token=f"bench-{i}",
        )
        for i in range(args.jobs)
    )
    client = Client()
    client.force_login(user)
    hx = {"HTTP_HX_REQUEST": "true"}
    estimate = {
        "model": "hailuo",
        "rendered_model": "hailuo",
        "prompt": "A slow dolly through a misty pine forest at dawn",
        "duration": "10",
    }
    switch = {**estimate, "model": "kling-2.1-master", "rendered_model": "hailuo"}

    cases = {
        "baseline /media/close/": lambda: client.get("/media/close/", **hx),
        "estimate (typing)": lambda: client.post("/generation/estimate/", estimate, **hx),
        "estimate + model switch": lambda: client.post("/generation/estimate/", switch, **hx),
        f"panel ({args.jobs} jobs)": lambda: client.get("/generation/panel/", **hx),
        "history page 10": lambda: client.get("/generation/history/?page=10", **hx),
    }
    results = {}
    for name, call in cases.items():
        response = call()  # warm up (template cache, connection)
        assert response.status_code == 200, (name, response.status_code)
        with CaptureQueriesContext(connection) as captured:
            call()
        # Counted now: every request start clears the connection's query log.
        query_count = len(captured)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        results[name] = (statistics.median(times), times[int(len(times) * 0.95) - 1], query_count)

    base = results["baseline /media/close/"][0]
    print(f"{'request':28} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'x baseline':>11}")
    for name, (median, p95, nq) in results.items():
        print(f"{name:28} {median:10.2f} {p95:8.2f} {nq:8d} {median / base:11.1f}")


if __name__ == "__main__":
    main()
