"""The generation start rate is a sliding window (generation/limits.py: _check_rate): the
starts in the last minute, counted from the jobs' created_at under the budget row's lock.
A burst across a minute boundary is refused (the clock is the `now` the tests pass), the
Retry-After is when the oldest start leaves the window, racing threads never exceed the
limit, and the API and the composer both answer with the sentence and the header."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from generation.limits import LimitExceeded, check_and_reserve
from generation.models import GenerationJob, JobStatus
from generation.services.jobs import jobs_create_batch
from generation.services.tokens import api_token_create

pytestmark = pytest.mark.django_db

# A minute boundary: 12:01:00.
BOUNDARY = datetime(2026, 12, 2, 12, 1, 0, tzinfo=UTC)
PARAMS = {"prompt": "a paper boat on a pond", "duration": 4}


@pytest.fixture(autouse=True)
def limits(settings, enqueued):
    settings.GENERATION_RATE = "10/m"
    settings.GENERATION_COOLDOWN_S = 0
    settings.GENERATION_MAX_CONCURRENT = 1000
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("100")
    settings.API_RATE = "1000/m"
    return settings


def started_at(user, *moments: datetime) -> None:
    """Starts made at these moments (finished ones: only the rate counts them)."""
    for moment in moments:
        GenerationJob.objects.create(
            owner=user,
            model_id="local",
            provider="local",
            prompt="earlier",
            status=JobStatus.SUCCEEDED,
            created_at=moment,
        )


def reserve(user, now: datetime, jobs: int = 1) -> None:
    with transaction.atomic():
        check_and_reserve(user=user, estimate=Decimal("0"), jobs=jobs, now=now)


def test_a_burst_across_a_minute_boundary_is_refused(user):
    # 6 starts 10 s before the boundary and 4 just after it: 10 within 30 s. A fixed
    # per-minute window saw only 4 "this minute" and let 6 more through.
    started_at(user, *[BOUNDARY - timedelta(seconds=10)] * 6)
    started_at(user, *[BOUNDARY + timedelta(seconds=5)] * 4)
    with pytest.raises(LimitExceeded) as refused:
        reserve(user, BOUNDARY + timedelta(seconds=20))
    assert refused.value.code == "rate"
    # The 6 oldest leave the window at 12:01:50, 30 s from now.
    assert refused.value.retry_after == 30
    assert refused.value.message == (
        "You started 10 generations in the last minute; try again in 30 s."
    )


def test_room_comes_back_when_the_oldest_start_leaves_the_window(user):
    started_at(user, *[BOUNDARY - timedelta(seconds=10)] * 6)
    started_at(user, *[BOUNDARY + timedelta(seconds=5)] * 4)
    with pytest.raises(LimitExceeded):
        reserve(user, BOUNDARY + timedelta(seconds=49.9))
    reserve(user, BOUNDARY + timedelta(seconds=50.1))  # the six have left: room for one


def test_retry_after_rounds_up_to_whole_seconds(user):
    started_at(user, *[BOUNDARY] * 10)
    with pytest.raises(LimitExceeded) as refused:
        reserve(user, BOUNDARY + timedelta(seconds=36.2))
    assert refused.value.retry_after == 24  # 23.8 s, never promised too soon


def test_a_batch_waits_for_as_many_starts_as_it_needs(user):
    moments = [BOUNDARY + timedelta(seconds=s) for s in (0, 5, 10, 15, 20, 25, 30, 35)]
    started_at(user, *moments)
    now = BOUNDARY + timedelta(seconds=40)
    with pytest.raises(LimitExceeded) as refused:
        reserve(user, now, jobs=3)  # 8 + 3 > 10: the oldest one must leave first
    assert refused.value.retry_after == 20
    assert refused.value.message == (
        "You started 8 generations in the last minute and asked for 3 more "
        "(the limit is 10); try again in 20 s."
    )
    reserve(user, now, jobs=2)  # 8 + 2 fits


def test_a_batch_bigger_than_the_limit_is_refused_for_good(user, limits):
    limits.GENERATION_RATE = "2/m"
    with pytest.raises(LimitExceeded) as refused:
        reserve(user, BOUNDARY, jobs=3)
    assert refused.value.code == "rate" and refused.value.retry_after is None
    assert "start fewer at once" in refused.value.message


def test_other_users_starts_do_not_count(user, other_user):
    started_at(other_user, *[BOUNDARY] * 10)
    reserve(user, BOUNDARY + timedelta(seconds=1))


def test_a_refused_request_uses_none_of_the_allowance(user):
    started_at(user, *[BOUNDARY] * 9)
    with pytest.raises(LimitExceeded):
        reserve(user, BOUNDARY + timedelta(seconds=1), jobs=2)
    reserve(user, BOUNDARY + timedelta(seconds=1), jobs=1)


# --- the API and the composer -----------------------------------------------------------
def ten_starts_ago(user, seconds: float) -> None:
    started_at(user, *[timezone.now() - timedelta(seconds=seconds)] * 10)


def test_the_api_refuses_with_the_sentence_and_retry_after(user):
    ten_starts_ago(user, 50)
    _, raw = api_token_create(user=user, name="tests")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"model": "local", "prompt": "a paper boat", "duration": 4}
    refused = api.post(reverse("api:generate_video"), body, content_type="application/json")
    assert refused.status_code == 429
    retry_after = int(refused["Retry-After"])
    assert 9 <= retry_after <= 10
    assert refused.json()["errors"] == {"limit": "rate"}
    assert refused.json()["message"] == (
        f"You started 10 generations in the last minute; try again in {retry_after} s."
    )
    assert GenerationJob.objects.filter(owner=user).count() == 10


def test_the_composer_refuses_with_the_sentence_and_a_countdown(client, user):
    ten_starts_ago(user, 45)
    client.force_login(user)
    form = {"model": "local", "prompt": "a paper boat", "duration": "4", "variations": "1"}
    refused = client.post(reverse("generation:generate"), form, HTTP_HX_REQUEST="true")
    assert refused.status_code == 429
    retry_after = int(refused["Retry-After"])
    assert 14 <= retry_after <= 15
    html = refused.content.decode()
    assert f"You started 10 generations in the last minute; try again in {retry_after} s." in html
    assert "data-cooldown-until=" in html
    assert "HX-Trigger" not in refused  # nothing started: the saved prompt stays


def test_starts_older_than_a_minute_leave_room(client, user):
    ten_starts_ago(user, 61)
    client.force_login(user)
    form = {"model": "local", "prompt": "a paper boat", "duration": "4", "variations": "1"}
    started = client.post(reverse("generation:generate"), form, HTTP_HX_REQUEST="true")
    assert started.status_code == 200
    assert started["HX-Trigger"] == "gen:started"


# --- racing ----------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_racing_threads_never_start_more_than_the_limit(user, limits):
    limits.GENERATION_RATE = "5/m"
    threads_n = 12
    barrier = threading.Barrier(threads_n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def start() -> None:
        try:
            barrier.wait(timeout=30)
            try:
                jobs_create_batch(user=user, model_id="local", params=dict(PARAMS))
                outcome = "started"
            except LimitExceeded as exc:
                outcome = exc.code
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == threads_n
    assert outcomes.count("started") == 5
    assert outcomes.count("rate") == threads_n - 5
    assert GenerationJob.objects.filter(owner=user).count() == 5
