"""As a new creator, in Chromium against a real daphne and Celery worker: pick a model and
see its durations, see the price follow the settings, see a bad prompt refused next to the
field, generate with the local renderer and watch the card progress and the clip land in
the media panel without a reload, cancel a second job mid-way and retry it, and meet the
confirmation step before an expensive fal generation (fal = the protocol emulator)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from generation.models import GenerationJob, JobStatus
from media_library.models import MediaItem
from media_library.testing import make_image_bytes
from tests.emulators.fixtures import fal_emulator  # noqa: F401 - pytest fixture
from tests.harness.processes import DaphneServer, base_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROMPT = "A misty pine forest at dawn, slow dolly forward, golden light"


@pytest.fixture
def cleanup_media():
    yield
    for item in MediaItem.objects.all():
        for f in (item.file, item.poster, item.filmstrip, item.waveform):
            if f:
                f.storage.delete(f.name)


@pytest.fixture
def daphne_with(test_database_url):
    """Start a daphne with extra settings (environment) for one test."""
    servers: list[DaphneServer] = []

    def start(**extra: str) -> DaphneServer:
        server = DaphneServer(base_env(test_database_url, extra))
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def fal_daphne(fal_emulator, daphne_with):  # noqa: F811 - the imported fixture
    """A daphne whose settings have a (dummy) fal key and the emulator as fal's queue, so
    hosted models are selectable and priced exactly as with a real key."""
    return daphne_with(
        FAL_KEY=fal_emulator.key, FAL_QUEUE_URL=fal_emulator.url, GENERATION_COOLDOWN_S="0"
    )


def open_workspace(page, base_url):
    page.goto(base_url + "/")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.locator("#gen-composer")).to_be_visible()


def prompt_box(page):
    return page.get_by_role("textbox", name="Prompt", exact=True)


def duration_choices(page) -> list[str]:
    return (
        page.get_by_role("radiogroup", name="Duration")
        .get_by_role("radio")
        .evaluate_all("radios => radios.map(r => r.value)")
    )


def card_progress(card) -> float:
    return float(card.get_by_role("progressbar").get_attribute("aria-valuenow") or 0)


def test_model_choice_drives_durations_and_price(page, fal_daphne, make_user, login):
    make_user("maker")
    login(page, fal_daphne.url, "maker")
    open_workspace(page, fal_daphne.url)

    model = page.get_by_label("Model", exact=True)
    expect(model).to_have_value("hailuo")  # the default once a fal key is configured
    assert duration_choices(page) == ["6", "10"]

    model.select_option("local")
    expect(page.get_by_role("radiogroup", name="Duration").get_by_role("radio")).to_have_count(5)
    assert duration_choices(page) == ["2", "4", "6", "8", "10"]
    expect(page.locator("#gen-cost-amount")).to_have_text("$0.00")

    model.select_option("kling-2.1-master")
    expect(page.get_by_role("radiogroup", name="Duration").get_by_role("radio")).to_have_count(2)
    assert duration_choices(page) == ["5", "10"]
    expect(page.get_by_role("radiogroup", name="Aspect ratio").get_by_role("radio")).to_have_count(
        3
    )
    # The model's facts are shown next to the picker.
    expect(page.locator("#model-info")).to_contain_text("fal.ai")
    expect(page.locator("#model-info")).to_contain_text("10 s")

    # Change the duration: the estimate follows, with its formula in the tooltip.
    model.select_option("hailuo")
    expect(page.locator("#gen-cost-amount")).to_have_text("$0.27")
    page.get_by_role("radiogroup", name="Duration").get_by_text("10 s").click()
    expect(page.locator("#gen-cost-amount")).to_have_text("$0.45")
    expect(page.locator("#gen-formula")).to_have_attribute("title", "10 s × $0.045/s = $0.45")

    # Three variations triple it.
    page.get_by_label("Variations").select_option("3")
    expect(page.locator("#gen-cost-amount")).to_have_text("$1.35")


def test_invalid_prompt_shows_its_error_and_blocks_generate(page, fal_daphne, make_user, login):
    make_user("writer")
    login(page, fal_daphne.url, "writer")
    open_workspace(page, fal_daphne.url)
    generate = page.get_by_role("button", name="Generate", exact=True)
    expect(generate).to_be_disabled()
    expect(page.locator("#gen-reason")).to_have_text("Write a prompt to generate.")

    prompt_box(page).fill("x" * 2050)
    expect(page.locator("#prompt-count")).to_have_attribute("data-state", "over")
    expect(page.locator("#err-prompt")).to_contain_text("2,050 characters")
    expect(page.locator("#err-prompt")).to_contain_text("at most 2,000")
    expect(generate).to_be_disabled()

    prompt_box(page).fill(PROMPT)
    expect(page.locator("#err-prompt")).to_be_empty()
    expect(generate).to_be_enabled()
    expect(page.locator("#prompt-used")).to_have_text(str(len(PROMPT)))


def test_generate_local_progress_then_clip_in_media_panel(
    page, daphne_server, celery_worker, make_user, login, cleanup_media
):
    make_user("director")
    login(page, daphne_server.url, "director")
    open_workspace(page, daphne_server.url)
    other_tab = page.context.new_page()
    open_workspace(other_tab, daphne_server.url)
    expect(page.get_by_label("Model", exact=True)).to_have_value("local")

    prompt_box(page).fill(PROMPT)
    page.get_by_role("radiogroup", name="Duration").get_by_text("10 s").click()
    page.get_by_role("radiogroup", name="Resolution").get_by_text("720p").click()
    page.get_by_role("button", name="Generate", exact=True).click()

    card = page.locator("#job-list .job-card").first
    expect(card).to_be_visible()
    expect(card).to_contain_text("Local renderer")
    expect(card).to_contain_text("A misty pine forest")
    # The bar moves: seen part-way, then the job is done.
    expect(card.locator(".job-status")).to_have_text(re.compile("Generating"), timeout=30_000)
    expect(card.get_by_role("progressbar")).not_to_have_attribute(
        "aria-valuenow", "0", timeout=30_000
    )
    seen = card_progress(card) if card.get_by_role("progressbar").count() else 100
    assert 0 < seen <= 100
    expect(card.locator(".job-status")).to_have_text("Done", timeout=120_000)

    job = GenerationJob.objects.get()
    assert job.status == JobStatus.SUCCEEDED and job.media_item_id
    media_card = page.locator(f"#media-{job.media_item_id}")
    expect(media_card).to_be_visible(timeout=30_000)  # arrived by itself, no reload
    # The other open tab followed the same job live, once, and got the clip too.
    expect(other_tab.locator(f"#job-{job.pk} .job-status")).to_have_text("Done")
    expect(other_tab.locator("#job-list .job-card")).to_have_count(1)
    expect(other_tab.locator(f"#media-{job.media_item_id}")).to_be_visible()

    # Clicking the Done card reveals the clip in the media panel.
    card.get_by_role("button", name="Show in media").click()
    expect(media_card).to_have_class(re.compile(r"\breveal\b"))
    expect(media_card).to_be_focused()
    # The finished job is in the history too.
    expect(page.locator("#hist-results")).to_contain_text("A misty pine forest", timeout=10_000)


def test_cancel_second_job_mid_way_then_retry(
    page, daphne_with, celery_worker, make_user, login, cleanup_media
):
    # No cooldown: the retry below may come within GENERATION_COOLDOWN_S of the create.
    server = daphne_with(GENERATION_COOLDOWN_S="0")
    make_user("canceller")
    login(page, server.url, "canceller")
    open_workspace(page, server.url)

    prompt_box(page).fill("Neon alley in the rain, handheld")
    page.get_by_role("radiogroup", name="Duration").get_by_text("10 s").click()
    page.get_by_role("radiogroup", name="Resolution").get_by_text("1080p").click()
    page.get_by_label("Variations").select_option("2")
    expect(page.locator("#gen-cost-amount")).to_have_text("$0.00")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#job-list .job-card")).to_have_count(2)

    jobs = list(GenerationJob.objects.order_by("id"))
    assert len(jobs) == 2 and jobs[0].params["seed"] != jobs[1].params["seed"]
    second = page.locator(f"#job-{jobs[1].pk}")
    # Mid-way: the render is running and has made progress, but is far from finished.
    expect(second.locator(".job-status")).to_have_text("Generating", timeout=60_000)
    expect(second.get_by_role("progressbar")).not_to_have_attribute(
        "aria-valuenow", "0", timeout=30_000
    )
    second.get_by_role("button", name="Cancel").click()
    expect(second.locator(".job-status")).to_have_text("Cancelled", timeout=30_000)
    jobs[1].refresh_from_db()
    assert jobs[1].status == JobStatus.CANCELLED and jobs[1].media_item_id is None

    # Retry makes a new job with the same settings; its card appears at the top at once.
    second.get_by_role("button", name="Retry").click()
    expect(page.locator("#job-list .job-card")).to_have_count(3)
    retry = GenerationJob.objects.get(retry_of=jobs[1])
    assert retry.params == jobs[1].params and retry.prompt == jobs[1].prompt
    retry_card = page.locator(f"#job-{retry.pk}")
    expect(retry_card).to_be_visible()
    expect(page.locator("#job-list .job-card").first).to_have_id(f"job-{retry.pk}")
    # Clean up the long renders so the worker is free for the next test.
    for job in GenerationJob.objects.filter(status__in=["queued", "submitting", "running"]):
        page.locator(f"#job-{job.pk}").get_by_role("button", name="Cancel").click()
    expect(page.locator("#job-list .job-card[data-status=running]")).to_have_count(
        0, timeout=60_000
    )


def test_expensive_fal_model_needs_confirmation(
    page,
    fal_daphne,
    fal_emulator,  # noqa: F811
    make_user,
    login,
):
    make_user("spender")
    login(page, fal_daphne.url, "spender")
    open_workspace(page, fal_daphne.url)

    page.get_by_label("Model", exact=True).select_option("kling-2.1-master")
    page.get_by_role("radiogroup", name="Duration").get_by_text("10 s").click()
    prompt_box(page).fill("A lone rider crests a ridge at golden hour")
    expect(page.locator("#gen-cost-amount")).to_have_text("$2.80")
    expect(page.locator("#gen-expensive")).to_contain_text("above your $1.00 warning level")

    page.get_by_role("button", name="Generate", exact=True).click()
    dialog = page.get_by_role("alertdialog", name="Confirm an expensive generation")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("$2.80")
    assert GenerationJob.objects.count() == 0

    # Back returns to the composer with nothing started.
    dialog.get_by_role("button", name="Back").click()
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_enabled()
    assert GenerationJob.objects.count() == 0

    page.get_by_role("button", name="Generate", exact=True).click()
    page.get_by_role("button", name="Confirm and generate for $2.80").click()
    card = page.locator("#job-list .job-card").first
    expect(card).to_contain_text("Kling 2.1 Master")
    expect(card).to_contain_text("$2.80")
    job = GenerationJob.objects.get()
    assert job.model_id == "kling-2.1-master" and str(job.estimated_cost) == "2.8000"
    expect(page.locator("#gen-budget")).to_contain_text("$17.20")


def test_templates_insert_save_and_use_these_settings(page, daphne_server, make_user, login):
    user = make_user("remixer")
    done = GenerationJob.objects.create(
        owner=user,
        model_id="local",
        provider="local",
        prompt="Top-down drone shot of a busy zebra crossing",
        params={"duration": 8, "resolution": "720p", "aspect_ratio": "1:1", "audio": False},
        status=JobStatus.FAILED,
        error_message="The provider took too long to answer. Try again later.",
    )
    login(page, daphne_server.url, "remixer")
    open_workspace(page, daphne_server.url)

    # A failed card says why and offers Retry and "Use these settings".
    card = page.locator(f"#job-{done.pk}")
    expect(card.locator(".job-status")).to_have_text("Failed")
    expect(card).to_contain_text("took too long to answer. Try again later.")
    expect(card.get_by_role("button", name="Retry")).to_be_visible()
    card.get_by_role("button", name="Use these settings").click()
    expect(prompt_box(page)).to_have_value("Top-down drone shot of a busy zebra crossing")
    duration = page.get_by_role("radiogroup", name="Duration")
    expect(duration.get_by_role("radio", name="8 s")).to_be_checked()
    expect(
        page.get_by_role("radiogroup", name="Aspect ratio").get_by_role("radio", name="1:1")
    ).to_be_checked()
    expect(page.get_by_role("checkbox", name="Generate audio")).not_to_be_checked()

    # Templates: browse a category, search, insert at the caret, save one's own.
    page.locator("#tpl-drawer > summary").click()
    page.get_by_role("button", name="Sci-fi").click()
    expect(page.get_by_role("button", name="Use template: Orbital station")).to_be_visible()
    expect(page.get_by_role("button", name="Use template: Steaming ramen bowl")).to_have_count(0)
    page.get_by_role("searchbox", name="Search templates").fill("mars")
    expect(page.locator("#tpl-results .tpl-item")).to_have_count(1)
    page.get_by_role("radio", name="Insert at cursor").check()
    prompt_box(page).fill("Opening shot: ")
    page.get_by_role("button", name="Use template: Rover on Mars").click()
    value = prompt_box(page).input_value()
    assert value.startswith("Opening shot: A six-wheeled rover"), value
    expect(page.locator("#prompt-used")).to_have_text(str(len(value.strip())))

    page.get_by_label("Template name").fill("Rover opener")
    page.get_by_role("button", name="Save prompt as template").click()
    expect(page.locator("#tpl-results")).to_contain_text("Saved “Rover opener”.")
    expect(page.get_by_role("button", name="Use template: Rover opener")).to_be_visible()


def test_rate_limited_generate_counts_down_on_the_button(page, daphne_with, make_user, login):
    server = daphne_with(GENERATION_COOLDOWN_S="4")
    make_user("hasty")
    login(page, server.url, "hasty")
    open_workspace(page, server.url)
    prompt_box(page).fill("Ink blooming in water, ultra slow motion")
    # By id: while it counts down, the button's name is "Generate wait 3 s".
    generate = page.locator("#gen-generate")
    generate.click()
    expect(page.locator("#job-list .job-card")).to_have_count(1)
    expect(generate).to_be_enabled()
    # A second click inside the cooldown is answered 429: the button counts down.
    generate.click()
    expect(page.locator("#gen-refusal")).to_contain_text("Please wait")
    expect(generate).to_be_disabled()
    expect(generate).to_contain_text(re.compile(r"wait \d s"))
    # The countdown ends by itself and the button comes back.
    expect(generate).to_be_enabled(timeout=10_000)
    expect(generate).to_have_text("Generate")
    assert GenerationJob.objects.count() == 1


def test_image_to_video_takes_an_image_dropped_from_the_media_panel(
    page, fal_daphne, make_user, login, cleanup_media
):
    from django.core.files.base import ContentFile

    user = make_user("animator")
    still = MediaItem(
        owner=user, kind="image", title="Harbour at dusk.png", status="ready", width=320, height=180
    )
    still.file.save("harbour.png", ContentFile(make_image_bytes(size=(320, 180))), save=False)
    still.save()
    login(page, fal_daphne.url, "animator")
    open_workspace(page, fal_daphne.url)

    page.get_by_label("Model", exact=True).select_option("kling-2.1-standard-i2v")
    source = page.get_by_label("Source image")
    expect(source).to_have_value("")
    prompt_box(page).fill("The boats rock gently as the lights come on")
    expect(page.locator("#gen-reason")).to_contain_text("choose one of your images")
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_disabled()

    # Drag the image card from the media panel onto the composer's drop zone.
    page.locator(f"#media-{still.pk}").drag_to(page.locator("[data-image-drop]"))
    expect(source).to_have_value(str(still.pk))
    expect(page.locator("#gen-image-preview")).to_be_visible()
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_enabled()
    expect(page.locator("#gen-cost-amount")).to_have_text(
        "$0.28"
    )  # $0.28 per 5 s (fal, 2026-12-01)


def test_resync_repairs_the_queue_and_keeps_the_composer(page, daphne_server, make_user, login):
    user = make_user("offline")
    login(page, daphne_server.url, "offline")
    open_workspace(page, daphne_server.url)
    prompt_box(page).fill("Half-written prompt that must survive")
    page.get_by_role("radiogroup", name="Duration").get_by_text("8 s").click()

    # A job the tab never heard about (its push was missed while the socket was down).
    missed = GenerationJob.objects.create(
        owner=user,
        model_id="local",
        provider="local",
        prompt="Made in another tab while this one was offline",
        params={"duration": 4, "resolution": "480p", "aspect_ratio": "16:9", "audio": True},
        status=JobStatus.CANCELLED,
    )
    expect(page.locator(f"#job-{missed.pk}")).to_have_count(0)
    # What live.js fires on every websocket re-connect.
    page.evaluate("() => document.body.dispatchEvent(new CustomEvent('live:resync'))")
    expect(page.locator(f"#job-{missed.pk}")).to_be_visible()
    expect(page.locator("#hist-results")).to_contain_text("Made in another tab")
    expect(prompt_box(page)).to_have_value("Half-written prompt that must survive")
    duration = page.get_by_role("radiogroup", name="Duration")
    expect(duration.get_by_role("radio", name="8 s")).to_be_checked()
