"""Generation panel views: composer, estimate fragment, Generate (validation, confirmation,
limits, variations), job actions, history, prompt templates, and who may see what."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from generation.models import GenerationBudget, GenerationJob, JobStatus, PromptTemplate

pytestmark = pytest.mark.django_db

PROMPT = "A slow dolly through a misty pine forest at dawn"


@pytest.fixture(autouse=True)
def _panel_settings(settings):
    # Generous limits unless a test is about limits; each test starts with no provider key.
    settings.GENERATION_RATE = "1000/m"
    settings.GENERATION_COOLDOWN_S = 0
    settings.GENERATION_MAX_CONCURRENT = 50
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("20")
    settings.EXPENSIVE_JOB_USD = Decimal("1.00")
    settings.FAL_KEY = ""
    settings.REPLICATE_API_TOKEN = ""
    settings.GENERATION_PRICE_OVERRIDES = {}


@pytest.fixture
def alice_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def fal_key(settings):
    settings.FAL_KEY = "dummy-key-for-tests"


def post(client, name, data, **headers):
    return client.post(reverse(f"generation:{name}"), data, HTTP_HX_REQUEST="true", **headers)


def body(response) -> str:
    return response.content.decode()


def error_slot(html: str, key: str) -> str:
    match = re.search(rf'<div id="err-{key}"[^>]*>(.*?)</div>', html, re.S)
    assert match, f"no error slot for {key}"
    return match.group(1).strip()


def generate_button(html: str) -> str:
    match = re.search(r'<button type="submit" id="gen-generate"[^>]*>', html, re.S)
    assert match, "no Generate button"
    return match.group(0)


def make_job(owner, status=JobStatus.QUEUED, **fields):
    defaults = dict(
        model_id="local",
        provider="local",
        prompt=PROMPT,
        params={"duration": 4, "resolution": "480p", "aspect_ratio": "16:9", "audio": True},
        estimated_cost=Decimal("0"),
    )
    defaults.update(fields)
    return GenerationJob.objects.create(owner=owner, status=status, **defaults)


# --- Access --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "name", "kwargs"),
    [
        ("get", "panel", {}),
        ("get", "queue", {}),
        ("get", "history", {}),
        ("get", "templates", {}),
        ("post", "estimate", {}),
        ("post", "generate", {}),
        ("post", "job_cancel", {"job_id": 1}),
        ("post", "job_retry", {"job_id": 1}),
    ],
)
def test_every_panel_url_requires_login(client, method, name, kwargs):
    response = getattr(client, method)(reverse(f"generation:{name}", kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    response = getattr(client, method)(
        reverse(f"generation:{name}", kwargs=kwargs), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 401


def test_other_users_job_is_404_for_every_action(alice_client, other_user):
    job = make_job(other_user, status=JobStatus.FAILED)
    assert alice_client.post(reverse("generation:job_cancel", args=[job.pk])).status_code == 404
    assert alice_client.post(reverse("generation:job_retry", args=[job.pk])).status_code == 404
    response = alice_client.get(reverse("generation:composer"), {"from_job": job.pk})
    assert response.status_code == 404
    assert GenerationJob.objects.count() == 1  # no retry was created


def test_queue_and_history_show_only_own_jobs(alice_client, user, other_user):
    mine = make_job(user, prompt="my own ocean shot")
    make_job(user, status=JobStatus.FAILED, prompt="my own failed desert")
    theirs = make_job(other_user, prompt="someone else's secret")
    make_job(other_user, status=JobStatus.FAILED, prompt="someone else's failure")
    queue = body(alice_client.get(reverse("generation:queue")))
    history = body(alice_client.get(reverse("generation:history")))
    assert "my own ocean shot" in queue and "secret" not in queue
    assert f'id="job-{mine.pk}"' in queue and f'id="job-{theirs.pk}"' not in queue
    # History lists finished jobs; live ones are in the queue above it.
    assert "my own failed desert" in history and "ocean" not in history
    assert "someone else" not in history


# --- Panel and composer ----------------------------------------------------------------------
def test_panel_without_keys_offers_local_and_disables_hosted_models_with_reason(alice_client):
    html = body(alice_client.get(reverse("generation:panel")))
    assert '<label for="gen-prompt">Prompt</label>' in html
    assert '<label for="gen-model">Model</label>' in html
    local = re.search(r'<option value="local"[^>]*>', html).group(0)
    assert "disabled" not in local and "selected" in local
    hailuo = re.search(r'<option value="hailuo"[^>]*>', html, re.S).group(0)
    assert "disabled" in hailuo and "FAL_KEY" in hailuo
    # The reason is also written out, not only in a tooltip.
    assert "fal.ai models are greyed out. Needs a fal.ai API key" in html
    # Local's durations, the free price and a disabled Generate button with its reason.
    assert sorted(re.findall(r'name="duration" value="(\d+)"', html), key=int) == [
        "2",
        "4",
        "6",
        "8",
        "10",
    ]
    assert "disabled" in generate_button(html)
    assert "Write a prompt to generate." in html
    assert 'hx-trigger="live:resync from:body"' in html
    # The composer is not inside the re-synced queue.
    queue_start = html.index('id="job-list"')
    assert html.index('id="gen-composer"') < queue_start


def test_panel_lists_budget_and_has_no_inline_script(alice_client):
    html = body(alice_client.get(reverse("generation:panel")))
    assert "Monthly budget left <strong>$20.00</strong> of $20.00" in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert " onclick=" not in html and " onchange=" not in html


def test_panel_with_fal_key_enables_hosted_models(alice_client, fal_key):
    html = body(alice_client.get(reverse("generation:panel")))
    hailuo = re.search(r'<option value="hailuo"[^>]*>', html).group(0)
    assert "disabled" not in hailuo
    assert "$0.045/s" in html


def test_composer_from_job_fills_settings(alice_client, user):
    job = make_job(
        user,
        status=JobStatus.SUCCEEDED,
        prompt="neon alley in the rain",
        params={
            "duration": 8,
            "resolution": "720p",
            "aspect_ratio": "9:16",
            "audio": False,
            "seed": 42,
        },
    )
    html = body(alice_client.get(reverse("generation:composer"), {"from_job": job.pk}))
    assert "neon alley in the rain</textarea>" in html
    assert re.search(r'value="8" checked', html)
    assert re.search(r'value="720p" checked', html)
    assert re.search(r'value="9:16" checked', html)
    assert 'value="42"' in html
    assert not re.search(r'name="audio" value="on" checked', html)


# --- Estimate ----------------------------------------------------------------------------------
def test_estimate_shows_price_and_formula(alice_client, fal_key):
    data = {"model": "hailuo", "rendered_model": "hailuo", "prompt": PROMPT, "duration": "10"}
    html = body(post(alice_client, "estimate", data))
    assert 'id="gen-cost-amount">$0.45<' in html
    assert 'title="10 s × $0.045/s = $0.45"' in html
    assert "disabled" not in generate_button(html)


def test_estimate_changes_with_duration(alice_client, fal_key):
    six = body(
        post(
            alice_client,
            "estimate",
            {"model": "hailuo", "rendered_model": "hailuo", "duration": "6"},
        )
    )
    ten = body(
        post(
            alice_client,
            "estimate",
            {"model": "hailuo", "rendered_model": "hailuo", "duration": "10"},
        )
    )
    assert "$0.27<" in six and "$0.45<" in ten


def test_estimate_redraws_settings_when_model_changes(alice_client, fal_key):
    data = {"model": "hailuo", "rendered_model": "local", "prompt": PROMPT, "duration": "8"}
    html = body(post(alice_client, "estimate", data))
    settings_part = re.search(r'<div id="model-settings"[^>]*hx-swap-oob="outerHTML".*', html, re.S)
    assert settings_part, "settings were not redrawn"
    assert re.findall(r'name="duration" value="(\d+)"', settings_part.group(0)) == ["6", "10"]
    # 8 s is not offered by Hailuo: the default (6 s) is chosen rather than an error shown.
    assert re.search(r'value="6" checked', settings_part.group(0))
    assert "$0.27<" in html
    assert "err-duration" not in html.split("model-settings")[0]


def test_estimate_without_model_change_does_not_redraw_settings(alice_client):
    data = {"model": "local", "rendered_model": "local", "prompt": PROMPT}
    html = body(post(alice_client, "estimate", data))
    assert 'id="model-settings"' not in html
    assert 'id="err-duration" class="field-error" role="alert" hx-swap-oob="true"' in html


def test_estimate_too_long_prompt_shows_error_next_to_prompt(alice_client):
    data = {"model": "local", "rendered_model": "local", "prompt": "x" * 2100}
    html = body(post(alice_client, "estimate", data))
    message = error_slot(html, "prompt")
    assert "2,100 characters" in message and "2,000" in message
    assert "disabled" in generate_button(html)


def test_estimate_empty_prompt_blames_button_not_field(alice_client):
    html = body(
        post(
            alice_client,
            "estimate",
            {"model": "local", "rendered_model": "local", "prompt": "  \u200b "},
        )
    )
    assert error_slot(html, "prompt") == ""
    assert "disabled" in generate_button(html)
    assert "Write a prompt to generate." in html


def test_estimate_bad_duration_names_allowed_values(alice_client, fal_key):
    data = {"model": "hailuo", "rendered_model": "hailuo", "prompt": PROMPT, "duration": "7"}
    html = body(post(alice_client, "estimate", data))
    assert "6 s or 10 s" in error_slot(html, "duration")
    assert "—</span>" in html  # no price for an impossible request
    assert "disabled" in generate_button(html)


def test_estimate_unavailable_model_disables_generate(alice_client):
    data = {"model": "hailuo", "rendered_model": "hailuo", "prompt": PROMPT}
    html = body(post(alice_client, "estimate", data))
    assert "FAL_KEY" in error_slot(html, "model")
    assert "disabled" in generate_button(html)


def test_estimate_unknown_model(alice_client):
    html = body(post(alice_client, "estimate", {"model": "nope<script>", "prompt": PROMPT}))
    assert "Unknown model" in error_slot(html, "model")
    assert "<script>" not in html
    assert "disabled" in generate_button(html)


def test_estimate_flags_expensive_requests(alice_client, fal_key):
    data = {
        "model": "kling-2.1-master",
        "rendered_model": "kling-2.1-master",
        "prompt": PROMPT,
        "duration": "10",
    }
    html = body(post(alice_client, "estimate", data))
    assert "$2.80<" in html
    assert 'id="gen-expensive"' in html
    assert "$1.40 for 5 s + 5 s × $0.28/s = $2.80" in html


def test_estimate_over_budget_disables_generate(alice_client, fal_key, settings):
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("1.00")
    data = {
        "model": "kling-2.1-master",
        "rendered_model": "kling-2.1-master",
        "prompt": PROMPT,
        "duration": "5",
    }
    html = body(post(alice_client, "estimate", data))
    assert "disabled" in generate_button(html)
    assert "more than the $1.00 left in your monthly budget" in html


def test_estimate_variations_multiply_the_cost(alice_client, fal_key):
    data = {
        "model": "hailuo",
        "rendered_model": "hailuo",
        "prompt": PROMPT,
        "duration": "6",
        "variations": "3",
    }
    html = body(post(alice_client, "estimate", data))
    assert "$0.81<" in html
    assert "3 × (6 s × $0.045/s = $0.27) = $0.81" in html


# --- Generate ------------------------------------------------------------------------------------
def test_generate_invalid_returns_422_with_errors_next_to_fields(alice_client):
    data = {"model": "local", "rendered_model": "local", "prompt": "", "seed": "-5"}
    response = post(alice_client, "generate", data)
    assert response.status_code == 422
    html = body(response)
    assert error_slot(html, "prompt") == "Write a prompt describing the video."
    assert "seed must be a whole number" in error_slot(html, "seed")
    assert GenerationJob.objects.count() == 0


def test_generate_local_creates_job_and_inserts_its_card(alice_client, user):
    data = {
        "model": "local",
        "rendered_model": "local",
        "prompt": PROMPT,
        "duration": "2",
        "seed": "7",
    }
    response = post(alice_client, "generate", data)
    assert response.status_code == 200
    job = GenerationJob.objects.get()
    assert job.owner == user and job.model_id == "local"
    assert job.params["duration"] == 2 and job.params["seed"] == 7
    html = body(response)
    assert 'hx-swap-oob="afterbegin:#job-list"' in html
    assert f'id="job-{job.pk}"' in html
    assert "Started 1 generation." in html


def test_generate_variations_make_jobs_with_different_seeds(alice_client, settings):
    # The cooldown between generations applies to a request, not to each of its variations.
    settings.GENERATION_COOLDOWN_S = 30
    data = {
        "model": "local",
        "rendered_model": "local",
        "prompt": PROMPT,
        "variations": "3",
        "seed": "100",
    }
    response = post(alice_client, "generate", data)
    assert response.status_code == 200
    seeds = sorted(j.params["seed"] for j in GenerationJob.objects.all())
    assert seeds == [100, 101, 102]
    assert "Started 3 variations." in body(response)


def test_generate_variations_without_seed_pick_distinct_random_seeds(alice_client):
    data = {"model": "local", "rendered_model": "local", "prompt": PROMPT, "variations": "4"}
    post(alice_client, "generate", data)
    seeds = [j.params["seed"] for j in GenerationJob.objects.all()]
    assert len(seeds) == 4 and all(isinstance(s, int) for s in seeds)
    assert len(set(seeds)) > 1


def test_variations_are_capped_at_four(alice_client):
    post(
        alice_client,
        "generate",
        {"model": "local", "rendered_model": "local", "prompt": PROMPT, "variations": "40"},
    )
    assert GenerationJob.objects.count() == 4


def test_expensive_generate_asks_for_confirmation_first(alice_client, fal_key):
    data = {
        "model": "kling-2.1-master",
        "rendered_model": "kling-2.1-master",
        "prompt": PROMPT,
        "duration": "10",
    }
    response = post(alice_client, "generate", data)
    assert response.status_code == 200
    html = body(response)
    assert "Confirm an expensive generation" in html
    assert 'name="confirm_cost" value="2.80"' in html
    assert GenerationJob.objects.count() == 0

    # A confirmation for another price (settings changed since) asks again.
    post(alice_client, "generate", {**data, "confirm_cost": "1.40"})
    assert GenerationJob.objects.count() == 0

    response = post(alice_client, "generate", {**data, "confirm_cost": "2.80"})
    assert response.status_code == 200
    job = GenerationJob.objects.get()
    assert job.estimated_cost == Decimal("2.80")


def test_generate_cooldown_answers_429_with_countdown(alice_client, settings):
    settings.GENERATION_COOLDOWN_S = 30
    data = {"model": "local", "rendered_model": "local", "prompt": PROMPT}
    assert post(alice_client, "generate", data).status_code == 200
    response = post(alice_client, "generate", data)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 30
    html = body(response)
    button = generate_button(html)
    assert "disabled" in button and "data-cooldown-until=" in button
    assert re.search(r"wait \d+ s", html)
    assert GenerationJob.objects.count() == 1


def test_generate_over_budget_is_refused_before_any_job(alice_client, fal_key, settings):
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.30")
    data = {"model": "hailuo", "rendered_model": "hailuo", "prompt": PROMPT, "duration": "10"}
    response = post(alice_client, "generate", data)
    assert response.status_code == 422
    assert "monthly budget" in body(response)
    assert GenerationJob.objects.count() == 0


def test_generate_reduces_the_visible_budget(alice_client, fal_key):
    data = {"model": "hailuo", "rendered_model": "hailuo", "prompt": PROMPT, "duration": "10"}
    html = body(post(alice_client, "generate", data))
    assert "Monthly budget left <strong>$19.55</strong> of $20.00" in html
    assert GenerationBudget.objects.get().reserved_usd == Decimal("0.45")


# --- Job actions -----------------------------------------------------------------------------------
def test_cancel_queued_job(alice_client, user):
    job = make_job(user)
    response = alice_client.post(
        reverse("generation:job_cancel", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    html = body(response)
    assert f'id="job-{job.pk}"' in html and "Cancelled" in html and "Retry" in html


def test_cancel_finished_job_says_so(alice_client, user):
    job = make_job(user, status=JobStatus.SUCCEEDED)
    response = alice_client.post(reverse("generation:job_cancel", args=[job.pk]))
    assert response.status_code == 200
    assert "already done" in body(response)


def test_retry_failed_job_creates_linked_job_and_inserts_card(alice_client, user):
    job = make_job(user, status=JobStatus.FAILED, error_message="The provider took too long.")
    response = alice_client.post(
        reverse("generation:job_retry", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    new = GenerationJob.objects.exclude(pk=job.pk).get()
    assert new.retry_of == job and new.prompt == job.prompt and new.params["duration"] == 4
    html = body(response)
    assert 'hx-swap-oob="afterbegin:#job-list"' in html and f'id="job-{new.pk}"' in html


def test_retry_live_job_is_409(alice_client, user):
    job = make_job(user, status=JobStatus.RUNNING)
    response = alice_client.post(reverse("generation:job_retry", args=[job.pk]))
    assert response.status_code == 409
    assert GenerationJob.objects.count() == 1


def test_retry_refused_by_cooldown_is_429(alice_client, user, settings):
    settings.GENERATION_COOLDOWN_S = 30
    post(alice_client, "generate", {"model": "local", "rendered_model": "local", "prompt": PROMPT})
    job = make_job(user, status=JobStatus.CANCELLED)
    response = alice_client.post(reverse("generation:job_retry", args=[job.pk]))
    assert response.status_code == 429
    assert "Please wait" in body(response)


# --- History ------------------------------------------------------------------------------------------
def test_history_filters_by_status_model_and_prompt(alice_client, user):
    make_job(user, status=JobStatus.FAILED, prompt="red desert dunes")
    make_job(user, status=JobStatus.SUCCEEDED, prompt="blue ocean waves")
    make_job(
        user, status=JobStatus.SUCCEEDED, prompt="blue neon city", model_id="hailuo", provider="fal"
    )
    url = reverse("generation:history")
    html = body(alice_client.get(url, {"status": "failed"}))
    assert "red desert" in html and "blue" not in html
    html = body(alice_client.get(url, {"q": "BLUE"}))
    assert "ocean" in html and "neon" in html and "desert" not in html
    html = body(alice_client.get(url, {"model": "hailuo", "q": "blue"}))
    assert "neon" in html and "ocean" not in html
    html = body(alice_client.get(url, {"status": "bogus"}))
    assert "desert" in html  # an unreadable filter shows everything rather than failing


def test_history_pages(alice_client, user):
    for i in range(23):
        make_job(user, status=JobStatus.SUCCEEDED, prompt=f"shot number {i:02d}")
    url = reverse("generation:history")
    first = body(alice_client.get(url))
    third = body(alice_client.get(url, {"page": 3}))
    assert "Page 1 of 3" in first and "shot number 22" in first and "shot number 12" not in first
    assert "Page 3 of 3" in third and "shot number 00" in third
    assert "Page 3 of 3" in body(alice_client.get(url, {"page": 99}))


# --- Prompt templates ------------------------------------------------------------------------------------
def test_templates_by_category_and_search(alice_client):
    url = reverse("generation:templates")
    food = body(alice_client.get(url, {"category": "Food"}))
    assert "Steaming ramen bowl" in food and "Orbital station" not in food
    found = body(alice_client.get(url, {"q": "neon rain"}))
    assert "Neon alley in the rain" in found and "Steaming ramen bowl" not in found
    assert "No template matches" in body(alice_client.get(url, {"q": "zzzz-nothing"}))


def test_save_and_delete_own_template(alice_client, user, other_user):
    response = alice_client.post(
        reverse("generation:template_save"), {"title": "My forest", "prompt": PROMPT}
    )
    assert response.status_code == 200
    template = PromptTemplate.objects.get()
    assert template.owner == user and "Saved “My forest”." in body(response)
    theirs = PromptTemplate.objects.create(owner=other_user, title="Theirs", prompt="x")
    assert (
        alice_client.post(reverse("generation:template_delete", args=[theirs.pk])).status_code
        == 404
    )
    listing = body(alice_client.get(reverse("generation:templates"), {"category": "Mine"}))
    assert "My forest" in listing and "Theirs" not in listing
    alice_client.post(reverse("generation:template_delete", args=[template.pk]))
    assert PromptTemplate.objects.filter(owner=user).count() == 0


def test_save_template_needs_name_and_prompt(alice_client):
    response = alice_client.post(
        reverse("generation:template_save"), {"title": " ", "prompt": "\u200b"}
    )
    assert response.status_code == 422
    assert PromptTemplate.objects.count() == 0
    assert "field-error" in body(response)


def test_retry_refusal_is_shown_on_the_card_out_of_band(alice_client, user, settings):
    settings.GENERATION_COOLDOWN_S = 30
    post(alice_client, "generate", {"model": "local", "rendered_model": "local", "prompt": PROMPT})
    job = make_job(user, status=JobStatus.FAILED)
    html = body(alice_client.post(reverse("generation:job_retry", args=[job.pk])))
    assert re.search(rf'<article id="job-{job.pk}"[^>]*hx-swap-oob="outerHTML"', html)


# --- Job card ---------------------------------------------------------------------------------------
def render_card(job) -> str:
    from django.template.loader import render_to_string

    return render_to_string("generation/partials/job_card.html", {"job": job})


def test_card_in_provider_queue_counts_positions_from_one(user):
    from datetime import timedelta

    from django.utils import timezone

    job = make_job(
        user,
        status=JobStatus.IN_QUEUE,
        model_id="hailuo",
        provider="fal",
        queue_position=2,
        eta_at=timezone.now() + timedelta(seconds=90),
    )
    html = render_card(job)
    assert "3rd in line at fal" in html
    assert 'role="progressbar"' in html and "data-until=" in html and "data-since=" in html
    assert "Cancel" in html and "Retry" not in html
    assert "Use these settings" in html


def test_failed_card_says_why_and_offers_retry(user):
    message = (
        "The provider account is out of credit or locked. Add credit at the provider, then retry."
    )
    html = render_card(make_job(user, status=JobStatus.FAILED, error_message=message))
    assert message in html and "Retry" in html
    assert "Cancel" not in html and 'role="progressbar"' not in html


def test_done_card_reveals_its_clip(user):
    from django.core.files.base import ContentFile

    from media_library.models import MediaItem

    item = MediaItem(owner=user, kind="video", title="clip", status="ready")
    item.file.save("clip.mp4", ContentFile(b"\x00"), save=False)
    item.save()
    try:
        job = make_job(user, status=JobStatus.SUCCEEDED, media_item=item)
        html = render_card(job)
        assert ">Done<" in html
        assert f'data-reveal-media="{item.pk}"' in html and "Show in media" in html
    finally:
        item.file.delete(save=False)


def test_card_escapes_the_prompt(user):
    html = render_card(make_job(user, prompt='<img src=x onerror="alert(1)">'))
    assert "<img src=x" not in html and "&lt;img" in html
