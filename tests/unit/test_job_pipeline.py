"""Pipeline steps against a scripted provider: submit at most once, reconcile after an
ambiguous failure, retry only what is retryable, one poll chain, webhooks, the sweeper,
and exactly one MediaItem per job."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from generation.models import GenerationBudget, GenerationJob, JobStatus
from generation.providers.base import ResultInfo, State, StatusReport, Submission
from generation.services import (
    job_cancel_work,
    job_poll,
    job_submit,
    job_sweep,
    job_webhook_received,
)
from generation.services.finalize import complete_with_file
from generation.services.scheduling import backoff_s, poll_interval_s
from generation.services.submit import AMBIGUOUS_MESSAGE
from media_library.models import MediaItem
from tests.unit.job_fakes import make_job, provider_error

# Real commits: the steps enqueue their next task on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

S = JobStatus


@pytest.fixture(autouse=True)
def _timing(settings):
    settings.GENERATION_RETRY_BASE_S = 2.0
    settings.GENERATION_RETRY_MAX_S = 60.0
    settings.GENERATION_MAX_ATTEMPTS = 3
    settings.GENERATION_POLL_MIN_S = 1.0
    settings.GENERATION_POLL_MAX_S = 20.0
    settings.GENERATION_LEASE_S = 60.0
    settings.GENERATION_SWEEP_GRACE_S = 30.0
    settings.PUBLIC_BASE_URL = ""


def fresh(job):
    return GenerationJob.objects.get(pk=job.pk)


def names(enqueued):
    return [name for name, _, _ in enqueued]


# --- submit ---------------------------------------------------------------------------------


def test_submit_stores_the_request_and_schedules_the_first_poll(user, fake_provider, enqueued):
    job = make_job(user)
    job_submit(job_id=job.pk)
    job = fresh(job)
    assert job.status == S.IN_QUEUE and job.provider_request_id == f"req-{job.pk}"
    assert job.provider_handle["u"] == "x" and job.provider_handle["webhook"] is False
    assert job.poll_seq == 1 and job.lease_until is None
    assert enqueued == [("poll", (job.pk, 1), pytest.approx(1.0, abs=1.0))]


def test_submit_twice_sends_once(user, fake_provider, enqueued):
    job = make_job(user)
    job_submit(job_id=job.pk)
    job_submit(job_id=job.pk)  # a redelivered task
    assert fake_provider.count("submit") == 1
    assert names(enqueued) == ["poll"]


def test_a_job_with_a_request_id_is_never_submitted(user, fake_provider, enqueued):
    job = make_job(user, status=S.SUBMITTING, provider_request_id="already")
    job_submit(job_id=job.pk)
    assert fake_provider.calls == [] and fresh(job).status == S.SUBMITTING


def test_cancelled_before_submit_never_reaches_the_provider(user, fake_provider, enqueued):
    job = make_job(user, cancel_requested=True)
    job_submit(job_id=job.pk)
    assert fake_provider.calls == [] and fresh(job).status == S.CANCELLED


def test_submit_with_webhook_url_when_public(user, fake_provider, enqueued, settings):
    settings.PUBLIC_BASE_URL = "https://cutroom.example"
    seen = []
    original = fake_provider.submit
    fake_provider.submit = lambda request: (seen.append(request.webhook_url), original(request))[1]
    job = make_job(user)
    job_submit(job_id=job.pk)
    assert seen == [f"https://cutroom.example/generation/webhooks/fal/{job.webhook_token}/"]
    assert fresh(job).provider_handle["webhook"] is True


def test_rate_limited_submit_is_retried_after_retry_after(user, fake_provider, enqueued):
    fake_provider.submits = [provider_error("rate_limited", retry_after=7)]
    job = make_job(user)
    job_submit(job_id=job.pk)
    job = fresh(job)
    assert job.status == S.QUEUED and job.attempts == 1 and job.error_code == "rate_limited"
    ((name, args, countdown),) = enqueued
    assert name == "submit" and args == (job.pk,) and countdown >= 7
    job_submit(job_id=job.pk)
    assert fresh(job).status == S.IN_QUEUE and fake_provider.count("submit") == 2


def test_non_retryable_submit_errors_fail_at_once_with_their_sentence(
    user, fake_provider, enqueued
):
    for code, words in (
        ("auth", "rejected the API key"),
        ("quota", "out of credit"),
        ("invalid_input", "refused these settings"),
        ("content_policy", "content policy"),
    ):
        fake_provider.submits = [provider_error(code)]
        job = make_job(user, reserved_cost=Decimal("0.27"))
        GenerationBudget.objects.update_or_create(
            user=user, defaults={"reserved_usd": Decimal("0.27")}
        )
        job_submit(job_id=job.pk)
        job = fresh(job)
        assert job.status == S.FAILED and job.error_code == code
        assert words in job.error_message
        assert job.provider_detail == f"scripted {code}"
        assert GenerationBudget.objects.get(user=user).reserved_usd == 0
    assert "submit" not in names(enqueued)


def test_retryable_errors_give_up_after_max_attempts(user, fake_provider, enqueued):
    fake_provider.submits = [provider_error("provider_error")] * 5
    job = make_job(user)
    for _ in range(3):
        job_submit(job_id=job.pk)
    job = fresh(job)
    assert job.status == S.FAILED and job.error_code == "provider_error"
    assert fake_provider.count("submit") == 3


def test_ambiguous_submit_is_reconciled_not_resent(user, fake_provider, enqueued):
    fake_provider.submits = [provider_error("timeout", request_sent=True)]
    fake_provider.reconciles = [Submission("found-it", {"u": "y"})]
    job = make_job(user)
    job_submit(job_id=job.pk)
    job = fresh(job)
    assert job.status == S.SUBMITTING and job.lease_until is None
    assert enqueued[-1][0] == "submit" and enqueued[-1][2] > 0
    job_submit(job_id=job.pk)
    job = fresh(job)
    assert job.status == S.IN_QUEUE and job.provider_request_id == "found-it"
    assert fake_provider.count("submit") == 1 and fake_provider.count("reconcile") == 1


def test_worker_died_mid_submit_is_reconciled_once_the_lease_lapses(user, fake_provider, enqueued):
    job = make_job(user, status=S.SUBMITTING, lease_until=timezone.now() + timedelta(seconds=30))
    job_submit(job_id=job.pk)  # the first worker may still be on the call: hands off
    assert fake_provider.calls == []
    GenerationJob.objects.filter(pk=job.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    # The provider's listing shows the request the dead worker sent: it is adopted.
    fake_provider.reconciles = [Submission("sent-before", {"u": "z"})]
    job_submit(job_id=job.pk)
    assert [c[0] for c in fake_provider.calls] == ["reconcile"]
    job = fresh(job)
    assert job.status == S.IN_QUEUE and job.provider_request_id == "sent-before"


def test_a_reconcile_match_another_job_owns_is_not_adopted(user, fake_provider, enqueued):
    make_job(user, status=S.IN_QUEUE, provider_request_id="theirs")
    job = make_job(user, status=S.SUBMITTING, lease_until=None)
    fake_provider.reconciles = [Submission("theirs", {})]
    job_submit(job_id=job.pk)
    job = fresh(job)
    assert job.status == S.FAILED and job.error_message == AMBIGUOUS_MESSAGE
    assert job.provider_request_id == "" and fake_provider.count("submit") == 0


def test_unresolvable_ambiguity_fails_without_resending(user, fake_provider, enqueued):
    fake_provider.reconciles = [provider_error("provider_error", request_sent=True, permanent=True)]
    job = make_job(user, status=S.SUBMITTING, lease_until=None)
    job_submit(job_id=job.pk)
    job = fresh(job)
    assert job.status == S.FAILED and job.error_message == AMBIGUOUS_MESSAGE
    assert fake_provider.count("submit") == 0


# --- poll -----------------------------------------------------------------------------------


_REQUEST_IDS = itertools.count(1)


def submitted(user, **fields):
    defaults = {
        "status": S.IN_QUEUE,
        # One provider request belongs to one job (a database constraint).
        "provider_request_id": f"r{next(_REQUEST_IDS)}",
        "provider_handle": {"webhook": False},
        "in_queue_at": timezone.now(),
        "poll_seq": 1,
    }
    defaults.update(fields)
    return make_job(user, **defaults)


def test_a_superseded_poll_does_nothing(user, fake_provider, enqueued):
    job = submitted(user, poll_seq=5)
    job_poll(job_id=job.pk, seq=4)
    assert fake_provider.calls == [] and enqueued == []


def test_queued_poll_records_position_and_reschedules(user, fake_provider, enqueued):
    fake_provider.statuses = [StatusReport(State.IN_QUEUE, queue_position=4)]
    job = submitted(user)
    job_poll(job_id=job.pk, seq=1)
    job = fresh(job)
    assert job.queue_position == 4 and job.eta_at is not None and job.poll_seq == 2
    assert enqueued == [("poll", (job.pk, 2), pytest.approx(1.0))]
    job_poll(job_id=job.pk, seq=1)  # the old message redelivered: no second chain
    assert fake_provider.count("status") == 1


def test_a_retried_poll_whose_commit_went_through_keeps_one_chain(user, fake_provider, enqueued):
    """A connection lost at COMMIT: the database advanced poll_seq but the successor was
    never enqueued. The retried task carries on; any successor that does exist then stops."""
    fake_provider.statuses = [StatusReport(State.IN_QUEUE, queue_position=2)] * 3
    job = submitted(user, poll_seq=2)  # poll #1's commit advanced the number to 2
    job_poll(job_id=job.pk, seq=1)  # a plain redelivery of #1: stale, nothing happens
    assert fake_provider.count("status") == 0 and enqueued == []
    job_poll(job_id=job.pk, seq=1, retried=True)  # the retry after the lost connection
    assert fake_provider.count("status") == 1
    assert fresh(job).poll_seq == 3 and enqueued == [("poll", (job.pk, 3), pytest.approx(1.0))]
    job_poll(job_id=job.pk, seq=2)  # had #2 been enqueued after all, it is now stale
    assert fake_provider.count("status") == 1
    job_poll(job_id=job.pk, seq=1, retried=True)  # two behind: never a second chain
    assert fake_provider.count("status") == 1


def test_running_without_provider_progress_is_estimated_and_flagged(user, fake_provider, enqueued):
    fake_provider.statuses = [StatusReport(State.RUNNING)]
    job = submitted(user)
    GenerationJob.objects.filter(pk=job.pk).update(running_at=timezone.now())
    job_poll(job_id=job.pk, seq=1)
    job = fresh(job)
    assert job.status == S.RUNNING and job.progress_estimated
    assert 0 <= job.progress < 95 and job.queue_position is None
    fake_provider.statuses = [StatusReport(State.RUNNING, progress=42.0)]
    job_poll(job_id=job.pk, seq=2)
    job = fresh(job)
    assert job.progress == 42.0 and not job.progress_estimated


def test_estimated_progress_follows_typical_time_and_never_claims_done(
    user, fake_provider, enqueued
):
    fake_provider.statuses = [StatusReport(State.RUNNING)]
    # hailuo's typical run is 240 s: 120 s in is about half way.
    job = submitted(user, status=S.RUNNING, running_at=timezone.now() - timedelta(seconds=120))
    job_poll(job_id=job.pk, seq=1)
    assert fresh(job).progress == pytest.approx(50, abs=1)
    fake_provider.statuses = [StatusReport(State.RUNNING)]
    GenerationJob.objects.filter(pk=job.pk).update(running_at=timezone.now() - timedelta(hours=1))
    job_poll(job_id=job.pk, seq=2)
    assert fresh(job).progress == 95


def test_completed_hands_over_to_finalize(user, fake_provider, enqueued):
    fake_provider.statuses = [
        StatusReport(State.COMPLETED, result=ResultInfo(url="http://x/v.mp4", actual_cost="0.2"))
    ]
    job = submitted(user)
    job_poll(job_id=job.pk, seq=1)
    job = fresh(job)
    assert job.status == S.DOWNLOADING and job.provider_handle["result"]["url"] == "http://x/v.mp4"
    assert enqueued == [("finalize", (job.pk,), 0)]


def test_completed_with_error_fails_with_its_sentence(user, fake_provider, enqueued):
    fake_provider.statuses = [
        StatusReport(State.FAILED, error=provider_error("content_policy")),
    ]
    job = submitted(user)
    job_poll(job_id=job.pk, seq=1)
    job = fresh(job)
    assert job.status == S.FAILED and job.error_code == "content_policy"
    assert enqueued == []


def test_status_errors_back_off_or_fail(user, fake_provider, enqueued):
    fake_provider.statuses = [provider_error("network")]
    job = submitted(user)
    job_poll(job_id=job.pk, seq=1)
    job = fresh(job)
    assert job.status == S.IN_QUEUE and job.step_errors == 1 and job.poll_seq == 2
    assert enqueued[-1][0] == "poll" and 1.0 <= enqueued[-1][2] <= 2.0
    fake_provider.statuses = [provider_error("auth")]
    job_poll(job_id=job.pk, seq=2)
    assert fresh(job).status == S.FAILED and fresh(job).error_code == "auth"


def test_poll_of_a_cancel_requested_job_hands_to_cancel(user, fake_provider, enqueued):
    job = submitted(user, cancel_requested=True)
    job_poll(job_id=job.pk, seq=1)
    assert fake_provider.calls == [] and enqueued == [("cancel", (job.pk,), 0)]


def test_poll_interval_adapts(user):
    queued_long = submitted(user, in_queue_at=timezone.now() - timedelta(seconds=40))
    assert poll_interval_s(queued_long) == pytest.approx(10, abs=0.5)
    running = submitted(user, status=S.RUNNING)
    assert poll_interval_s(running) == pytest.approx(12)  # 240 s typical / 20
    running.provider_handle = {"webhook": True}
    assert poll_interval_s(running) == pytest.approx(36)


def test_backoff_is_exponential_capped_and_jittered():
    for attempt in range(1, 12):
        ceiling = min(60.0, 2.0 * 2 ** (attempt - 1))
        delays = {backoff_s(attempt) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1
    assert backoff_s(1, retry_after=30) >= 30


# --- webhook, cancel, sweeper ---------------------------------------------------------------


def test_webhook_polls_now_and_duplicates_are_harmless(user, fake_provider, enqueued):
    job = submitted(user)
    assert job_webhook_received(job=job)
    assert enqueued == [("poll", (job.pk, 2), 0)]
    # A duplicate inside WEBHOOK_POLL_MIN_INTERVAL_S: the poll it asks for is already due.
    assert job_webhook_received(job=job) is False
    assert enqueued == [("poll", (job.pk, 2), 0)]
    fake_provider.statuses = [StatusReport(State.COMPLETED, result=ResultInfo(url="http://x/v"))]
    job_poll(job_id=job.pk, seq=2)
    assert fake_provider.count("status") == 1 and fresh(job).status == S.DOWNLOADING
    assert job_webhook_received(job=job) is False  # late delivery


def test_a_webhook_inside_the_window_brings_the_next_poll_to_the_window_end(
    user, fake_provider, enqueued, settings
):
    """Replays cost one status call per window; the poll a replay asks for is not lost
    but moved to the window's end (never later than the regular poll)."""
    settings.WEBHOOK_POLL_MIN_INTERVAL_S = 5.0
    settings.GENERATION_POLL_MIN_S = settings.GENERATION_POLL_MAX_S = 30.0
    job = submitted(user)
    assert job_webhook_received(job=job)
    fake_provider.statuses = [StatusReport(State.RUNNING)]
    job_poll(job_id=job.pk, seq=2)  # the provider is not done yet: next poll in ~30 s
    assert enqueued[-1][1] == (job.pk, 3) and enqueued[-1][2] > 20
    assert job_webhook_received(job=fresh(job))  # a replay (or a later event) in the window
    name, (job_id, seq), countdown = enqueued[-1]
    assert (name, job_id, seq) == ("poll", job.pk, 4) and 0 < countdown <= 5.0
    before = list(enqueued)
    for _ in range(20):
        assert job_webhook_received(job=fresh(job)) is False
    assert enqueued == before
    assert fake_provider.count("status") == 1


def test_cancel_work_calls_the_provider_and_settles(user, fake_provider, enqueued):
    job = submitted(user, cancel_requested=True)
    job_cancel_work(job_id=job.pk)
    assert fake_provider.count("cancel") == 1 and fresh(job).status == S.CANCELLED


def _budget_with_reservation(user, job):
    GenerationBudget.objects.update_or_create(
        user=user,
        defaults={
            "month": timezone.now().date().replace(day=1),
            "reserved_usd": job.estimated_cost,
        },
    )
    GenerationJob.objects.filter(pk=job.pk).update(reserved_cost=job.estimated_cost)


@pytest.mark.parametrize(
    ("outcome", "spent"),
    [
        # Stopped in the provider's queue: nothing is billed, the reservation is released.
        ("cancelled", Decimal("0")),
        # The provider had already finished it: billed as a normal generation.
        ("too_late", Decimal("0.27")),
    ],
)
def test_a_cancel_the_provider_could_not_honour_is_billed(
    user, fake_provider, enqueued, outcome, spent
):
    from generation.providers.base import CancelOutcome
    from generation.services.transitions import CANCELLED_TOO_LATE

    job = submitted(user, cancel_requested=True)  # IN_QUEUE at the provider
    _budget_with_reservation(user, job)
    fake_provider.cancels = [CancelOutcome(outcome)]
    job_cancel_work(job_id=job.pk)
    job = fresh(job)
    assert job.status == S.CANCELLED
    budget = GenerationBudget.objects.get(user=user)
    assert budget.spent_usd == spent and budget.reserved_usd == 0
    assert (job.error_message == CANCELLED_TOO_LATE) is (outcome == "too_late")


def test_sweeper_redispatches_overdue_jobs_by_state(user, fake_provider, enqueued):
    long_ago = timezone.now() - timedelta(minutes=5)
    queued = make_job(user, next_poll_at=long_ago)
    polling = submitted(user, next_poll_at=long_ago)
    downloading = submitted(user, status=S.DOWNLOADING, next_poll_at=long_ago)
    leased = submitted(
        user,
        status=S.DOWNLOADING,
        next_poll_at=long_ago,
        lease_until=timezone.now() + timedelta(seconds=30),
    )
    on_time = submitted(user, next_poll_at=timezone.now())
    counts = job_sweep()
    assert counts == {"redispatched": 3, "timed_out": 0}
    assert ("submit", (queued.pk,), 0) in enqueued
    assert ("poll", (polling.pk, 2), 0) in enqueued
    assert ("finalize", (downloading.pk,), 0) in enqueued
    assert all(args[0] not in (leased.pk, on_time.pk) for _, args, _ in enqueued)
    enqueued.clear()
    job_sweep()  # the same jobs are not sent again while their step is pending
    assert enqueued == []


def test_sweeper_times_out_jobs_past_the_hard_limit(user, fake_provider, enqueued):
    job = submitted(
        user,
        created_at=timezone.now() - timedelta(hours=2),  # hailuo's limit is 30 min
        next_poll_at=timezone.now() - timedelta(minutes=5),
        reserved_cost=Decimal("0.27"),
    )
    GenerationBudget.objects.create(user=user, reserved_usd=Decimal("0.27"))
    assert job_sweep()["timed_out"] == 1
    job = fresh(job)
    assert job.status == S.FAILED and job.error_code == "timeout"
    assert "30 min" in job.error_message
    assert fake_provider.count("cancel") == 1
    assert GenerationBudget.objects.get(user=user).reserved_usd == 0


# --- finalize: one media item ---------------------------------------------------------------


@pytest.fixture
def clip(tmp_path):
    from media_library.testing import make_video

    return make_video(tmp_path / "clip.mp4", seconds=0.5)


def test_complete_with_file_makes_exactly_one_media_item(user, clip, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    job = submitted(user, status=S.DOWNLOADING, reserved_cost=Decimal("0.27"))
    GenerationBudget.objects.create(user=user, reserved_usd=Decimal("0.27"))
    item = complete_with_file(job, clip, actual_cost="0.25")
    assert item is not None and complete_with_file(job, clip) is None
    assert MediaItem.objects.count() == 1
    job = fresh(job)
    assert job.status == S.SUCCEEDED and job.media_item_id == item.pk
    assert job.actual_cost == Decimal("0.25")
    assert item.source == "generated" and item.metadata["job_id"] == job.pk
    assert item.metadata["prompt"] == job.prompt and item.metadata["model"] == "hailuo"
    assert item.metadata["cost"] == "0.25"
    budget = GenerationBudget.objects.get(user=user)
    assert budget.spent_usd == Decimal("0.25") and budget.reserved_usd == 0


def test_item_made_by_a_worker_that_died_is_linked_not_duplicated(user, clip, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    job = submitted(user, status=S.DOWNLOADING)
    from media_library.services import media_create_from_file

    orphan = media_create_from_file(
        owner=user, path_or_file=clip, title="x", source="generated", metadata={"job_id": job.pk}
    )
    assert complete_with_file(job, clip).pk == orphan.pk
    assert MediaItem.objects.count() == 1 and fresh(job).media_item_id == orphan.pk


def test_a_result_that_is_not_a_video_fails_and_stores_nothing(user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"<html>not a video</html>" * 100)
    job = submitted(user, status=S.DOWNLOADING)
    assert complete_with_file(job, junk) is None
    job = fresh(job)
    assert job.status == S.FAILED and "not a video" in job.error_message
    assert MediaItem.objects.count() == 0
    stored = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert stored == []
