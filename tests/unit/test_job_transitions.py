"""Guarded transitions, job_create's limits and budget, cancel, retry, and the reservation
bookkeeping. Services are called directly; tasks are recorded, not sent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache

from generation import limits
from generation.limits import LimitExceeded, check_and_reserve, parse_rate
from generation.models import GenerationBudget, GenerationJob, JobStatus
from generation.services import (
    IllegalTransition,
    JobInvalid,
    job_cancel,
    job_create,
    job_fail,
    job_mark_cancelled,
    job_retry,
    jobs_create_batch,
    transition,
)
from generation.services.transitions import (
    ALLOWED,
    job_mark_downloading,
    job_mark_running,
    job_mark_submitted,
    job_mark_submitting,
)
from tests.unit.job_fakes import make_job

pytestmark = pytest.mark.django_db

S = JobStatus


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.GENERATION_RATE = "1000/m"
    settings.GENERATION_COOLDOWN_S = 0
    settings.GENERATION_MAX_CONCURRENT = 50
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("20")
    settings.FAL_KEY = "test-key"
    settings.CACHE_KEY_PREFIX = "t"
    cache.clear()


def local_params(**extra):
    return {"prompt": "a calm ocean at night", "duration": 2, "resolution": "360p", **extra}


def hailuo_params(**extra):
    return {"prompt": "a red fox in snow", "duration": 6, **extra}


# --- transitions ------------------------------------------------------------------------------


def test_every_state_change_outside_the_table_is_refused(user):
    for current in S.values:
        for target in S.values:
            job = make_job(user, status=current)
            if target in ALLOWED[current]:
                transition(job, target)
                assert GenerationJob.objects.get(pk=job.pk).status == target
            else:
                with pytest.raises(IllegalTransition):
                    transition(job, target)
                assert GenerationJob.objects.get(pk=job.pk).status == current


def test_terminal_states_are_final(user):
    for terminal in (S.SUCCEEDED, S.FAILED, S.CANCELLED):
        assert ALLOWED[terminal] == frozenset()


def test_transition_stamps_the_state_time_and_clears_schedule_when_terminal(user):
    job = make_job(user)
    job = job_mark_submitting(job, lease_s=60)
    assert job.submitting_at is not None and job.attempts == 1 and job.lease_until is not None
    job = job_mark_submitted(job, request_id="r1", handle={"status_url": "x"})
    job = job_mark_running(job)
    job = job_mark_downloading(job)
    fresh = GenerationJob.objects.get(pk=job.pk)
    assert fresh.provider_request_id == "r1"
    assert fresh.in_queue_at and fresh.running_at and fresh.downloading_at
    assert fresh.progress == 100
    job_fail(fresh, code="provider_error", detail="boom")
    fresh.refresh_from_db()
    assert fresh.status == S.FAILED and fresh.failed_at is not None
    assert fresh.next_poll_at is None and fresh.lease_until is None
    assert fresh.error_message.startswith("The provider failed")


def test_a_stale_copy_cannot_transition_a_job_someone_else_moved(user):
    job = make_job(user)
    stale = GenerationJob.objects.get(pk=job.pk)
    job_mark_submitting(job, lease_s=60)
    with pytest.raises(IllegalTransition):
        job_mark_submitting(stale, lease_s=60)
    assert GenerationJob.objects.get(pk=job.pk).attempts == 1


def test_submitting_is_refused_once_cancel_was_requested(user):
    job = make_job(user, cancel_requested=True)
    with pytest.raises(IllegalTransition):
        job_mark_submitting(job, lease_s=60)
    assert GenerationJob.objects.get(pk=job.pk).status == S.QUEUED


def test_each_transition_pushes_the_job_card(user, monkeypatch, django_capture_on_commit_callbacks):
    pushed = []
    monkeypatch.setattr("project.live.broadcast", lambda uid, html: pushed.append((uid, html)))
    job = make_job(user)
    with django_capture_on_commit_callbacks(execute=True):
        job_mark_submitting(job, lease_s=60)
    assert len(pushed) == 1
    uid, html = pushed[0]
    assert uid == user.pk
    assert f'id="job-{job.pk}"' in html and 'hx-swap-oob="outerHTML"' in html
    assert "Submitting" in html


# --- job_create -----------------------------------------------------------------------------


def test_create_validates_prices_reserves_and_enqueues_submit(
    user, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(user=user, model_id="hailuo", params=hailuo_params(duration="10"))
    assert job.status == S.QUEUED and job.provider == "fal"
    assert job.estimated_cost == Decimal("0.45") and job.reserved_cost == Decimal("0.45")
    assert job.params["duration"] == 10 and "prompt" not in job.params
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0.45")
    assert enqueued == [("submit", (job.pk,), 0)]


def test_create_nothing_when_invalid(user, enqueued):
    with pytest.raises(JobInvalid) as info:
        job_create(user=user, model_id="hailuo", params={"prompt": " \x00 ", "duration": 7})
    assert set(info.value.errors) == {"prompt", "duration"}
    assert "6 s or 10 s" in info.value.errors["duration"]
    with pytest.raises(JobInvalid) as info:
        job_create(user=user, model_id="no-such-model", params=hailuo_params())
    assert "model" in info.value.errors
    assert not GenerationJob.objects.exists() and enqueued == []


def test_create_refuses_a_model_whose_provider_has_no_key(user, settings):
    settings.FAL_KEY = ""
    with pytest.raises(JobInvalid) as info:
        job_create(user=user, model_id="hailuo", params=hailuo_params())
    assert "FAL_KEY" in info.value.errors["model"]


def test_budget_refuses_with_the_remaining_amount_and_reserves_nothing(user, settings, enqueued):
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.50")
    job_create(user=user, model_id="hailuo", params=hailuo_params())  # 0.27 reserved
    with pytest.raises(LimitExceeded) as info:
        job_create(user=user, model_id="hailuo", params=hailuo_params())
    assert info.value.code == "budget"
    assert "$0.23" in info.value.message and "$0.50" in info.value.message
    assert GenerationJob.objects.count() == 1
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0.27")


def test_per_user_budget_override_wins(user, settings, enqueued):
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.10")
    GenerationBudget.objects.create(user=user, monthly_limit_usd=Decimal("5"))
    job_create(user=user, model_id="hailuo", params=hailuo_params())
    assert GenerationJob.objects.count() == 1


def test_cooldown_between_creates_but_not_within_a_batch(user, settings, enqueued):
    settings.GENERATION_COOLDOWN_S = 30
    jobs_create_batch(user=user, model_id="local", params=local_params(), variations=2)
    with pytest.raises(LimitExceeded) as info:
        job_create(user=user, model_id="local", params=local_params())
    assert info.value.code == "cooldown" and 28 <= info.value.retry_after <= 30
    assert GenerationJob.objects.count() == 2


# --- batches of variations ------------------------------------------------------------------


def test_batch_makes_one_job_per_variation_with_consecutive_seeds(
    user, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        jobs = jobs_create_batch(
            user=user, model_id="local", params=local_params(seed=41), variations=3
        )
    assert [j.params["seed"] for j in jobs] == [41, 42, 43]
    assert {j.prompt for j in jobs} == {"a calm ocean at night"}
    assert GenerationJob.objects.filter(owner=user, status=S.QUEUED).count() == 3
    assert sorted(pk for name, (pk,), _ in enqueued if name == "submit") == sorted(
        j.pk for j in jobs
    )


def test_batch_without_a_seed_picks_distinct_seeds_and_a_single_job_keeps_none(user, enqueued):
    jobs = jobs_create_batch(user=user, model_id="local", params=local_params(), variations=4)
    seeds = [j.params["seed"] for j in jobs]
    assert len(set(seeds)) == 4 and all(isinstance(s, int) for s in seeds)
    (single,) = jobs_create_batch(user=user, model_id="local", params=local_params())
    assert single.params["seed"] is None


def test_batch_seeds_wrap_at_the_largest_seed(user, enqueued):
    from generation.validation import SEED_MAX

    jobs = jobs_create_batch(
        user=user, model_id="local", params=local_params(seed=SEED_MAX), variations=2
    )
    assert [j.params["seed"] for j in jobs] == [SEED_MAX, 0]


def test_batch_reserves_its_total_in_one_budget_check(user, settings, enqueued, monkeypatch):
    calls = []
    real = limits.check_and_reserve

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr("generation.services.jobs.check_and_reserve", spy)
    jobs = jobs_create_batch(user=user, model_id="hailuo", params=hailuo_params(), variations=3)
    assert [(c["estimate"], c["jobs"]) for c in calls] == [(Decimal("0.81"), 3)]
    assert [j.reserved_cost for j in jobs] == [Decimal("0.27")] * 3
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0.81")


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [
        ("GENERATION_MONTHLY_BUDGET_USD", Decimal("0.60"), "budget"),  # 2 of 3 would fit
        ("GENERATION_MAX_CONCURRENT", 2, "concurrency"),
        ("GENERATION_RATE", "2/m", "rate"),
    ],
)
def test_a_refused_batch_starts_nothing(
    user, settings, enqueued, django_capture_on_commit_callbacks, setting, value, code
):
    setattr(settings, setting, value)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(LimitExceeded) as info:
        jobs_create_batch(user=user, model_id="hailuo", params=hailuo_params(), variations=3)
    assert info.value.code == code
    assert not GenerationJob.objects.exists() and enqueued == []
    assert not GenerationBudget.objects.filter(user=user, reserved_usd__gt=0).exists()
    # What was refused used none of the allowance: a request that fits still starts.
    jobs = jobs_create_batch(user=user, model_id="hailuo", params=hailuo_params(), variations=2)
    assert len(jobs) == 2


def test_batch_budget_refusal_names_the_batch(user, settings, enqueued):
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.60")
    with pytest.raises(LimitExceeded) as info:
        jobs_create_batch(user=user, model_id="hailuo", params=hailuo_params(), variations=3)
    assert info.value.message.startswith("These 3 variations would cost $0.81, but only $0.60")


@pytest.mark.parametrize("variations", [0, 5, -1])
def test_batch_size_outside_one_to_the_cap_is_invalid(user, enqueued, variations):
    with pytest.raises(JobInvalid) as info:
        jobs_create_batch(user=user, model_id="local", params=local_params(), variations=variations)
    assert set(info.value.errors) == {"variations"}
    assert not GenerationJob.objects.exists()


def test_concurrency_cap_counts_live_jobs_only(user, settings, enqueued):
    settings.GENERATION_MAX_CONCURRENT = 2
    make_job(user, status=S.RUNNING)
    make_job(user, status=S.SUCCEEDED)
    job_create(user=user, model_id="local", params=local_params())
    with pytest.raises(LimitExceeded) as info:
        job_create(user=user, model_id="local", params=local_params())
    assert info.value.code == "concurrency" and info.value.retry_after


def test_rate_per_minute_on_the_cache(user, settings, enqueued, make_user):
    settings.GENERATION_RATE = "3/m"
    for _ in range(3):
        job_create(user=user, model_id="local", params=local_params())
    with pytest.raises(LimitExceeded) as info:
        job_create(user=user, model_id="local", params=local_params())
    assert info.value.code == "rate" and 1 <= info.value.retry_after <= 60
    # Another user has their own allowance.
    job_create(user=make_user("bob"), model_id="local", params=local_params())
    assert GenerationJob.objects.count() == 4


def test_parse_rate():
    assert parse_rate("10/m") == (10, 60)
    assert parse_rate("100/5m") == (100, 300)
    assert parse_rate("2/s") == (2, 1)
    assert parse_rate("7/h") == (7, 3600)


@pytest.mark.django_db(transaction=True)
def test_reserve_outside_a_transaction_is_a_programming_error(user):
    with pytest.raises(RuntimeError):
        check_and_reserve(user=user, estimate=Decimal("1"))


# --- settle / release -----------------------------------------------------------------------


def test_release_happens_once_even_if_called_twice(user, enqueued):
    job = job_create(user=user, model_id="hailuo", params=hailuo_params())
    assert limits.reservation_release(job=job) == Decimal("0.27")
    stale = GenerationJob.objects.get(pk=job.pk)
    stale.reserved_cost = Decimal("0.27")  # an out-of-date copy must not release again
    assert limits.reservation_release(job=stale) == Decimal("0")
    budget = GenerationBudget.objects.get(user=user)
    assert budget.reserved_usd == Decimal("0") and budget.spent_usd == Decimal("0")


def test_settle_moves_reservation_to_spent_with_the_actual_cost(user, enqueued):
    job = job_create(user=user, model_id="hailuo", params=hailuo_params())
    limits.reservation_settle(job=job, amount=Decimal("0.25"))
    budget = GenerationBudget.objects.get(user=user)
    assert budget.reserved_usd == Decimal("0") and budget.spent_usd == Decimal("0.25")
    assert limits.budget_remaining(user) == Decimal("19.75")


def test_failure_releases_the_reservation(user, enqueued):
    job = job_create(user=user, model_id="hailuo", params=hailuo_params())
    job_fail(job, code="content_policy")
    job.refresh_from_db()
    assert job.reserved_cost == 0
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0")
    assert "content policy" in job.error_message


def test_cancel_after_the_provider_started_keeps_the_estimate_as_spent(user, enqueued):
    job = job_create(user=user, model_id="hailuo", params=hailuo_params())
    GenerationJob.objects.filter(pk=job.pk).update(status=S.RUNNING)
    job.refresh_from_db()
    job_mark_cancelled(job, billed=True)
    budget = GenerationBudget.objects.get(user=user)
    assert budget.reserved_usd == Decimal("0") and budget.spent_usd == Decimal("0.27")


# --- cancel / retry -------------------------------------------------------------------------


def test_cancel_queued_is_immediate_and_releases(
    user, enqueued, django_capture_on_commit_callbacks
):
    job = job_create(user=user, model_id="hailuo", params=hailuo_params())
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        job = job_cancel(job=job)
    assert job.status == S.CANCELLED and job.cancel_requested
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0")
    assert enqueued == []  # nothing to stop at a provider


def test_cancel_in_flight_sets_the_flag_and_hands_over_to_a_worker(
    user, enqueued, django_capture_on_commit_callbacks
):
    job = make_job(user, status=S.IN_QUEUE, provider_request_id="r1")
    with django_capture_on_commit_callbacks(execute=True):
        job = job_cancel(job=job)
    assert job.status == S.IN_QUEUE and job.cancel_requested
    assert enqueued == [("cancel", (job.pk,), 0)]


def test_cancel_of_a_finished_job_is_refused(user):
    job = make_job(user, status=S.SUCCEEDED)
    with pytest.raises(IllegalTransition):
        job_cancel(job=job)


def test_retry_makes_a_linked_new_job_with_the_same_settings(user, enqueued):
    first = job_create(
        user=user, model_id="local", params=local_params(seed=42, aspect_ratio="9:16")
    )
    with pytest.raises(IllegalTransition):
        job_retry(job=first, user=user)
    job_fail(first, code="network")
    second = job_retry(job=first, user=user)
    assert second.pk != first.pk and second.retry_of_id == first.pk
    assert second.prompt == first.prompt and second.params == first.params
    assert second.status == S.QUEUED


def test_variations_are_numbered_and_their_clips_get_distinct_titles(user, enqueued):
    from generation.services.finalize import generated_title

    jobs = jobs_create_batch(
        user=user, model_id="local", params=local_params(prompt="Waves on a pier"), variations=3
    )
    assert [j.variation for j in jobs] == [1, 2, 3]
    assert [generated_title(j) for j in jobs] == [
        "Waves on a pier",
        "Waves on a pier #2",
        "Waves on a pier #3",
    ]
    (single,) = jobs_create_batch(user=user, model_id="local", params=local_params())
    assert single.variation == 1 and "#" not in generated_title(single)
