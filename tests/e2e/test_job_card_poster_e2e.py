"""A finished generation's card shows its clip's poster without a reload, in Chromium
against a real web server and Celery worker (local renderer).

The card is pushed when the job succeeds, before the media worker has made the poster;
without the re-push on `media_item_poster_changed` it kept a black "Clip ready" box until
the page was reloaded."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from generation.models import GenerationJob, JobStatus
from media_library.models import MediaItem

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cleanup_media():
    yield
    for item in MediaItem.objects.all():
        for f in (item.file, item.poster, item.filmstrip, item.waveform):
            if f:
                f.storage.delete(f.name)


def test_finished_job_card_shows_its_poster_without_reload(
    page, daphne_server, celery_worker, make_user, login, cleanup_media
):
    make_user("poster-watcher")
    login(page, daphne_server.url, "poster-watcher")
    page.goto(daphne_server.url + "/")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.get_by_label("Model", exact=True)).to_have_value("local")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    page.get_by_role("textbox", name="Prompt", exact=True).fill("Lanterns drifting over a lake")
    page.get_by_role("radiogroup", name="Duration").get_by_text("2 s").click()
    page.get_by_role("button", name="Generate", exact=True).click()

    card = page.locator("#job-list .job-card").first
    expect(card.locator(".job-status")).to_have_text("Done", timeout=120_000)
    job = GenerationJob.objects.get()
    assert job.status == JobStatus.SUCCEEDED and job.media_item_id

    poster = page.locator(f"#job-{job.pk} .job-poster img")
    expect(poster).to_be_visible(timeout=30_000)
    # A version query (for the refined poster to bypass the browser's cache) is welcome.
    expect(poster).to_have_attribute(
        "src", re.compile(rf"^/media/{job.media_item_id}/poster/(\?v=\d+)?$")
    )
    expect(page.locator(f"#job-{job.pk} .job-poster")).not_to_contain_text("Clip ready")
    # It loads: a real image, not a broken link.
    page.wait_for_function(
        """sel => { const img = document.querySelector(sel);
                    return img && img.complete && img.naturalWidth > 0; }""",
        arg=f"#job-{job.pk} .job-poster img",
        timeout=15_000,
    )
    assert navigations == [], "the page was reloaded"
