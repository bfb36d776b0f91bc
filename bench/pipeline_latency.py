"""Completion-to-panel latency: from the provider emulator marking a job COMPLETED to the
new media card (`media-<id>`) arriving on a real websocket client (daphne), for a ~10 MB
result, with webhooks and with polling (production poll timing), on loopback.

    REDIS_URL=redis://127.0.0.1:6379/5 python bench/pipeline_latency.py [jobs_per_mode]

Each job waits QUEUE_WAIT_S in the provider's queue before it completes (so polling runs
at the interval it would really have then). Goal with webhooks: median under 300 ms.
"""

from __future__ import annotations

import statistics
import sys
import time

from pipeline_common import (
    VAR,
    fal_emulator_serving,
    make_result_file,
    make_user,
    prepare,
    wait,
)

JOBS = int(sys.argv[1]) if len(sys.argv) > 1 else 12
QUEUE_WAIT_S = 4.5


def run_mode(mode: str, env: dict, user, data: bytes) -> list[float]:
    from generation.models import GenerationJob, JobStatus
    from generation.services import job_create
    from tests.harness.live_client import SocketClient
    from tests.harness.processes import CeleryWorker, DaphneServer

    fal = fal_emulator_serving(data, queue_polls=10**9, running_polls=0).start()
    daphne = DaphneServer(env)
    daphne.start()
    worker_env = {
        **env,
        "FAL_QUEUE_URL": fal.url,
        "FAL_KEY": fal.key,
        "PUBLIC_BASE_URL": daphne.url if mode == "webhook" else "",
    }
    worker = CeleryWorker(worker_env, concurrency=2, tag=f"bench-{mode}")
    worker.start()
    from django.conf import settings

    settings.FAL_KEY = fal.key
    client = SocketClient(daphne.url, user)
    latencies: list[float] = []
    try:
        for n in range(JOBS):
            prompt = f"Bench {mode} clip {n}"
            job = job_create(user=user, model_id="hailuo", params={"prompt": prompt, "duration": 6})

            def submitted(job=job):
                job.refresh_from_db()
                return job.status == JobStatus.IN_QUEUE and job.provider_request_id

            wait(submitted, 30, "submission")
            time.sleep(QUEUE_WAIT_S)  # a realistic stay in the provider's queue
            seen = len(client.messages)
            started = time.perf_counter()
            fal.complete_now(job.provider_request_id)

            def card_arrived(seen=seen, prompt=prompt):
                for message in client.messages[seen:]:
                    if 'class="media-card"' in message and prompt in message:
                        return True
                return False

            wait(card_arrived, 60, f"media card of job {job.pk}", interval=0.001)
            latencies.append((time.perf_counter() - started) * 1000)
            wait(
                lambda job=job: GenerationJob.objects.get(pk=job.pk).status == "succeeded",
                30,
                "job to finish",
            )
    finally:
        client.close()
        worker.stop()
        daphne.stop()
        fal.stop()
    return latencies


def main() -> None:
    env = prepare("pipeline_latency")
    data = make_result_file(VAR / "result-10mb.mp4", 10).read_bytes()
    user = make_user()
    print(f"result size: {len(data) / 1e6:.1f} MB; {JOBS} jobs per mode; "
          f"{QUEUE_WAIT_S:.0f} s in the provider queue before completion")  # fmt: skip
    results = {}
    for mode in ("webhook", "polling"):
        latencies = run_mode(mode, env, user, data)
        results[mode] = latencies
        print(
            f"{mode:8s} completion->media card: median {statistics.median(latencies):7.1f} ms, "
            f"min {min(latencies):7.1f} ms, max {max(latencies):7.1f} ms (n={len(latencies)})"
        )
    ratio = statistics.median(results["polling"]) / statistics.median(results["webhook"])
    print(f"polling / webhook median latency: {ratio:.1f}x")
    print(
        "goal with webhooks (median < 300 ms): "
        + ("met" if statistics.median(results["webhook"]) < 300 else "NOT met")
    )


if __name__ == "__main__":
    main()
