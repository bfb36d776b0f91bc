"""Rate limits and budgets, on the real Redis cache (each test gets its own key prefix):
the 11th create in a sliding minute is a 429 with Retry-After and a clear sentence (API and
panel), the concurrency cap, the cooldown, API requests per minute, and the budget:
released on cancel before submit and on failures the provider does not bill, reconciled
with the actual cost. The 20-thread budget race is tests/integration/test_pipeline_budget.py
(run it with DATABASE_URL=postgres://… for PostgreSQL's row locks)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from generation.limits import budget_remaining
from generation.models import GenerationBudget, GenerationJob, JobStatus
from generation.providers.base import ErrorCode
from generation.services import job_fail
from generation.services.finalize import complete_with_file
from generation.services.tokens import api_token_create
from media_library.testing import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings, enqueued):
    """Own cache keys per test, generous defaults each test narrows. The start rate is a
    sliding window over the jobs' created_at (generation/limits.py: _check_rate); its
    clock is tested in tests/unit/test_sliding_rate_limit.py."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    }
    settings.GENERATION_RATE = "10/m"
    settings.GENERATION_COOLDOWN_S = 0
    settings.GENERATION_MAX_CONCURRENT = 100
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("100")
    settings.API_RATE = "1000/m"
    settings.FAL_KEY = "k"
    return settings


@pytest.fixture
def api(user):
    _, raw = api_token_create(user=user, name="tests")
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def create(api, **body):
    payload = {"model": "local", "prompt": "a paper boat on a pond", "duration": 4, **body}
    return api.post(reverse("api:generate_video"), payload, content_type="application/json")


def assert_429(response, sentence: str, *, max_wait: int):
    assert response.status_code == 429, response.content
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= max_wait
    text = response.content.decode()
    assert sentence in text
    return retry_after


# --- generations per minute -------------------------------------------------------------
def test_eleventh_create_in_a_minute_is_429_on_the_api(api, user):
    for _ in range(10):
        assert create(api).status_code == 202
    refused = create(api)
    wait = assert_429(refused, "You started 10 generations in the last minute;", max_wait=60)
    assert wait >= 55  # the first start leaves the window a minute after it was made
    assert f"try again in {wait} s." in refused.json()["message"]
    assert refused.json()["errors"] == {"limit": "rate"}
    assert GenerationJob.objects.filter(owner=user).count() == 10


def test_eleventh_create_in_a_minute_is_429_on_the_panel(user):
    client = Client()
    client.force_login(user)
    form = {"model": "local", "prompt": "a paper boat", "duration": "4", "variations": "1"}
    for _ in range(10):
        response = client.post(reverse("generation:generate"), form, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, response.content.decode()[:500]
    refused = client.post(reverse("generation:generate"), form, HTTP_HX_REQUEST="true")
    assert_429(refused, "You started 10 generations in the last minute;", max_wait=60)
    assert GenerationJob.objects.filter(owner=user).count() == 10


def test_the_rate_is_per_user(api, make_user):
    for _ in range(10):
        assert create(api).status_code == 202
    assert create(api).status_code == 429
    _, raw = api_token_create(user=make_user("bob"))
    other = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert create(other).status_code == 202


# --- concurrency and cooldown -----------------------------------------------------------
def test_concurrency_cap_counts_live_jobs(api, user, limits):
    limits.GENERATION_MAX_CONCURRENT = 2
    first = create(api).json()["job_id"]
    assert create(api).status_code == 202
    refused = create(api)
    assert_429(refused, "You already have 2 generations in progress (the limit is 2).", max_wait=60)
    assert refused.json()["errors"] == {"limit": "concurrency"}
    # A finished job frees a slot.
    assert api.post(reverse("api:cancel_job", args=[first])).status_code == 202
    assert create(api).status_code == 202
    assert GenerationJob.objects.filter(owner=user, status=JobStatus.QUEUED).count() == 2


def test_cooldown_between_generations(api, limits):
    limits.GENERATION_COOLDOWN_S = 30
    assert create(api).status_code == 202
    refused = create(api)
    wait = assert_429(refused, "between generations.", max_wait=30)
    assert f"Please wait {wait} s between generations." == refused.json()["message"]
    assert refused.json()["errors"] == {"limit": "cooldown"}


def test_panel_shows_the_cooldown(user, limits):
    limits.GENERATION_COOLDOWN_S = 30
    client = Client()
    client.force_login(user)
    form = {"model": "local", "prompt": "a paper boat", "duration": "4", "variations": "1"}
    assert (
        client.post(reverse("generation:generate"), form, HTTP_HX_REQUEST="true").status_code == 200
    )
    refused = client.post(reverse("generation:generate"), form, HTTP_HX_REQUEST="true")
    wait = assert_429(refused, "between generations.", max_wait=30)
    assert f"Please wait {wait} s" in refused.content.decode()


# --- API requests per minute --------------------------------------------------------------
def test_api_requests_per_minute(api, limits, make_user):
    limits.API_RATE = "5/m"
    for _ in range(5):
        assert api.get(reverse("api:jobs")).status_code == 200
    refused = api.get(reverse("api:jobs"))
    assert_429(refused, "Too many API requests: the limit is 5 per minute.", max_wait=60)
    assert refused.json()["errors"] == {"limit": "api_rate"}
    # Writes count too, and another user has their own allowance.
    assert create(api).status_code == 429
    _, raw = api_token_create(user=make_user("bob"))
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(reverse("api:jobs")).status_code == 200


def test_api_rate_counts_session_requests_per_user(user, limits):
    limits.API_RATE = "3/m"
    client = Client()
    client.force_login(user)
    statuses = [client.get(reverse("api:models")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


# --- budget: reserve, release, reconcile ----------------------------------------------------
def paid_job(api, user) -> GenerationJob:
    response = create(api, model="hailuo", duration=6)
    assert response.status_code == 202, response.content
    return GenerationJob.objects.get(pk=response.json()["job_id"], owner=user)


def test_budget_refusal_names_the_remaining_amount(api, user, limits):
    limits.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.50")
    job = paid_job(api, user)
    assert job.reserved_cost == job.estimated_cost > 0
    refused = create(api, model="hailuo", duration=6)
    assert refused.status_code == 429
    remaining = Decimal("0.50") - job.estimated_cost
    assert (
        f"only ${remaining.quantize(Decimal('0.01'))} of your $0.50 monthly budget"
        in (refused.json()["message"])
    )
    assert refused.json()["errors"] == {"limit": "budget"}


def test_cancel_before_submit_releases_the_reservation(api, user):
    before = budget_remaining(user)
    job = paid_job(api, user)
    assert budget_remaining(user) == before - job.estimated_cost
    assert api.post(reverse("api:cancel_job", args=[job.pk])).status_code == 202
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.reserved_cost == 0
    budget = GenerationBudget.objects.get(user=user)
    assert budget.reserved_usd == 0 and budget.spent_usd == 0
    assert budget_remaining(user) == before


@pytest.mark.parametrize("code", [ErrorCode.AUTH, ErrorCode.CONTENT_POLICY, ErrorCode.TIMEOUT])
def test_unbilled_failure_releases_the_reservation(api, user, code):
    job = paid_job(api, user)
    job.status = JobStatus.SUBMITTING
    GenerationJob.objects.filter(pk=job.pk).update(status=JobStatus.SUBMITTING)
    job_fail(job, code=code, detail="scripted")
    budget = GenerationBudget.objects.get(user=user)
    assert budget.reserved_usd == 0 and budget.spent_usd == 0
    # Released exactly once: a second settle of the same job gives nothing back.
    from generation.limits import reservation_release

    assert reservation_release(job=job) == 0
    assert GenerationBudget.objects.get(user=user).reserved_usd == 0


def test_success_is_reconciled_with_the_actual_cost(api, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    job = paid_job(api, user)
    GenerationJob.objects.filter(pk=job.pk).update(status=JobStatus.DOWNLOADING)
    job.refresh_from_db()
    video = make_video(tmp_path / "out.mp4", seconds=1.0)
    assert complete_with_file(job, video, actual_cost="0.19") is not None
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.actual_cost == Decimal("0.19")
    budget = GenerationBudget.objects.get(user=user)
    assert budget.reserved_usd == 0
    assert budget.spent_usd == Decimal("0.19")  # the provider's figure, not the estimate
    assert budget_remaining(user) == Decimal("100") - Decimal("0.19")


# --- per-user overrides (admin) ---------------------------------------------------------
def test_per_user_overrides_beat_the_site_limits(api, user, make_user, limits):
    limits.GENERATION_COOLDOWN_S = 0
    GenerationBudget.objects.create(user=user, rate_per_minute=2, max_concurrent=50)
    assert create(api).status_code == 202
    assert create(api).status_code == 202
    assert_429(create(api), "You started 2 generations in the last minute;", max_wait=60)
    # Another user keeps the site's 10 per minute.
    _, raw = api_token_create(user=make_user("carol"))
    other = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert all(create(other).status_code == 202 for _ in range(3))


def test_per_user_concurrency_and_cooldown_overrides(api, user, limits):
    limits.GENERATION_COOLDOWN_S = 0
    GenerationBudget.objects.create(user=user, max_concurrent=1)
    budget = GenerationBudget.objects.filter(user=user)
    assert create(api).status_code == 202
    assert_429(create(api), "(the limit is 1)", max_wait=60)
    budget.update(max_concurrent=0, cooldown_s=45)  # 0 = no limit for this user
    assert_429(create(api), "between generations.", max_wait=45)
    budget.update(cooldown_s=0)
    assert create(api).status_code == 202


def test_admin_edits_a_users_limits(admin_client, user):
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = admin_client.get(url).content.decode()
    for field in ("rate_per_minute", "cooldown_s", "max_concurrent", "monthly_limit_usd"):
        assert field in page
