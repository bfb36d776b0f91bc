"""The composer's feedback, in Chromium against a real web server (and, for the line, real
workers):

- local jobs waiting for a render slot say their place in line ("2nd in line, about …")
  and move up live when a job ahead is cancelled or finishes (one render slot: a media
  worker with concurrency 1, four jobs, three of them waiting);
- the start rate is a sliding window and the form says so;
- "Started 1 generation." never outlives the next message, an edit of the prompt, or 8 s;
- the unsent prompt survives a reload, per user, and is forgotten once it has started.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from generation.models import GenerationJob, JobStatus
from tests.harness.processes import CeleryWorker, DaphneServer, base_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROMPT = "A paper boat drifting across a still pond at dawn"


@pytest.fixture
def web_with(test_database_url):
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
def one_render_slot(celery_worker, test_database_url, web_with):
    """A web server and workers where local renders get exactly one slot: submits on a
    `default` worker, renders on a `media` worker of concurrency 1. The session's worker
    (both queues) is stopped meanwhile, or it would be a second and third slot."""
    celery_worker.stop()
    env = base_env(test_database_url, {"GENERATION_COOLDOWN_S": "0"})
    workers = [
        CeleryWorker(env, concurrency=2, queues="default", tag="h1-default"),
        CeleryWorker(env, concurrency=1, queues="media", tag="h1-media"),
    ]
    try:
        for worker in workers:
            worker.start()
        yield web_with(GENERATION_COOLDOWN_S="0")
    finally:
        for worker in workers:
            worker.stop()
        celery_worker.start()


def open_workspace(page, base_url):
    page.goto(base_url + "/")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.locator("#gen-composer")).to_be_visible()


def prompt_box(page):
    return page.get_by_role("textbox", name="Prompt", exact=True)


def pick(page, group: str, label: str) -> None:
    page.get_by_role("radiogroup", name=group).get_by_text(label, exact=True).click()


def line_of(page, job: GenerationJob):
    return page.locator(f"#job-{job.pk} [data-line]")


# --- the render line ------------------------------------------------------------------------
def test_waiting_local_cards_say_their_place_and_move_up_live(
    page, one_render_slot, make_user, login, cleanup_media
):
    server = one_render_slot
    make_user("liner")
    login(page, server.url, "liner")
    open_workspace(page, server.url)

    # A long render takes the only slot...
    prompt_box(page).fill(PROMPT)
    pick(page, "Duration", "10 s")
    pick(page, "Resolution", "1080p")
    generate = page.locator("#gen-generate")
    generate.click()
    expect(page.locator("#job-list .job-card").first.locator(".job-status")).to_have_text(
        "Generating", timeout=60_000
    )
    running = GenerationJob.objects.get()

    # ...another long one waits first in line, then two short ones behind it (the order
    # they reach the line is the order the media queue hands them out).
    generate.click()
    expect(page.locator("[data-line]")).to_have_count(1, timeout=30_000)
    pick(page, "Duration", "4 s")
    pick(page, "Resolution", "480p")
    page.get_by_label("Variations").select_option("2")
    generate.click()
    expect(page.locator("#job-list .job-card")).to_have_count(4)
    expect(page.locator("[data-line]")).to_have_count(3, timeout=30_000)
    waiting = list(
        GenerationJob.objects.filter(status=JobStatus.IN_QUEUE).order_by("in_queue_at", "id")
    )
    assert len(waiting) == 3, "the first render should still hold the slot"
    long_wait, middle, last = waiting
    assert long_wait.params["resolution"] == "1080p"
    for place, job in zip(("1st", "2nd", "3rd"), waiting, strict=True):
        expect(line_of(page, job)).to_have_text(
            re.compile(rf"^Waiting for a render slot — {place} in line, about \d+ s$")
        )
    eta = [
        int(re.search(r"about (\d+) s", line_of(page, j).inner_text()).group(1)) for j in waiting
    ]
    assert eta[0] < eta[1] < eta[2]  # each waits for the ones ahead

    # The middle one is cancelled: the last moves up at once (no reload); the one ahead
    # of it keeps its place; the first render still holds the slot.
    page.locator(f"#job-{middle.pk}").get_by_role("button", name="Cancel").click()
    # At once (issue 15, item 4): a job that has not started is cancelled in the database
    # and its card says so, without waiting for the render slot (that took ~11 s).
    expect(page.locator(f"#job-{middle.pk} .job-status")).to_have_text("Cancelled", timeout=3_000)
    expect(line_of(page, last)).to_contain_text("2nd in line")
    expect(line_of(page, long_wait)).to_contain_text("1st in line")
    running.refresh_from_db()
    assert running.status == JobStatus.RUNNING

    # The first render finishes: the long one waiting takes the slot and the last is
    # first in line while it renders; then it runs too.
    expect(page.locator(f"#job-{running.pk} .job-status")).to_have_text("Done", timeout=120_000)
    expect(page.locator(f"#job-{long_wait.pk} .job-status")).to_have_text(
        "Generating", timeout=60_000
    )
    expect(line_of(page, last)).to_contain_text("1st in line")
    for job in (long_wait, last):
        expect(page.locator(f"#job-{job.pk} .job-status")).to_have_text("Done", timeout=120_000)
    expect(page.locator("[data-line]")).to_have_count(0)


# --- the sliding start rate -----------------------------------------------------------------
def test_the_form_refuses_a_start_within_a_sliding_minute(page, daphne_server, make_user, login):
    user = make_user("sprinter")
    # Ten starts 40 s ago: whatever minute the clock is in, the window still holds them.
    moment = timezone.now() - timedelta(seconds=40)
    for _ in range(10):
        GenerationJob.objects.create(
            owner=user,
            model_id="local",
            provider="local",
            prompt="earlier",
            status=JobStatus.SUCCEEDED,
            created_at=moment,
        )
    login(page, daphne_server.url, "sprinter")
    open_workspace(page, daphne_server.url)
    prompt_box(page).fill(PROMPT)
    page.locator("#gen-generate").click()
    refusal = page.locator("#gen-refusal")
    expect(refusal).to_have_text(
        re.compile(r"^You started 10 generations in the last minute; try again in \d+ s\.$")
    )
    wait = int(re.search(r"in (\d+) s", refusal.inner_text()).group(1))
    assert 15 <= wait <= 20
    expect(page.locator("#gen-generate")).to_be_disabled()
    expect(page.locator("#gen-generate")).to_contain_text("wait")
    assert GenerationJob.objects.filter(owner=user).count() == 10


# --- the composer's notice ------------------------------------------------------------------
def test_the_started_notice_gives_way_and_clears_itself(page, web_with, make_user, login):
    # Two live jobs at most: the third start is refused (no worker: they stay queued).
    server = web_with(GENERATION_COOLDOWN_S="0", GENERATION_MAX_CONCURRENT="2")
    make_user("notified")
    login(page, server.url, "notified")
    open_workspace(page, server.url)
    notice = page.locator("#gen-notice")
    generate = page.locator("#gen-generate")

    prompt_box(page).fill(PROMPT)
    generate.click()
    expect(notice).to_have_text("Started 1 generation.")
    # Editing the prompt: the news is old.
    prompt_box(page).press("End")
    prompt_box(page).type(" again")
    expect(notice).to_be_empty()

    generate.click()
    expect(notice).to_have_text("Started 1 generation.")
    expect(page.locator("#job-list .job-card")).to_have_count(2)
    # The next message (a refusal) replaces it: never both at once.
    generate.click()
    expect(page.locator("#gen-refusal")).to_contain_text("You already have 2 generations")
    expect(notice).to_be_empty()
    expect(page.locator("#gen-notice")).to_have_count(1)

    # Free a slot, start again, and leave it: it clears itself once read.
    page.locator("#job-list .job-card").first.get_by_role("button", name="Cancel").click()
    expect(page.locator("#job-list .job-card[data-status=cancelled]")).to_have_count(1)
    generate.click()
    expect(notice).to_have_text("Started 1 generation.")
    expect(page.locator("#gen-refusal")).to_have_count(0)
    expect(notice).to_be_empty(timeout=12_000)


# --- the unsent prompt ----------------------------------------------------------------------
def draft_keys(page) -> list[str]:
    return page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('cutroom:composer-draft:'))"
    )


def test_the_unsent_prompt_survives_a_reload_per_user(page, web_with, make_user, login):
    server = web_with(GENERATION_COOLDOWN_S="0")
    author = make_user("author")
    make_user("reader")
    login(page, server.url, "author")
    open_workspace(page, server.url)

    prompt_box(page).fill("A secret draft about a lighthouse")
    page.reload()
    open_workspace(page, server.url)
    expect(prompt_box(page)).to_have_value("A secret draft about a lighthouse")
    # Restored like typing: counted and priced.
    expect(page.locator("#prompt-used")).to_have_text("33")
    expect(page.locator("#gen-generate")).to_be_enabled()
    assert draft_keys(page) == [f"cutroom:composer-draft:{author.pk}"]

    # Started: forgotten.
    page.locator("#gen-generate").click()
    expect(page.locator("#gen-notice")).to_have_text("Started 1 generation.")
    page.reload()
    open_workspace(page, server.url)
    expect(prompt_box(page)).to_have_value("")
    assert draft_keys(page) == []

    # Another person signing in on this browser never sees the author's unsent prompt,
    # even when the author's session just lapsed (no sign-out to clear it).
    prompt_box(page).fill("Only for the author")
    assert draft_keys(page) == [f"cutroom:composer-draft:{author.pk}"]
    page.context.clear_cookies()
    login(page, server.url, "reader")
    open_workspace(page, server.url)
    expect(prompt_box(page)).to_have_value("")
    assert draft_keys(page) == []


def test_signing_out_forgets_the_unsent_prompt(page, web_with, make_user, login):
    server = web_with(GENERATION_COOLDOWN_S="0")
    make_user("leaver")
    login(page, server.url, "leaver")
    open_workspace(page, server.url)
    prompt_box(page).fill("Half an idea")
    assert len(draft_keys(page)) == 1
    page.get_by_label("User menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/"))
    assert draft_keys(page) == []
