"""As a brand-new creator, in Chromium against a real web server and worker: the first-run
checklist shows three steps to do; generating a clip ticks the first one without a reload;
the clip's Details drawer shows its generation settings as labelled fields (no dict); and
a dismissed checklist stays gone after a reload and in another browser."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from generation.models import GenerationJob, JobStatus
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROMPT = "Fog rolling over a harbour at night, slow pan"
# Set to a folder to keep screenshots of the checklist at the three layout widths.
SHOTS = os.environ.get("CUTROOM_SHOTS_DIR")


def open_workspace(page, base_url):
    page.goto(base_url + "/")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.locator("#gen-composer")).to_be_visible()


# Counts the swaps into the checklist's slot, so a test can wait until the slot's answer
# is in the page (an empty answer leaves nothing else to wait for).
SETTLED = """document.addEventListener("htmx:afterSettle", (event) => {
  if (event.target.id === "first-run-slot") window.__firstRunSettled = (window.__firstRunSettled || 0) + 1;
});"""


def checklist(page):
    return page.get_by_role("region", name=re.compile("Get started|all set"))


def step(page, key):
    return page.locator(f"#first-run .first-run-step[data-step={key}]")


def test_fresh_user_sees_three_steps_and_generating_ticks_the_first_live(
    page, daphne_server, celery_worker, make_user, login, cleanup_media
):
    make_user("newcomer")
    login(page, daphne_server.url, "newcomer")
    open_workspace(page, daphne_server.url)

    expect(checklist(page)).to_be_visible()
    steps = page.locator("#first-run .first-run-step")
    expect(steps).to_have_count(3)
    expect(page.locator("#first-run .first-run-title")).to_have_text(
        ["Generate a clip (to do)", "Drag it to the timeline (to do)", "Export (to do)"]
    )
    expect(page.locator('#first-run .first-run-step[data-done="false"]')).to_have_count(3)
    expect(page.locator("#first-run .first-run-count")).to_have_text("0/3")
    if SHOTS:
        shoot_widths(page, "first-run")

    # Mark the document: a reload would lose the mark.
    page.evaluate("window.__firstRunMark = 'same page'")
    page.get_by_role("textbox", name="Prompt", exact=True).fill(PROMPT)
    page.get_by_role("radiogroup", name="Duration").get_by_text("2 s", exact=True).click()
    page.get_by_role("button", name="Generate", exact=True).click()

    expect(step(page, "generate")).to_have_attribute("data-done", "true")
    expect(page.locator("#first-run .first-run-count")).to_have_text("1/3")
    expect(step(page, "timeline")).to_have_attribute("data-done", "false")
    assert page.evaluate("window.__firstRunMark") == "same page"

    # The clip lands; its Details show the settings it was made with, labelled.
    wait_until(
        lambda: GenerationJob.objects.filter(status=JobStatus.SUCCEEDED).exists(),
        timeout=120,
        what="the local render to finish",
    )
    job = GenerationJob.objects.get()
    card = page.locator(f"#media-{job.media_item_id}")
    expect(card).to_have_attribute("data-status", "ready", timeout=60_000)
    drawer = page.locator("#media-drawer")
    open_details(card, drawer)
    settings = drawer.locator(".media-gen-facts")
    for label, value in [
        ("Model", "Local renderer (offline)"),
        ("Prompt", PROMPT),
        ("Duration", "2 s"),
        ("Resolution", job.params["resolution"]),
        ("Cost", "$0.00"),
        ("Provider", "Local renderer"),
    ]:
        fact = settings.locator("dt", has_text=re.compile(f"^{label}$"))
        expect(fact).to_be_visible()
        expect(fact.locator("xpath=following-sibling::dd[1]")).to_contain_text(value)
    expect(settings.locator("dt", has_text=re.compile("^Took$"))).to_have_count(1)
    expect(drawer.locator("dt", has_text=re.compile("^Bit rate$"))).to_have_count(1)
    bit_rate = drawer.locator("dt", has_text=re.compile("^Bit rate$")).locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(bit_rate).to_have_text(re.compile(r"^\d+(\.\d)? [kM]b/s$"))
    text = drawer.inner_text()
    assert "{" not in text and "}" not in text, text
    if SHOTS:
        # The whole drawer in view: a tall window, the checklist card out of the way.
        page.set_viewport_size({"width": 1440, "height": 2400})
        page.locator("#first-run").evaluate("el => { el.style.display = 'none'; }")
        drawer.screenshot(path=str(Path(SHOTS) / "details-drawer.png"))


def test_dismissed_checklist_stays_gone_after_reload_and_elsewhere(
    page, browser, daphne_server, make_user, login
):
    make_user("dismisser")
    page.context.add_init_script(SETTLED)
    login(page, daphne_server.url, "dismisser")
    open_workspace(page, daphne_server.url)
    expect(checklist(page)).to_be_visible()

    # Folding hides the steps (this browser remembers it), the card stays.
    page.get_by_role("button", name="Hide the steps").click()
    expect(page.locator("#first-run-steps")).to_be_hidden()
    page.reload()
    open_workspace(page, daphne_server.url)
    expect(page.get_by_role("button", name="Show the steps")).to_have_attribute(
        "aria-expanded", "false"
    )
    expect(page.locator("#first-run-steps")).to_be_hidden()
    page.get_by_role("button", name="Show the steps").click()
    expect(page.locator("#first-run-steps")).to_be_visible()

    page.get_by_role("button", name="Dismiss the getting-started checklist").click()
    expect(page.locator("#first-run")).to_have_count(0)

    page.reload()
    open_workspace(page, daphne_server.url)
    # The slot has been answered and swapped (its fragment is empty), not merely not loaded.
    page.wait_for_function("window.__firstRunSettled > 0")
    expect(page.locator("#first-run")).to_have_count(0)

    # Another browser (a new context: no shared storage) of the same user: gone there too.
    other = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        other.add_init_script(SETTLED)
        other_page = other.new_page()
        login(other_page, daphne_server.url, "dismisser")
        open_workspace(other_page, daphne_server.url)
        other_page.wait_for_function("window.__firstRunSettled > 0")
        expect(other_page.locator("#first-run")).to_have_count(0)
    finally:
        other.close()


def open_details(card, drawer):
    """Open the card's menu and choose Details. The card may still be replaced by a push
    (its poster or filmstrip arriving) between the two clicks, which closes the menu; then
    the pair is tried again on the new card."""

    def attempt():
        if not drawer.get_by_role("dialog").count():
            card.get_by_label(re.compile("^Actions for")).click(timeout=3_000)
            card.get_by_role("menuitem", name="Details").click(timeout=3_000)
        return drawer.get_by_role("dialog").is_visible()

    wait_until(attempt, timeout=30, interval=0.2, what="the Details drawer to open")


def shoot_widths(page, name):
    """The checklist at the three layout widths (desktop, tablet, phone)."""
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width, height in ((1440, 900), (1024, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        expect(page.locator("#first-run")).to_be_visible()
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"))
    page.set_viewport_size({"width": 1440, "height": 900})
