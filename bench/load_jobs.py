"""Load: N generation jobs created at once through the JSON API against the fal emulator,
M websocket clients (real sockets to daphne) spread over U users. Prints: jobs finished,
lost and duplicated media items, foreign pushes (a client seeing another user's job),
missed updates, push latency p50/p95 (DB transition time -> client receipt), throughput.

    python bench/load_jobs.py                 # 200 jobs, 100 clients, 20 users
    python bench/load_jobs.py --smoke         # 20 jobs, 10 clients, 5 users (CI size)
    REDIS_URL=redis://127.0.0.1:6379/11 DATABASE_URL=postgres://... python bench/load_jobs.py

Starts its own daphne + Celery worker (tests/harness) on a fresh database (a SQLite file
under var/bench/ unless DATABASE_URL is set, migrated here) and the Redis DB of REDIS_URL.
`run_load()` is also what tests/integration/test_reliability_load_smoke.py calls with the
pytest fixtures' processes.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CARD = re.compile(r'<article id="job-(\d+)"[^>]*?data-status="([a-z_]+)"')
MEDIA_CARD = re.compile(r'<article id="media-(\d+)"')
STAMPS = {
    "submitting": "submitting_at",
    "in_queue": "in_queue_at",
    "running": "running_at",
    "downloading": "downloading_at",
    "succeeded": "succeeded_at",
    "failed": "failed_at",
}
TERMINAL = {"succeeded", "failed", "cancelled"}


class TimedSocket:
    """A real websocket to daphne that stamps every message on arrival."""

    def __init__(self, base_url: str, cookie: str):
        import websockets.sync.client as ws_client

        self.messages: list[tuple[float, str]] = []
        self.ws = ws_client.connect(
            base_url.replace("http", "ws", 1) + "/ws/live/",
            additional_headers={"Origin": base_url, "Cookie": f"sessionid={cookie}"},
            open_timeout=20,
            max_size=None,
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for message in self.ws:
                self.messages.append((time.time(), message))
        except Exception:  # noqa: BLE001 - closed
            return

    def close(self) -> None:
        self.ws.close()


@dataclass
class Figures:
    jobs: int = 0
    clients: int = 0
    users: int = 0
    create_s: float = 0.0
    finish_s: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    submits: int = 0
    lost_media: int = 0
    duplicated_media: int = 0
    foreign_pushes: int = 0
    missed_final: int = 0
    missed_updates: int = 0
    missed_media_cards: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    create_errors: list[str] = field(default_factory=list)

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p95_ms(self) -> float:
        if len(self.latencies_ms) < 2:
            return self.p50_ms
        return statistics.quantiles(self.latencies_ms, n=20)[-1]

    def lines(self) -> list[str]:
        ok = self.statuses.get("succeeded", 0)
        return [
            f"jobs {self.jobs} over {self.users} users, {self.clients} websocket clients",
            f"created through the API in {self.create_s:.1f} s; all terminal after "
            f"{self.finish_s:.1f} s ({self.jobs / max(self.finish_s, 1e-9):.1f} jobs/s)",
            f"statuses {self.statuses}; provider submits {self.submits} (jobs {self.jobs})",
            f"media items: lost {self.lost_media}, duplicated {self.duplicated_media} "
            f"({ok} succeeded)",
            f"pushes: foreign {self.foreign_pushes}, clients x jobs missing the final state "
            f"{self.missed_final}, missed intermediate updates {self.missed_updates}, "
            f"missing media cards {self.missed_media_cards}",
            f"push latency (DB transition -> client) p50 {self.p50_ms:.0f} ms, "
            f"p95 {self.p95_ms:.0f} ms over {len(self.latencies_ms)} pushes",
        ]


def run_load(
    *,
    base_url: str,
    accounts: list[tuple[object, str, list[str]]],
    jobs: int,
    fal=None,
    model: str = "hailuo",
    timeout: float = 600,
) -> Figures:
    """accounts: (user, bearer token, [session cookie per websocket client]).
    Jobs are spread round-robin over the accounts."""
    import httpx

    from generation.models import GenerationJob
    from media_library.models import MediaItem

    figures = Figures(jobs=jobs, users=len(accounts), clients=sum(len(c) for _u, _t, c in accounts))
    sockets: list[tuple[int, TimedSocket]] = []
    for user, _token, cookies in accounts:
        for cookie in cookies:
            sockets.append((user.pk, TimedSocket(base_url, cookie)))
    time.sleep(0.5)  # let every socket join its group before the first push (not a sync)

    owner_of: dict[int, int] = {}
    lock = threading.Lock()

    def create(i: int) -> None:
        user, token, _cookies = accounts[i % len(accounts)]
        body = {"prompt": f"load test clip {i}: a lighthouse at dusk", "model": model}
        if model == "hailuo":
            body["duration"] = 6
        for attempt in range(5):
            response = httpx.post(
                f"{base_url}/api/generate-video",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
            if response.status_code == 202:
                with lock:
                    owner_of[response.json()["job_id"]] = user.pk
                return
            if response.status_code != 429:
                break
            time.sleep(float(response.headers.get("Retry-After", "1")) + 0.1 * attempt)
        with lock:
            figures.create_errors.append(f"{response.status_code} {response.text[:200]}")

    started = time.time()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(create, range(jobs)))
    figures.create_s = time.time() - started

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = GenerationJob.objects.filter(pk__in=owner_of).exclude(status__in=TERMINAL).count()
        if live == 0:
            break
        time.sleep(0.25)
    figures.finish_s = time.time() - started
    # Media cards are pushed when the worker registers the file; give the last ones a moment.
    time.sleep(1.0)
    for _uid, sock in sockets:
        sock.close()

    rows = {j.pk: j for j in GenerationJob.objects.filter(pk__in=owner_of)}
    for job in rows.values():
        figures.statuses[job.status] = figures.statuses.get(job.status, 0) + 1
    if fal is not None:
        figures.submits = fal.count("submits_accepted")

    # Lost / duplicated media: every succeeded job has exactly one generated item.
    succeeded = [j for j in rows.values() if j.status == "succeeded"]
    figures.lost_media = sum(1 for j in succeeded if j.media_item_id is None)
    item_ids = [j.media_item_id for j in succeeded if j.media_item_id]
    generated = MediaItem.objects.filter(
        owner_id__in={u.pk for u, _t, _c in accounts}, source=MediaItem.Source.GENERATED
    ).count()
    figures.duplicated_media = max(0, generated - len(set(item_ids)))
    media_of_job = {j.pk: j.media_item_id for j in succeeded}

    jobs_of: dict[int, set[int]] = {}
    for job_id, uid in owner_of.items():
        jobs_of.setdefault(uid, set()).add(job_id)
    for uid, sock in sockets:
        own = jobs_of.get(uid, set())
        seen: dict[int, dict[str, float]] = {}
        media_seen: set[int] = set()
        for at, message in sock.messages:
            for job_id, status in CARD.findall(message):
                seen.setdefault(int(job_id), {}).setdefault(status, at)
            media_seen.update(int(m) for m in MEDIA_CARD.findall(message))
        figures.foreign_pushes += len(set(seen) - own)
        foreign_media = media_seen - {media_of_job.get(j) for j in own}
        figures.foreign_pushes += len(foreign_media)
        for job_id in own:
            job = rows[job_id]
            statuses = seen.get(job_id, {})
            if job.status not in statuses:
                figures.missed_final += 1
            for status, stamp_field in STAMPS.items():
                stamp = getattr(job, stamp_field, None)
                if stamp is None:
                    continue
                if status not in statuses:
                    # A transition the card skipped because a later one overtook it
                    # (e.g. running -> downloading within one poll) is not a loss if
                    # a later state arrived; count it separately.
                    figures.missed_updates += 1
                    continue
                figures.latencies_ms.append(max(0.0, (statuses[status] - stamp.timestamp()) * 1000))
            if job.media_item_id and job.media_item_id not in media_seen:
                figures.missed_media_cards += 1
    return figures


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="20 jobs, 10 clients, 5 users")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    if args.smoke:
        args.jobs, args.clients, args.users = 20, 10, 5
    return args


def main() -> None:
    args = _parse()
    from stack import prepare

    stack = prepare("load", running_polls=1)
    database_url, fal, extra = stack.database_url, stack.fal, stack.extra

    from django.contrib.auth import get_user_model

    from generation.services.tokens import api_token_create
    from tests.harness.live_client import session_cookie_for
    from tests.harness.processes import CeleryWorker, DaphneServer, base_env

    env = base_env(database_url, extra)
    worker = CeleryWorker(env, concurrency=args.concurrency, tag="bench-load")
    daphne = DaphneServer(env)
    try:
        worker.start()
        daphne.start()
        users = get_user_model()
        accounts = []
        per_user = [
            args.clients // args.users + (1 if i < args.clients % args.users else 0)
            for i in range(args.users)
        ]
        for i in range(args.users):
            user = users.objects.create_user(f"load{i}", password="x-load-password-1")
            _token, raw = api_token_create(user=user, name="load")
            accounts.append((user, raw, [session_cookie_for(user) for _ in range(per_user[i])]))
        figures = run_load(
            base_url=daphne.url, accounts=accounts, jobs=args.jobs, fal=fal, timeout=args.timeout
        )
    finally:
        daphne.stop()
        worker.stop()
        fal.stop()
    print(f"load_jobs ({'smoke' if args.smoke else 'full'}, db={database_url.split(':')[0]}):")
    for line in figures.lines():
        print("  " + line)
    if figures.create_errors:
        print(f"  create errors: {len(figures.create_errors)}, first: {figures.create_errors[0]}")


if __name__ == "__main__":
    main()
