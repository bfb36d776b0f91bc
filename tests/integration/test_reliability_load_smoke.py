"""CI-sized run of bench/load_jobs.py: 20 jobs through the JSON API against the fal
emulator with 10 websocket clients over 5 users, real daphne, real worker. Every job
succeeds with exactly one provider submit and one media item; every client sees the final
state of each of its own jobs and none of anyone else's. (Latency figures are printed by
the bench, never asserted.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from generation.services.tokens import api_token_create
from tests.emulators.fal_emulator import FalEmulator
from tests.harness.live_client import session_cookie_for
from tests.harness.processes import DaphneServer
from tests.integration.workers import apply_to_settings, pipeline_env, worker_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load_jobs.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_load_jobs", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_load_smoke_nothing_lost_duplicated_or_leaked(
    celery_worker, process_env, make_user, settings, tmp_path
):
    bench = load_bench()
    with FalEmulator(queue_polls=1, running_polls=1) as fal:
        env = pipeline_env(media_root=tmp_path / "media", fal=fal, API_RATE="100000/m")
        apply_to_settings(settings, env)
        daphne = DaphneServer({**process_env, **env})
        daphne.start()
        try:
            with worker_env(celery_worker, env):
                accounts = []
                for i in range(5):
                    user = make_user(f"load{i}")
                    _token, raw = api_token_create(user=user, name="load")
                    accounts.append((user, raw, [session_cookie_for(user) for _ in range(2)]))
                figures = bench.run_load(
                    base_url=daphne.url, accounts=accounts, jobs=20, fal=fal, timeout=180
                )
        finally:
            daphne.stop()
    print("\n".join(figures.lines()))
    assert figures.create_errors == []
    assert figures.statuses == {"succeeded": 20}
    assert figures.submits == 20  # no job submitted twice
    assert figures.lost_media == 0 and figures.duplicated_media == 0
    assert figures.foreign_pushes == 0
    assert figures.missed_final == 0
    assert figures.missed_media_cards == 0
    assert len(figures.latencies_ms) > 0
