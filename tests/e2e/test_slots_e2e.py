"""Slots in Chromium against a real web server and worker (the offline `local` model): a
creator asks for a shot with "✦ Generate here" on the timeline; a second tab on the same
timeline sees the slot appear, follow its job and turn into the clip, live; an export
asked for while the slot is unfilled is refused with a sentence naming it; undo of the fill
brings the slot back and redo fills it again. Screenshots of the slot at three sizes go to
/tmp/shots/<slot>/ for a human to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from editor import services
from editor.models import Clip, Slot, Timeline
from tests.e2e.test_editor_e2e import ready_media
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots") / os.environ.get("CUTROOM_TEST_SLOT", "e2e")
SIZES = ((1440, 900), (1024, 768), (390, 844))

# Records every state a slot element takes in this tab (the swaps are fast; a test that
# only looked now and then could miss "running").
WATCH_SLOTS = """
window.__slotStates = [];
new MutationObserver(() => {
  for (const el of document.querySelectorAll('.tl-slot')) {
    const seen = el.dataset.status + ':' + (el.style.getPropertyValue('--progress') || '');
    if (window.__slotStates.at(-1) !== seen) window.__slotStates.push(seen);
  }
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


def poll(condition, *, timeout: float = 15.0, what: str = "condition"):
    return wait_until(condition, timeout=timeout, interval=0.1, what=what)


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{width}x{height}.png"))
    page.set_viewport_size(original)


def test_second_tab_sees_the_slot_progress_and_fill_live(
    page, daphne_server, celery_worker, make_user, login, tmp_path
):
    user = make_user("slot-maker")
    login(page, daphne_server.url, "slot-maker")
    expect(page.locator(".tl-doc")).to_be_visible()
    timeline = Timeline.objects.get(owner=user)
    # A clip later on the track (an edit in progress; the export button needs a clip).
    outro = ready_media(user, tmp_path, "Outro", seconds=2.0)
    track = timeline.tracks.get(kind="video")
    services.clip_add(timeline=timeline, media_item=outro, start_s=12.0, track=track)
    expect(page.locator(".tl-clip")).to_have_count(1)
    other = page.context.new_page()
    other.add_init_script(WATCH_SLOTS)
    other.goto(daphne_server.url + "/")
    expect(other.locator(".tl-doc")).to_be_visible()
    for tab in (page, other):
        expect(tab.locator("#live-indicator")).to_have_attribute("data-state", "connected")

    # Ask for a 10 s shot at the playhead (0 s) on the video track.
    page.get_by_role("button", name="✦ Generate here").click()
    dialog = page.locator("#slot-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Prompt").fill("a lighthouse at dusk, waves rolling in")
    dialog.get_by_label("Model").select_option("local")
    dialog.get_by_label("Length").select_option("10")
    expect(dialog.locator("[data-slot-price]")).to_contain_text("Cost")
    shoot(page, "slot-dialog")
    dialog.get_by_role("button", name="Generate").click()
    expect(dialog).to_be_hidden()

    slot = poll(lambda: Slot.objects.filter(timeline=timeline).first(), what="slot stored")
    here = page.locator(f"#slot-{slot.pk}")
    there = other.locator(f"#slot-{slot.pk}")
    expect(here).to_be_visible()
    expect(there).to_be_visible()
    expect(there).to_contain_text("a lighthouse at dusk")

    # Cancel from the slot (the local render is quick: stop it before it can finish). The
    # slot stays, cancelled, with its reason and Retry, in both tabs.
    here.get_by_role("button", name="Cancel this generation").click()
    expect(there).to_have_attribute("data-status", "cancelled", timeout=30_000)
    expect(there).to_contain_text("Cancelled")
    expect(here.get_by_role("button", name="Retry this generation")).to_be_visible()
    shoot(other, "slot-cancelled")

    # The export refuses while the slot is unfilled, naming it.
    page.get_by_role("button", name="Export").click()
    page.get_by_role("button", name="Start export").click()
    expect(page.locator("#export-error")).to_contain_text("not filled yet")
    expect(page.locator("#export-error")).to_contain_text("lighthouse")
    page.locator("#export-dialog").get_by_role("button", name="Cancel").click()

    # Retry from the slot: a new job in the same slot, followed live by the other tab.
    here.get_by_role("button", name="Retry this generation").click()
    expect(there).to_have_attribute("data-status", "running", timeout=60_000)
    shoot(other, "slot-running")

    # The clip lands in both tabs; the placeholder goes.
    slot = poll(
        lambda: Slot.objects.filter(pk=slot.pk, filled=True).first(), timeout=120, what="filled"
    )
    for tab in (page, other):
        expect(tab.locator(f"#clip-{slot.clip_id}")).to_be_visible(timeout=30_000)
        expect(tab.locator(f"#slot-{slot.pk}")).to_have_count(0)
    shoot(other, "slot-filled")
    states = other.evaluate("window.__slotStates")
    assert any(s.startswith("running:") and s != "running:" for s in states), states
    assert len({s.split(":")[1] for s in states if s.startswith("running:")}) >= 2, states

    # Undo of the fill (from the other tab) brings the slot back in both; redo fills again.
    clip = Clip.objects.get(pk=slot.clip_id)
    other.locator(".tl-doc").click(position={"x": 5, "y": 5})
    other.keyboard.press("Control+z")
    for tab in (page, other):
        expect(tab.locator(f"#slot-{slot.pk}")).to_be_visible()
        expect(tab.locator(f"#clip-{clip.pk}")).to_have_count(0)
    expect(page.locator(f"#slot-{slot.pk} [data-slot-action=place]")).to_be_visible()
    page.keyboard.press("Control+Shift+z")
    for tab in (page, other):
        expect(tab.locator(f"#clip-{clip.pk}")).to_be_visible()
        expect(tab.locator(f"#slot-{slot.pk}")).to_have_count(0)


def test_continue_this_shot_from_the_clips_context_menu(
    page, daphne_server, celery_worker, make_user, login, tmp_path
):
    user = make_user("continuer")
    login(page, daphne_server.url, "continuer")
    expect(page.locator(".tl-doc")).to_be_visible()
    timeline = Timeline.objects.get(owner=user)
    shot = ready_media(user, tmp_path, "Harbour", seconds=2.0)
    track = timeline.tracks.get(kind="video")
    (clip,) = services.clip_add(timeline=timeline, media_item=shot, start_s=0.0, track=track)
    el = page.locator(f"#clip-{clip.pk}")
    expect(el).to_be_visible()

    el.click(button="right")
    item = page.get_by_role("button", name="✦ Continue this shot (from its last frame)")
    expect(item).to_be_visible()
    shoot(page, "continue-menu")
    item.click()
    dialog = page.locator("#slot-dialog")
    # The server decodes the frame and registers the image first (a busy test machine
    # makes that seconds).
    expect(dialog.get_by_role("heading", name="Continue this shot")).to_be_visible(timeout=20_000)
    # The start frame was extracted on the server and is shown (it loaded: natural size).
    frame = dialog.get_by_role("img", name="The start frame: the clip's last frame")
    expect(frame).to_be_visible()
    poll(lambda: frame.evaluate("img => img.naturalWidth") > 0, what="the frame image loaded")
    frame_id = int(frame.get_attribute("data-slot-frame"))
    stored = poll(lambda: shot.__class__.objects.filter(pk=frame_id).first(), what="frame item")
    assert stored.kind == "image" and stored.metadata["frame_of"] == shot.pk
    assert stored.metadata["frame_at_s"] == pytest.approx(clip.out_s - 0.001)
    shoot(page, "continue-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
