"""The JSON API: auth (bearer token hashed at rest, session with CSRF), request
validation with a message per field, 202/400/401/404/409/429 shapes, owner scoping, the
OpenAPI document, and the api_token command."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client

from generation.models import ApiToken, GenerationJob, JobStatus
from generation.services import api_token_create, api_token_revoke, job_fail
from tests.unit.job_fakes import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.GENERATION_RATE = "1000/m"
    settings.GENERATION_COOLDOWN_S = 0
    settings.GENERATION_MAX_CONCURRENT = 50
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("20")
    settings.FAL_KEY = "test-key"
    cache.clear()


@pytest.fixture
def token(user):
    return api_token_create(user=user, name="test")[1]


@pytest.fixture
def api(token):
    """A client that sends the bearer token on every request."""

    class Api:
        def __init__(self, raw):
            self.client = Client()
            self.headers = {"Authorization": f"Bearer {raw}"}

        def get(self, path, **params):
            return self.client.get(path, params, headers=self.headers)

        def post(self, path, body=None, **headers):
            return self.client.post(
                path,
                json.dumps(body if body is not None else {}),
                content_type="application/json",
                headers={**self.headers, **headers},
            )

    return Api(token)


ORIGINAL_CURL = {"prompt": "Test video", "model": "hailuo", "duration": 6}


# --- auth -----------------------------------------------------------------------------------


def test_the_original_services_request_starts_a_job(
    api, user, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/generate-video", ORIGINAL_CURL)
    assert response.status_code == 202, response.content
    body = response.json()
    job = GenerationJob.objects.get(pk=body["job_id"])
    assert body == {"job_id": job.pk, "status": "queued", "estimated_cost": 0.27, "currency": "USD"}
    assert job.owner == user and job.params["duration"] == 6
    assert enqueued == [("submit", (job.pk,), 0)]


def test_tokens_are_stored_hashed_and_shown_once(user):
    row, raw = api_token_create(user=user)
    assert raw.startswith("crt_") and len(raw) > 40
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in json.dumps(list(ApiToken.objects.values()), default=str)


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer crt_wrong", "Basic abc", "Bearer " + "x" * 300],
)
def test_missing_or_wrong_credentials_are_401_json(header):
    headers = {"Authorization": header} if header else {}
    response = Client().get("/api/jobs", headers=headers)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "Bearer" in response.json()["message"]


def test_a_revoked_token_or_inactive_user_is_refused(user, token, api):
    assert api.get("/api/jobs").status_code == 200
    assert ApiToken.objects.get().last_used_at is not None
    api_token_revoke(token=ApiToken.objects.get())
    assert api.get("/api/jobs").status_code == 401
    _, raw = api_token_create(user=user)
    user.is_active = False
    user.save()
    assert Client().get("/api/jobs", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_session_auth_works_and_needs_csrf_for_writes(user, enqueued):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/jobs").status_code == 200
    refused = client.post("/api/generate-video", ORIGINAL_CURL, content_type="application/json")
    assert refused.status_code in (401, 403)
    client.get("/api/jobs")  # any page would do; we need the CSRF cookie
    from django.middleware.csrf import _get_new_csrf_string

    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    ok = client.post(
        "/api/generate-video",
        ORIGINAL_CURL,
        content_type="application/json",
        headers={"X-CSRFToken": secret},
    )
    assert ok.status_code == 202


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"model": "hailuo", "duration": 6}, {"prompt"}),
        ({"prompt": "x", "model": "hailuo", "duration": 7}, {"duration"}),
        ({"prompt": "x", "model": "hailuo", "duration": "soon"}, {"duration"}),
        ({"prompt": "x", "model": "nope"}, {"model"}),
        ({"prompt": "x", "model": "hailuo", "resolution": "4K"}, {"resolution"}),
        ({"prompt": "x", "model": "local", "aspect_ratio": "2:1"}, {"aspect_ratio"}),
        ({"prompt": "x", "model": "hailuo", "generate_audio": True}, {"generate_audio"}),
        ({"prompt": "x", "model": "local", "seed": -1}, {"seed"}),
        ({"prompt": "x", "model": "local", "seed": "abc"}, {"seed"}),
        ({"prompt": "x", "model": "local", "image_media_id": 5}, {"image_media_id"}),
        ({"prompt": "y" * 5000, "model": "hailuo"}, {"prompt"}),
        ({"prompt": ["a list"], "model": "hailuo"}, {"prompt"}),
    ],
)
def test_bad_input_is_400_with_a_message_per_field(api, body, fields):
    response = api.post("/api/generate-video", body)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert set(payload["errors"]) == fields
    assert all(isinstance(m, str) and m for m in payload["errors"].values())
    assert payload["message"]
    assert not GenerationJob.objects.exists()


def test_malformed_json_is_400(api):
    response = api.client.post(
        "/api/generate-video", "{not json", content_type="application/json", headers=api.headers
    )
    assert response.status_code == 400
    assert response.json()["message"]


def test_duration_errors_name_the_allowed_values(api):
    response = api.post("/api/generate-video", {"prompt": "x", "model": "hailuo", "duration": 7})
    assert "6 s or 10 s" in response.json()["errors"]["duration"]


# --- limits ---------------------------------------------------------------------------------


def test_over_a_limit_is_429_with_retry_after(api, settings, enqueued):
    settings.GENERATION_COOLDOWN_S = 60
    assert api.post("/api/generate-video", ORIGINAL_CURL).status_code == 202
    response = api.post("/api/generate-video", ORIGINAL_CURL)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["errors"] == {"limit": "cooldown"}
    assert "wait" in response.json()["message"]


def test_over_budget_is_429_naming_the_remaining_amount(api, settings, enqueued):
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.30")
    assert api.post("/api/generate-video", ORIGINAL_CURL).status_code == 202
    response = api.post("/api/generate-video", ORIGINAL_CURL)
    assert response.status_code == 429 and "$0.03" in response.json()["message"]


# --- variations -----------------------------------------------------------------------------


def test_variations_start_one_job_each_with_distinct_seeds(
    api, user, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/generate-video", {**ORIGINAL_CURL, "model": "local", "variations": 3, "seed": 9}
        )
    assert response.status_code == 202, response.content
    body = response.json()
    jobs = GenerationJob.objects.filter(owner=user).order_by("pk")
    assert [j["job_id"] for j in body["jobs"]] == [j.pk for j in jobs]
    assert body["job_id"] == jobs[0].pk
    assert [j["seed"] for j in body["jobs"]] == [9, 10, 11]
    assert [j.params["seed"] for j in jobs] == [9, 10, 11]
    assert sorted(args[0] for name, args, _ in enqueued if name == "submit") == [j.pk for j in jobs]


def test_variations_without_a_seed_get_distinct_random_seeds(api, user, enqueued):
    response = api.post("/api/generate-video", {**ORIGINAL_CURL, "model": "local", "variations": 4})
    assert response.status_code == 202, response.content
    seeds = [j["seed"] for j in response.json()["jobs"]]
    assert len(set(seeds)) == 4 and all(isinstance(s, int) for s in seeds)


def test_variations_are_checked_against_the_budget_once_for_the_total(
    api, user, settings, enqueued
):
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.81")
    response = api.post("/api/generate-video", {**ORIGINAL_CURL, "variations": 3})
    assert response.status_code == 202, response.content
    assert GenerationJob.objects.filter(owner=user).count() == 3
    from generation.models import GenerationBudget

    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0.81")


def test_a_refused_batch_of_variations_starts_nothing(
    api, user, settings, enqueued, django_capture_on_commit_callbacks
):
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.60")  # two would fit, three do not
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/generate-video", {**ORIGINAL_CURL, "variations": 3})
    assert response.status_code == 429
    assert response.json()["errors"] == {"limit": "budget"}
    assert "$0.81" in response.json()["message"]
    assert not GenerationJob.objects.exists() and enqueued == []


@pytest.mark.parametrize("variations", [0, 5, "many"])
def test_variations_outside_one_to_four_are_400(api, variations):
    response = api.post("/api/generate-video", {**ORIGINAL_CURL, "variations": variations})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"variations"}
    assert not GenerationJob.objects.exists()


def test_variations_are_documented_in_the_schema():
    schema = Client().get("/api/openapi.json").json()
    field = schema["components"]["schemas"]["GenerateVideoIn"]["properties"]["variations"]
    assert "seed" in field["description"]
    assert schema["components"]["schemas"]["CreatedOut"]["properties"]["jobs"]


# --- jobs -----------------------------------------------------------------------------------


def test_job_detail_shape(api, user, enqueued):
    job_id = api.post("/api/generate-video", ORIGINAL_CURL).json()["job_id"]
    body = api.get(f"/api/jobs/{job_id}").json()
    for key in (
        "job_id",
        "status",
        "progress",
        "queue_position",
        "eta_seconds",
        "estimated_cost",
        "error",
        "media_item_id",
        "media_url",
    ):
        assert key in body
    assert body["status"] == "queued" and body["error"] is None and body["media_url"] is None
    job_fail(GenerationJob.objects.get(pk=job_id), code="auth")
    failed = api.get(f"/api/jobs/{job_id}").json()
    assert failed["error"]["code"] == "auth"
    assert "rejected the API key" in failed["error"]["message"]


def test_media_url_of_a_finished_job(api, user):
    from media_library.models import MediaItem

    item = MediaItem.objects.create(owner=user, kind="video", title="t", file="u/x.mp4")
    job = make_job(user, status=JobStatus.SUCCEEDED, media_item=item)
    body = api.get(f"/api/jobs/{job.pk}").json()
    assert body["media_item_id"] == item.pk
    # A signed link, so a script holding only a token can download the clip.
    assert f"/api/media/{item.pk}/download?sig=" in body["media_url"]


def test_list_is_the_callers_jobs_newest_first(api, user, other_user):
    a = make_job(user)
    b = make_job(user, status=JobStatus.FAILED)
    make_job(other_user)
    assert [j["job_id"] for j in api.get("/api/jobs").json()] == [b.pk, a.pk]
    assert [j["job_id"] for j in api.get("/api/jobs", status="live").json()] == [a.pk]


def test_another_users_job_and_media_are_404(api, other_user):
    from media_library.models import MediaItem

    theirs = make_job(other_user, status=JobStatus.FAILED)
    MediaItem.objects.create(owner=other_user, kind="video", title="t", file="u/x.mp4")
    for response in (
        api.get(f"/api/jobs/{theirs.pk}"),
        api.post(f"/api/jobs/{theirs.pk}/cancel"),
        api.post(f"/api/jobs/{theirs.pk}/retry"),
        api.get("/api/jobs/999999"),
    ):
        assert response.status_code == 404 and response.json()["message"] == "No such job."
    assert api.get("/api/media").json()["items"] == []
    theirs.refresh_from_db()
    assert theirs.status == JobStatus.FAILED and not theirs.retries.exists()


def test_cancel_and_retry(api, user, enqueued):
    job_id = api.post("/api/generate-video", ORIGINAL_CURL).json()["job_id"]
    response = api.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 409
    retried = api.post(f"/api/jobs/{job_id}/retry")
    assert retried.status_code == 202
    new = GenerationJob.objects.get(pk=retried.json()["job_id"])
    assert new.retry_of_id == job_id and new.status == JobStatus.QUEUED
    assert api.post(f"/api/jobs/{new.pk}/retry").status_code == 409


# --- catalog, estimate, media, docs ---------------------------------------------------------


def test_models_lists_the_catalog_with_availability(api, settings):
    settings.FAL_KEY = ""
    models = {m["id"]: m for m in api.get("/api/models").json()}
    assert models["local"]["available"] and models["local"]["default"]
    assert not models["hailuo"]["available"]
    assert "FAL_KEY" in models["hailuo"]["unavailable_reason"]
    assert models["hailuo"]["durations"] == [6, 10] and models["hailuo"]["price_basis"]


def test_estimate_cost(api):
    body = api.post("/api/estimate-cost", {"prompt": "x", "model": "hailuo", "duration": 10}).json()
    assert body["estimated_cost"] == 0.45 and body["currency"] == "USD"
    assert body["formula"] and body["expensive"] is False
    bad = api.post("/api/estimate-cost", {"prompt": "x", "model": "hailuo", "duration": 3})
    assert bad.status_code == 400 and "duration" in bad.json()["errors"]
    assert not GenerationJob.objects.exists()


def test_media_lists_the_callers_items(api, user):
    from media_library.models import MediaItem

    item = MediaItem.objects.create(
        owner=user,
        kind="video",
        title="Fox",
        file="u/x.mp4",
        source="generated",
        metadata={"job_id": 12},
    )
    body = api.get("/api/media").json()
    assert [m["id"] for m in body["items"]] == [item.pk]
    assert body["items"][0]["job_id"] == 12 and "/download?sig=" in body["items"][0]["url"]


def test_openapi_and_docs_are_served():
    schema = Client().get("/api/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/generate-video",
        "/api/jobs",
        "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/cancel",
        "/api/jobs/{job_id}/retry",
        "/api/models",
        "/api/estimate-cost",
        "/api/media",
    ):
        assert path in paths
    docs = Client().get("/api/docs")
    assert docs.status_code == 200
    # Swagger UI comes from our own static files (works offline, passes the CSP).
    assert b"/static/ninja/swagger-ui-bundle.js" in docs.content
    assert b"cdn." not in docs.content


# --- management command ---------------------------------------------------------------------


def test_api_token_command_prints_a_working_token(user, enqueued):
    out = StringIO()
    call_command("api_token", "alice", stdout=out)
    raw = out.getvalue().strip()
    response = Client().get("/api/jobs", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert ApiToken.objects.filter(user=user).count() == 1


def test_api_token_command_refuses_unknown_users():
    with pytest.raises(CommandError):
        call_command("api_token", "nobody")


@pytest.mark.parametrize("status", ["\x00", "done", "LIVE", "queued'--"])
def test_the_jobs_status_filter_refuses_anything_but_a_status_or_live(api, status):
    """A bad filter is the API's 400 naming the field and its choices, never a database
    error (a NUL byte is one on PostgreSQL) and never a silently empty list."""
    response = api.get("/api/jobs", status=status)
    assert response.status_code == 400, response.content
    assert "'in_queue'" in response.json()["errors"]["status"]


def test_the_jobs_status_filter_takes_every_status_and_live(api, user):
    make_job(user, status=JobStatus.FAILED)
    for status in ["live", *JobStatus.values]:
        response = api.get("/api/jobs", status=status)
        assert response.status_code == 200, (status, response.content)
    failed = api.get("/api/jobs", status="failed").json()
    assert [job["status"] for job in failed] == ["failed"]
    assert api.get("/api/jobs", status="live").json() == []
