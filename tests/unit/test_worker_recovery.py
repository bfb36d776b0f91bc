"""Taking back the jobs of a dead worker life (generation.services.workers): only a claim
whose boot is gone is taken; a live one never is, whatever its age; a paid submit taken
back is reconciled with the provider, never sent again; dead lives' partial files go."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from generation.models import JobStatus
from generation.providers.base import Submission
from generation.services import job_submit, workers
from generation.services.scheduling import lease_s
from tests.unit.job_fakes import make_job

pytestmark = pytest.mark.django_db(transaction=True)

S = JobStatus


def _boot(state: str) -> str:
    """A worker life in `state`: alive (refreshing), stopped (registered, no longer
    refreshed: SIGKILLed), or unknown (not registered)."""
    boot = uuid.uuid4().hex[:16]
    if state in ("alive", "stopped"):
        at = time.time() - (0 if state == "alive" else workers.STALE_S + 1)
        cache.set(workers._boot_key(boot), {"node": f"test-{boot}@host", "at": at}, 60)
    return boot


def _held(user, boot: str | None, *, renewed_s_ago: float = 0.0, **fields):
    """A live job whose lease `boot` holds, its heartbeat last seen `renewed_s_ago`."""
    until = timezone.now() + timedelta(seconds=lease_s() - renewed_s_ago)
    job = make_job(user, lease_until=until, next_poll_at=until, **fields)
    if boot:
        cache.set(workers._claim_key(job.pk), boot, timeout=60)
    return job


@pytest.fixture(autouse=True)
def _production_lease(settings):
    settings.GENERATION_LEASE_S = 60.0


def test_a_live_workers_claim_is_never_taken_however_old(user, enqueued):
    job = _held(user, _boot("alive"), renewed_s_ago=600, status=S.SUBMITTING)
    before = job.lease_until
    assert workers.recover_dead_claims() == 0
    job.refresh_from_db()
    assert job.lease_until == before and enqueued == []


def test_a_stopped_workers_claim_is_taken_at_once(user, enqueued):
    job = _held(user, _boot("stopped"), status=S.RUNNING, model_id="local", provider="local")
    assert workers.recover_dead_claims() == 1
    assert [name for name, _, _ in enqueued] == ["render_local"]
    job.refresh_from_db()
    assert job.lease_until is None and job.status == S.RUNNING
    # Taken once: a second look finds nothing held.
    assert workers.recover_dead_claims() == 0
    assert len(enqueued) == 1


def test_an_unregistered_boot_is_taken_only_once_its_heartbeat_stopped(user, enqueued):
    """Redis losing the liveness keys of a live worker must not hand its job to another:
    the lease, renewed every lease_s/3 by a live worker, must also have stopped moving."""
    fresh = _held(user, _boot("unknown"), renewed_s_ago=1, status=S.DOWNLOADING)
    stale = _held(user, _boot("unknown"), renewed_s_ago=lease_s() / 3 + 5, status=S.DOWNLOADING)
    assert workers.recover_dead_claims() == 1
    fresh.refresh_from_db()
    stale.refresh_from_db()
    assert fresh.lease_until is not None and stale.lease_until is None
    assert enqueued == [("finalize", (stale.pk,), 0)]


def test_a_job_with_no_recorded_claim_is_left_to_its_lease(user, enqueued):
    _held(user, None, renewed_s_ago=600, status=S.SUBMITTING)
    assert workers.recover_dead_claims() == 0 and enqueued == []


def test_a_dead_submitters_job_is_reconciled_never_sent_twice(user, fake_provider, enqueued):
    """The killed worker may have sent the request: the step it is handed to asks the
    provider's request listing first, and adopts what it finds."""
    job = _held(user, _boot("stopped"), status=S.SUBMITTING)
    fake_provider.reconciles.append(Submission(f"req-{job.pk}", {"u": "x"}))
    assert workers.recover_dead_claims() == 1
    assert [name for name, _, _ in enqueued] == ["submit"]
    job_submit(job_id=job.pk)
    job.refresh_from_db()
    assert fake_provider.count("reconcile") == 1 and fake_provider.count("submit") == 0
    assert job.provider_request_id == f"req-{job.pk}"


def test_partial_files_of_dead_lives_are_removed_and_live_ones_kept(tmp_path):
    dead, alive, unknown = _boot("stopped"), _boot("alive"), _boot("unknown")
    dirs = {}
    for name, boot in (("dead", dead), ("alive", alive), ("unknown", unknown)):
        path = tmp_path / f"{boot}.tmp123"
        path.mkdir()
        (path / ".render.mp4.part").write_bytes(b"\0" * 10)
        dirs[name] = path
    mine = tmp_path / f"{workers.work_prefix()}tmp9"
    mine.mkdir()
    old_unknown = tmp_path / f"{_boot('unknown')}.tmp7"
    old_unknown.mkdir()
    long_ago = time.time() - workers.UNKNOWN_GRACE_S - 60
    os.utime(old_unknown, (long_ago, long_ago))
    assert workers.remove_dead_partials(tmp_path) == 2
    assert not dirs["dead"].exists() and not old_unknown.exists()
    assert dirs["alive"].exists() and dirs["unknown"].exists() and mine.exists()
