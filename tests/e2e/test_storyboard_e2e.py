"""The storyboard in Chromium against a real web server and worker (the offline `local`
model): a creator opens ✦ Storyboard, pastes a three-paragraph script, splits it into
shots, sees the total cost, presses Generate all, and the three slots appear in order on
a new track and fill. Screenshots of the dialog at three sizes go to /tmp/shots/<slot>/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from editor.models import Slot, Storyboard, Timeline
from tests.e2e.test_slots_e2e import poll, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCRIPT = """[2s] A lighthouse at dusk, waves breaking on the rocks.

The keeper climbs the spiral stairs,
lantern in hand.

[4s] The lamp turns on; its beam sweeps the sea."""


def test_paste_a_script_see_the_total_and_generate_all(
    page, daphne_server, celery_worker, make_user, login
):
    user = make_user("storyteller")
    login(page, daphne_server.url, "storyteller")
    expect(page.locator(".tl-doc")).to_be_visible()
    timeline = Timeline.objects.get(owner=user)
    tracks_before = timeline.tracks.count()

    page.get_by_role("button", name="✦ Storyboard").click()
    dialog = page.locator("#storyboard-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Script: one shot per paragraph").fill(SCRIPT)
    dialog.locator("select[name=default_model]").select_option("local")
    dialog.locator("select[name=default_duration]").select_option("2")
    dialog.get_by_role("button", name="Split into shots").click()
    shots = dialog.locator("[data-storyboard-list] [data-storyboard-shot]")
    expect(shots).to_have_count(3)
    expect(shots.nth(1).locator("textarea")).to_have_value(
        "The keeper climbs the spiral stairs, lantern in hand."
    )
    expect(shots.nth(2).locator("select[name=duration]")).to_have_value("4")
    # The cost of the whole list before anything starts (the offline model is free).
    total = dialog.locator("[data-storyboard-total]")
    expect(total).to_contain_text("Total: $0.00 for 3 shots")
    expect(total).to_contain_text("monthly budget left")
    assert not Slot.objects.exists()
    shoot(page, "storyboard-dialog")

    dialog.get_by_role("button", name="Generate all").click()
    expect(dialog).to_be_hidden()
    board = poll(lambda: Storyboard.objects.filter(timeline=timeline).first(), what="stored")
    assert timeline.tracks.count() == tracks_before + 1
    lane = page.locator(f'.tl-lane[data-track-id="{board.track_id}"]')
    # The three slots appear in order on the new track (then fill as the jobs finish).
    slots = list(Slot.objects.filter(track_id=board.track_id).order_by("start_s"))
    assert [s.start_s for s in slots] == [0.0, 2.0, 4.0]
    for slot in slots:
        expect(lane.locator(f"#slot-{slot.pk}, .tl-clip").first).to_be_visible()
    expect(lane.locator(".tl-clip")).to_have_count(3, timeout=60_000)
    shoot(page, "storyboard-filled")
    # Reopened, the dialog lists the storyboard with its shots placed and their buttons.
    page.get_by_role("button", name="✦ Storyboard").click()
    board_el = page.locator(f"#storyboard-{board.pk}")
    expect(board_el.locator("[data-shot-state=filled]")).to_have_count(3)
    expect(board_el.get_by_role("button", name="Regenerate")).to_have_count(3)
    shoot(page, "storyboard-list")
