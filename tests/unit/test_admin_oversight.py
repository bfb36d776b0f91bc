"""Admin oversight: job list (escaping, filters, spend totals), actions through the
pipeline's services, media posters, budgets, provider key checks and connection tests."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from generation.checks import check_provider_keys
from generation.connection import provider_test_connection
from generation.models import GenerationBudget, GenerationJob, JobStatus
from generation.providers.base import USER_MESSAGES, ErrorCode
from media_library.models import MediaItem
from media_library.testing import make_image_bytes
from tests.unit.job_fakes import make_job

pytestmark = pytest.mark.django_db

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
GOOD_FAL = "0f8c2f54-5d3e-4b8a-9c41-7a1e2b3c4d5e:0123456789abcdef0123456789abcdef"
GOOD_REPLICATE = "r8_" + "A1b2C3d4E5" * 3 + "f6G7h8I"


@pytest.fixture
def admin_client(make_user):
    staff = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def bob(make_user):
    return make_user("bob")


def changelist(client, **query):
    return client.get(reverse("admin:generation_generationjob_changelist"), query)


# --- the job list ------------------------------------------------------------------------
def test_changelist_escapes_prompts_and_shows_run_duration(admin_client, user):
    now = timezone.now()
    make_job(
        user,
        prompt=EVIL,
        status=JobStatus.SUCCEEDED,
        running_at=now - timezone.timedelta(seconds=95),
        succeeded_at=now,
        actual_cost=Decimal("0.30"),
    )
    response = changelist(admin_client)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert" in body
    assert ">1:35<" in body  # running -> succeeded, minutes:seconds


def test_totals_per_user_and_model_follow_the_filters(admin_client, user, bob):
    make_job(user, status=JobStatus.SUCCEEDED, actual_cost=Decimal("0.50"))
    make_job(user, status=JobStatus.SUCCEEDED, estimated_cost=Decimal("0.27"))  # no actual
    make_job(user, status=JobStatus.FAILED, estimated_cost=Decimal("9.00"))  # not billed
    make_job(bob, status=JobStatus.SUCCEEDED, model_id="kling", actual_cost=Decimal("2.00"))

    totals = changelist(admin_client).context["spend_totals"]
    assert totals["overall"]["spent"] == Decimal("2.77")
    by_user = {row["owner__username"]: row for row in totals["by_user"]}
    assert by_user["alice"]["spent"] == Decimal("0.77") and by_user["alice"]["jobs"] == 3
    assert by_user["bob"]["spent"] == Decimal("2.00")
    by_model = {row["model_id"]: row["spent"] for row in totals["by_model"]}
    assert by_model == {"hailuo": Decimal("0.77"), "kling": Decimal("2.00")}

    only_bob = changelist(admin_client, owner__id__exact=bob.pk)
    assert only_bob.context["spend_totals"]["overall"]["spent"] == Decimal("2.00")
    assert [r["owner__username"] for r in only_bob.context["spend_totals"]["by_user"]] == ["bob"]
    assert 'id="spend-by-user"' in only_bob.content.decode()

    failed = changelist(admin_client, status__exact="failed")
    assert failed.context["spend_totals"]["overall"]["spent"] == Decimal("0")
    assert failed.context["spend_totals"]["overall"]["estimated"] == Decimal("9.00")


def test_search_by_prompt_and_provider_request_id(admin_client, user):
    make_job(user, prompt="a lighthouse at dusk")
    wanted = make_job(user, prompt="anything", provider_request_id="req-abc-123")
    assert len(changelist(admin_client, q="lighthouse").context["cl"].result_list) == 1
    found = changelist(admin_client, q="req-abc-123").context["cl"].result_list
    assert [job.pk for job in found] == [wanted.pk]


def test_change_page_shows_provider_detail_and_logs_escaped(admin_client, user):
    job = make_job(
        user,
        status=JobStatus.FAILED,
        provider_detail="fal HTTP 500: <b>boom</b>",
        logs_tail="step 1\n<i>step 2</i>",
    )
    url = reverse("admin:generation_generationjob_change", args=[job.pk])
    body = admin_client.get(url).content.decode()
    assert "fal HTTP 500: &lt;b&gt;boom&lt;/b&gt;" in body
    assert "&lt;i&gt;step 2&lt;/i&gt;" in body
    # Read-only: a POST changes nothing the pipeline owns.
    admin_client.post(url, {"status": "succeeded", "prompt": "changed"})
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.prompt == "a red fox in snow"


# --- actions -------------------------------------------------------------------------------
def action(client, name, jobs):
    from django.test import TestCase

    # Run what the services hand to transaction.on_commit (enqueues) as a real commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("admin:generation_generationjob_changelist"),
            {"action": name, "_selected_action": [j.pk for j in jobs]},
            follow=True,
        )


def test_cancel_action_cancels_live_jobs_and_reports_finished_ones(admin_client, user, enqueued):
    queued = make_job(user, reserved_cost=Decimal("0.27"))
    GenerationBudget.objects.create(user=user, reserved_usd=Decimal("0.27"))
    done = make_job(user, status=JobStatus.SUCCEEDED)
    response = action(admin_client, "cancel_jobs", [queued, done])
    queued.refresh_from_db()
    assert queued.status == JobStatus.CANCELLED
    # Cancelled before submit: the reservation goes back to the budget.
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0")
    body = response.content.decode()
    assert "Cancelled 1 job(s)." in body
    assert f"Job {done.pk} is already done." in body


def test_retry_action_creates_a_linked_job_for_the_owner(admin_client, user, enqueued, settings):
    settings.GENERATION_COOLDOWN_S = 0
    failed = make_job(
        user, model_id="local", provider="local", status=JobStatus.FAILED, params={"duration": 4}
    )
    running = make_job(user, status=JobStatus.RUNNING)
    response = action(admin_client, "retry_jobs", [failed, running])
    retry = GenerationJob.objects.get(retry_of=failed)
    assert retry.owner == user and retry.status == JobStatus.QUEUED
    assert ("submit", (retry.pk,), 0) in enqueued
    assert f"Job {running.pk}: only failed or cancelled" in response.content.decode()


def test_repoll_action_schedules_an_immediate_status_call(admin_client, user, enqueued):
    waiting = make_job(user, status=JobStatus.IN_QUEUE, provider_request_id="r-1", poll_seq=4)
    queued = make_job(user)
    response = action(admin_client, "repoll_jobs", [waiting, queued])
    assert ("poll", (waiting.pk, 5), 0) in enqueued
    assert not [e for e in enqueued if e[1][:1] == (queued.pk,)]
    assert "nothing to poll" in response.content.decode()


def test_job_admin_needs_staff(client, user):
    client.force_login(user)
    response = changelist(client)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- budgets ----------------------------------------------------------------------------------
def test_budget_is_editable_on_the_user_page(admin_client, user):
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "generation_budget-TOTAL_FORMS" in page.content.decode()
    budget = GenerationBudget.objects.create(user=user)
    change = reverse("admin:generation_generationbudget_change", args=[budget.pk])
    response = admin_client.post(change, {"user": user.pk, "monthly_limit_usd": "55.00"})
    assert response.status_code == 302
    budget.refresh_from_db()
    assert budget.monthly_limit_usd == Decimal("55.00")


# --- media -------------------------------------------------------------------------------------
def test_media_admin_shows_escaped_poster_previews(admin_client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = MediaItem(owner=user, kind="image", title=EVIL, mime_type="image/png", status="ready")
    item.file.save("x.png", ContentFile(make_image_bytes()), save=False)
    item.poster.save("poster.jpg", ContentFile(make_image_bytes("JPEG")), save=False)
    item.save()
    body = admin_client.get(reverse("admin:media_library_mediaitem_changelist")).content.decode()
    poster_url = reverse("admin:media_library_mediaitem_poster", args=[item.pk])
    assert f'src="{poster_url}"' in body
    assert "<script>alert" not in body and "&lt;script&gt;" in body
    poster = admin_client.get(poster_url)
    assert poster.status_code == 200 and poster["Content-Type"] == "image/jpeg"
    assert b"".join(poster.streaming_content)[:2] == b"\xff\xd8"


def test_media_poster_view_is_staff_only(client, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = MediaItem(owner=user, kind="image", title="t", mime_type="image/png", status="ready")
    item.file.save("x.png", ContentFile(make_image_bytes()), save=False)
    item.poster.save("poster.jpg", ContentFile(make_image_bytes("JPEG")), save=False)
    item.save()
    client.force_login(user)  # the owner, but not staff
    response = client.get(reverse("admin:media_library_mediaitem_poster", args=[item.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- provider keys ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("setting", "value", "expected_id", "words"),
    [
        ("FAL_KEY", "not-a-key", "generation.W001", "malformed"),
        ("FAL_KEY", GOOD_FAL + "\n", "generation.W001", "whitespace"),
        ("FAL_KEY", f'"{GOOD_FAL}"', "generation.W001", "quotes"),
        ("FAL_KEY", GOOD_REPLICATE, "generation.W001", "malformed"),
        ("REPLICATE_API_TOKEN", "r8_short", "generation.W002", "malformed"),
        ("REPLICATE_API_TOKEN", GOOD_FAL, "generation.W002", "malformed"),
        ("REPLICATE_API_TOKEN", " " + GOOD_REPLICATE, "generation.W002", "whitespace"),
    ],
)
def test_malformed_key_is_a_warning_naming_the_variable(
    settings, setting, value, expected_id, words
):
    settings.FAL_KEY = GOOD_FAL
    settings.REPLICATE_API_TOKEN = GOOD_REPLICATE
    setattr(settings, setting, value)
    warnings = check_provider_keys()
    assert [w.id for w in warnings] == [expected_id]
    assert setting in warnings[0].msg and words in warnings[0].msg
    assert value.strip().strip('"') not in warnings[0].msg + (warnings[0].hint or "")


def test_well_formed_and_missing_keys_pass(settings):
    settings.FAL_KEY, settings.REPLICATE_API_TOKEN = GOOD_FAL, GOOD_REPLICATE
    assert check_provider_keys() == []
    settings.FAL_KEY, settings.REPLICATE_API_TOKEN = "", ""
    assert check_provider_keys() == []


def test_check_is_registered_with_django(settings):
    from django.core import checks

    settings.FAL_KEY = "oops"
    assert "generation.W001" in [m.id for m in checks.run_checks()]


# --- test connection, against the emulators ------------------------------------------------------
def test_fal_connection_ok_and_failures(fal_settings, settings):
    result = provider_test_connection(provider="fal")
    assert result.ok, result
    assert fal_settings.count("status_calls") == 1
    assert fal_settings.count("submits_received") == 0  # nothing created, nothing billed

    fal_settings.fail("status", "locked")
    locked = provider_test_connection(provider="fal")
    assert not locked.ok and locked.message.startswith(USER_MESSAGES[ErrorCode.QUOTA])

    settings.FAL_KEY = "wrong-key"
    refused = provider_test_connection(provider="fal")
    assert not refused.ok and refused.message.startswith(USER_MESSAGES[ErrorCode.AUTH])
    assert "FAL_KEY is malformed" in refused.message
    assert "wrong-key" not in refused.message + refused.detail


def test_fal_connection_unreachable_is_network(settings):
    from tests.harness.processes import free_port

    settings.FAL_KEY = GOOD_FAL
    settings.FAL_QUEUE_URL = f"http://127.0.0.1:{free_port()}"
    result = provider_test_connection(provider="fal")
    assert not result.ok and result.message == USER_MESSAGES[ErrorCode.NETWORK]


def test_replicate_connection_ok_and_failures(replicate_settings, settings):
    result = provider_test_connection(provider="replicate")
    assert result.ok and "emulator" in result.message
    assert replicate_settings.count("account_calls") == 1

    replicate_settings.fail("account", "insufficient_credit")
    broke = provider_test_connection(provider="replicate")
    assert not broke.ok and broke.message == USER_MESSAGES[ErrorCode.QUOTA]

    settings.REPLICATE_API_TOKEN = "r8_" + "x" * 37
    refused = provider_test_connection(provider="replicate")
    assert not refused.ok and refused.message == USER_MESSAGES[ErrorCode.AUTH]


def test_missing_key_reports_the_reason_without_calling(settings):
    settings.REPLICATE_API_TOKEN = ""
    result = provider_test_connection(provider="replicate")
    assert not result.ok and "REPLICATE_API_TOKEN" in result.message


def test_admin_provider_page_runs_the_test(admin_client, fal_settings, settings):
    settings.REPLICATE_API_TOKEN = ""
    url = reverse("admin:generation_provider_connections")
    page = admin_client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Needs a Replicate API token" in body and "Test connection" in body
    assert fal_settings.count("status_calls") == 0  # a GET calls nobody
    tested = admin_client.post(url, {"provider": "fal"}).content.decode()
    assert "fal accepted the key." in tested
    assert fal_settings.count("status_calls") == 1
    changelist_body = changelist(admin_client).content.decode()
    assert url in changelist_body  # linked from the job list


def test_admin_provider_page_is_superuser_only(make_user):
    staff = make_user("staffer", is_staff=True)
    client = Client()
    client.force_login(staff)
    response = client.get(reverse("admin:generation_provider_connections"))
    assert response.status_code == 403
