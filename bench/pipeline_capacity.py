"""In-flight capacity: 1,000 jobs waiting in the provider's queue, tracked by ONE Celery
worker with concurrency 2 (production poll timing: a job that has waited a while is polled
every GENERATION_POLL_MAX_S = 20 s). Prints how far behind schedule a poll falls and the
status calls per second, side by side with a blocking poll loop (one job per worker slot,
`status(); sleep(interval)`), which can track only as many jobs as it has slots.

    REDIS_URL=redis://127.0.0.1:6379/5 python bench/pipeline_capacity.py [jobs] [window_s]
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections import defaultdict

from pipeline_common import fal_emulator_serving, make_user, prepare

JOBS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
WINDOW_S = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
WARMUP_S = 25.0
SLOTS = 2


def timed_emulator():
    """The fal emulator, remembering when each request's status was asked."""
    fal = fal_emulator_serving(b"", queue_polls=10**9, running_polls=0)
    fal.status_times = defaultdict(list)
    original = fal._status

    def _status(handler, app, request_id, query):
        fal.status_times[request_id].append(time.monotonic())
        return original(handler, app, request_id, query)

    fal._status = _status
    return fal.start()


def submit_all(fal, user, n: int):
    """n requests accepted by the provider and recorded as jobs waiting in its queue
    (submitted long enough ago that they are polled at the capped interval)."""
    import httpx
    from django.utils import timezone

    from generation.models import GenerationJob, JobStatus

    long_ago = timezone.now() - timezone.timedelta(minutes=10)
    jobs = []
    with httpx.Client(timeout=10) as client:
        for i in range(n):
            body = client.post(
                f"{fal.url}/fal-ai/minimax/hailuo-02/standard/text-to-video",
                json={"prompt": f"capacity {i}"},
                headers={"Authorization": f"Key {fal.key}"},
            ).json()
            jobs.append(
                GenerationJob(
                    owner=user,
                    model_id="hailuo",
                    provider="fal",
                    prompt=f"capacity {i}",
                    params={"duration": 6},
                    status=JobStatus.IN_QUEUE,
                    provider_request_id=body["request_id"],
                    provider_handle={
                        "status_url": body["status_url"],
                        "response_url": body["response_url"],
                        "cancel_url": body["cancel_url"],
                        "webhook": False,
                    },
                    in_queue_at=long_ago,
                    created_at=timezone.now(),
                    poll_seq=1,
                )
            )
    return GenerationJob.objects.bulk_create(jobs)


def lags_in_window(fal, start: float, end: float, interval: float) -> tuple[list[float], int]:
    """Per poll: seconds later than due (gap since the previous poll minus the interval)."""
    lags, tracked = [], 0
    for times in fal.status_times.values():
        inside = [t for t in times if start <= t <= end]
        if inside:
            tracked += 1
        for before, after in zip(times, times[1:], strict=False):
            if start <= after <= end:
                lags.append(max(0.0, after - before - interval))
    return lags, tracked


def blocking_loop(fal, jobs, interval: float, window: float):
    """The baseline: SLOTS workers, each holding one job and sleeping between polls."""
    from generation.providers.registry import get_provider
    from generation.services.providers import submission_of

    provider = get_provider("fal")
    queue = list(jobs)
    stop = threading.Event()
    lock = threading.Lock()

    def slot():
        while not stop.is_set():
            with lock:
                if not queue:
                    return
                job = queue.pop(0)
            while not stop.is_set():
                report = provider.status(submission_of(job))
                if report.state not in ("in_queue", "running"):
                    break
                stop.wait(interval)  # the blocking part: the slot is held while waiting

    threads = [threading.Thread(target=slot, daemon=True) for _ in range(SLOTS)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(window)
    stop.set()
    end = time.monotonic()
    for thread in threads:
        thread.join(timeout=interval + 5)
    return start, end


def summary(name: str, lags, tracked, calls, seconds, jobs) -> str:
    never = jobs - tracked
    if lags:
        lag_text = (
            f"poll lag median {statistics.median(lags):5.2f} s, "
            f"p95 {sorted(lags)[int(0.95 * (len(lags) - 1))]:5.2f} s, max {max(lags):5.2f} s"
        )
    else:
        lag_text = "no job polled twice"
    return (
        f"{name:9s} jobs tracked {tracked:5d}/{jobs} ({never} never polled in the window); "
        f"{lag_text}; status calls {calls / seconds:6.1f}/s"
    )


def main() -> None:
    env = prepare("pipeline_capacity")
    from django.conf import settings

    from tests.harness.processes import CeleryWorker

    interval = settings.GENERATION_POLL_MAX_S
    user = make_user()
    fal = timed_emulator()
    settings.FAL_QUEUE_URL, settings.FAL_KEY = fal.url, fal.key
    jobs = submit_all(fal, user, JOBS)
    print(
        f"{JOBS} jobs in the provider queue; due interval {interval:.0f} s; "
        f"{SLOTS} worker slots; window {WINDOW_S:.0f} s"
    )

    # Baseline first (no worker running yet), on the same 1,000 requests.
    calls_before = fal.count("status_calls")
    start, end = blocking_loop(fal, jobs, interval, WINDOW_S)
    calls = fal.count("status_calls") - calls_before
    lags, tracked = lags_in_window(fal, start, end, interval)
    blocking = (tracked, calls / (end - start))
    print(summary("blocking", lags, tracked, calls, end - start, JOBS))
    fal.status_times.clear()

    # The pipeline: one worker, concurrency 2, countdown-scheduled polls.
    from generation import tasks

    worker = CeleryWorker(
        {**env, "FAL_QUEUE_URL": fal.url, "FAL_KEY": fal.key},
        concurrency=SLOTS,
        tag="bench-capacity",
    )
    worker.start()
    try:
        # Jobs were submitted at different moments: spread their first polls over one
        # interval, as a steady state would.
        for n, job in enumerate(jobs):
            tasks.poll.apply_async((job.pk, 1), countdown=interval * n / len(jobs))
        time.sleep(WARMUP_S)
        calls_before = fal.count("status_calls")
        start = time.monotonic()
        time.sleep(WINDOW_S)
        end = time.monotonic()
        calls = fal.count("status_calls") - calls_before
    finally:
        worker.stop()
    lags, tracked = lags_in_window(fal, start, end, interval)
    print(summary("pipeline", lags, tracked, calls, end - start, JOBS))
    print(
        f"jobs tracked, pipeline / blocking loop: {tracked} / {blocking[0]} = "
        f"{tracked / max(1, blocking[0]):.0f}x; status calls/s "
        f"{calls / (end - start):.1f} vs {blocking[1]:.1f}"
    )
    fal.stop()


if __name__ == "__main__":
    main()
