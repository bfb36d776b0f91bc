"""Scale-out proof: two web processes behind a real nginx (Debian's package, the README's
config), two workers, one Redis, one database. A tab connected through either web node
receives every job finished by either worker; when one web node is killed, its tabs
reconnect through nginx to the other and, with the re-sync a reconnecting tab does, miss
nothing. Figures (pushes/s, push latency) are printed by bench/scale_out.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import httpx
import pytest

from generation.models import GenerationJob
from generation.services.tokens import api_token_create
from tests.emulators.fal_emulator import FalEmulator
from tests.harness.live_client import session_cookie_for
from tests.harness.processes import wait_until
from tests.integration.scale_out import scale_out_stack
from tests.integration.test_pipeline_redis import PrivateRedis
from tests.integration.workers import apply_to_settings, pipeline_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
BENCH = Path(__file__).resolve().parents[2] / "bench" / "load_jobs.py"
TERMINAL = {"succeeded", "failed", "cancelled"}


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_load_jobs_scale", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def create_jobs(base_url: str, token: str, count: int, tag: str) -> list[int]:
    ids = []
    for i in range(count):
        response = httpx.post(
            f"{base_url}/api/generate-video",
            json={"prompt": f"{tag} shot {i}: waves on a pier", "model": "hailuo", "duration": 6},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["job_id"])
    return ids


def finals_seen(bench, sock) -> dict[int, str]:
    seen: dict[int, str] = {}
    for _at, message in sock.messages:
        for job_id, status in bench.CARD.findall(message):
            if status in TERMINAL:
                seen[int(job_id)] = status
    return seen


def all_terminal(ids) -> bool:
    return not GenerationJob.objects.filter(pk__in=ids).exclude(status__in=TERMINAL).exists()


def test_two_web_nodes_two_workers_behind_the_readme_nginx(
    process_env, make_user, settings, tmp_path
):
    bench = load_bench()
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        with FalEmulator(queue_polls=1, running_polls=1) as fal:
            env = pipeline_env(
                media_root=tmp_path / "media",
                fal=fal,
                API_RATE="100000/m",
                GENERATION_RATE="100000/m",
                GENERATION_MAX_CONCURRENT="1000",
                GENERATION_COOLDOWN_S="0",
                REDIS_URL=redis.url,
                CELERY_BROKER_URL=redis.url,
            )
            apply_to_settings(settings, {k: v for k, v in env.items() if "REDIS" not in k})
            with scale_out_stack({**process_env, **env}, tmp_path) as stack:
                user = make_user("fleet")
                _t, token = api_token_create(user=user, name="fleet")
                tabs = [bench.TimedSocket(stack.url, session_cookie_for(user)) for _ in range(4)]

                # nginx spread the four tabs over both web nodes.
                def sockets_on(web):
                    return web.log_path.read_text(errors="replace").count("/ws/live/")

                wait_until(
                    lambda: all(sockets_on(w) >= 2 for w in stack.webs),
                    timeout=10,
                    what="two tabs on each web node",
                )

                # 1. Jobs finished by either worker reach every tab on either node.
                first = create_jobs(stack.url, token, 8, "first")
                wait_until(lambda: all_terminal(first), timeout=90, what="first jobs to finish")
                wait_until(
                    lambda: all(set(first) <= set(finals_seen(bench, t)) for t in tabs),
                    timeout=10,
                    what="every tab to show every first job's final state",
                )
                done_by = [
                    w.log_path.read_text(errors="replace").count("generation.tasks")
                    for w in stack.workers
                ]
                assert all(n > 0 for n in done_by), f"tasks per worker {done_by}"
                assert GenerationJob.objects.filter(pk__in=first, status="succeeded").count() == 8

                # 2. Kill one web node: its tabs drop; jobs finish while they are away.
                stack.webs[0].kill()
                wait_until(
                    lambda: sum(not t.thread.is_alive() for t in tabs) >= 2,
                    timeout=15,
                    what="the killed node's tabs to notice",
                )
                dropped = [t for t in tabs if not t.thread.is_alive()]
                survivors = [t for t in tabs if t.thread.is_alive()]
                assert len(dropped) == 2 and len(survivors) == 2
                during_gap = create_jobs(stack.url, token, 3, "gap")  # nginx routes to node 2
                wait_until(lambda: all_terminal(during_gap), timeout=60, what="gap jobs to finish")

                # 3. They reconnect through nginx (to the surviving node) and re-sync, as
                # live.js does on reconnect: the jobs list shows what finished meanwhile.
                rejoined = [bench.TimedSocket(stack.url, session_cookie_for(user)) for _ in dropped]
                listed = httpx.get(
                    f"{stack.url}/api/jobs",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                ).json()
                statuses = {j["job_id"]: j["status"] for j in listed}
                assert all(statuses.get(j) == "succeeded" for j in during_gap), statuses
                after = create_jobs(stack.url, token, 6, "after")
                wait_until(lambda: all_terminal(after), timeout=90, what="later jobs to finish")
                for tab in [*survivors, *rejoined]:
                    wait_until(
                        lambda tab=tab: set(after) <= set(finals_seen(bench, tab)),
                        timeout=10,
                        what="every live tab to show every later job's final state",
                    )
                for tab in survivors:  # never disconnected: saw the gap jobs live too
                    assert set(during_gap) <= set(finals_seen(bench, tab))
                everything = [*first, *during_gap, *after]
                assert fal.count("submits_accepted") == len(everything)  # none submitted twice
                for tab in [*tabs, *rejoined]:
                    tab.close()
    finally:
        redis.kill()
