"""Editor polish, in Chromium against a real web server and worker: export progress in
every tab, snapping to the timeline start and to clip edges, one time format, the `?`
shortcut sheet, and "Add to timeline" on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from editor.models import Clip, Export, Timeline
from tests.e2e.test_editor_e2e import box_of, drop_media, poll, ready_media

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = "/tmp/shots/h3"
TIME = re.compile(r"^\d+:\d\d\.\d$")


def stored(clip_id: int) -> Clip:
    return Clip.objects.get(pk=clip_id)


def lane_of(page):
    return page.locator(".tl-track-video .tl-lane").first


def drag_by(page, locator, dx: float, *, at: str = "middle") -> None:
    """Press on the clip (its middle, or its in/out handle) and move it by dx pixels."""
    box = box_of(locator)
    x = {"middle": box["x"] + box["width"] / 2, "in": box["x"] + 2, "out": box["x"] + box["width"] - 2}[at]
    y = box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=10)
    page.mouse.up()


# --- 1. Export progress reaches every tab ------------------------------------------------------


def test_an_export_started_in_one_tab_shows_its_progress_in_another(
    page, daphne_server, celery_worker, make_user, login, tmp_path
):
    user = make_user("export-watcher")
    item = ready_media(user, tmp_path, "Long", seconds=6.0)
    login(page, daphne_server.url, "export-watcher")
    expect(page.locator(".tl-doc")).to_be_visible()
    drop_media(page, item.pk, lane_of(page), x=4)
    poll(lambda: Clip.objects.filter(track__timeline__owner=user).exists(), what="clip stored")

    other = page.context.new_page()
    errors: list[str] = []
    other.on("console", lambda m: errors.append(m.text) if "oobErrorNoTarget" in m.text else None)
    other.goto(daphne_server.url + "/")
    expect(other.locator(".tl-doc")).to_be_visible()
    expect(other.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    # Record every state the second tab's card shows, so a fast export still proves the
    # tab saw it while it was running.
    other.evaluate(
        """() => {
          window.__exportStates = [];
          const note = () => {
            for (const c of document.querySelectorAll('#export-list .export-card')) {
              const bar = c.querySelector('[aria-valuenow]');
              window.__exportStates.push(c.dataset.status + ':' + (bar ? bar.getAttribute('aria-valuenow') : '-'));
            }
          };
          new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true});
        }"""
    )
    assert other.locator("#export-list .export-card").count() == 0

    page.get_by_role("button", name="Export", exact=True).click()
    dialog = page.get_by_role("dialog", name="Export video")
    dialog.get_by_label("File name").fill("Watched")
    dialog.get_by_role("button", name="Start export").click()
    export = poll(lambda: Export.objects.filter(owner=user).first(), what="export row")

    card = other.locator(f"#export-{export.pk}")
    expect(card).to_be_visible()
    expect(card.get_by_role("progressbar")).to_be_visible()
    expect(card).to_have_attribute("data-status", "succeeded", timeout=120_000)
    expect(other.locator(".export-card")).to_have_count(1)
    seen = other.evaluate("window.__exportStates")
    assert any(s.startswith(("queued:", "running:")) for s in seen), seen
    export.refresh_from_db()
    # The finished export lands in the second tab's media panel too.
    expect(other.locator(f"#media-{export.result_id}")).to_be_visible(timeout=60_000)
    # The tab that started it shows one card, finished.
    expect(page.locator(".export-card")).to_have_count(1)
    expect(page.locator(f"#export-{export.pk}")).to_have_attribute("data-status", "succeeded")
    assert errors == []


# --- 2. Snapping ---------------------------------------------------------------------------


def pps(page) -> float:
    return float(page.locator("#timeline-region").evaluate("el => el.style.getPropertyValue('--pps')"))


def playhead(page) -> float:
    return float(page.locator(".tl-playhead").evaluate("el => el.style.getPropertyValue('--t')"))


def click_ruler_at(page, seconds: float) -> None:
    ruler = page.locator("[data-ruler]")
    page.mouse.click(box_of(ruler)["x"] + seconds * pps(page), box_of(ruler)["y"] + 8)


def test_drops_moves_and_trims_snap_to_the_start_clip_edges_and_the_playhead(
    page, daphne_server, celery_worker, make_user, login, tmp_path
):
    user = make_user("snapper")
    a = ready_media(user, tmp_path, "Alpha", seconds=3.0)
    b = ready_media(user, tmp_path, "Bravo", seconds=2.0)
    login(page, daphne_server.url, "snapper")
    expect(page.locator(".tl-doc")).to_be_visible()
    timeline = Timeline.objects.get(owner=user)
    lane = lane_of(page)

    # A drop 5 px right of the track start lands at 0, not a few frames in.
    drop_media(page, a.pk, lane, x=5)
    clip_a = poll(lambda: Clip.objects.filter(track__timeline=timeline, media_item=a).first(), what="A")
    assert clip_a.start_s == 0.0
    a_el = page.locator(f"#clip-{clip_a.pk}")
    expect(a_el).to_have_attribute("data-start", "0.000")

    # Even when the dropped clip's end would sit right on the playhead: the start wins.
    # (Bravo is 2 s long; the playhead goes 5 px after 2 s, the drop 5 px after 0, onto a
    # new track below the last one.)
    click_ruler_at(page, 2.0 + 5 / pps(page))
    assert playhead(page) > 2.0
    drop_media(page, b.pk, page.locator("[data-new-track] .tl-newtrack-hint"), x=5 + 0)
    clip_b = poll(lambda: Clip.objects.filter(track__timeline=timeline, media_item=b).first(), what="B")
    assert clip_b.start_s == 0.0
    b_el = page.locator(f"#clip-{clip_b.pk}")

    # Moving B onto A's track 5 px right of A's end lands exactly at A's end.
    a_box, b_box = box_of(a_el), box_of(b_el)
    page.mouse.move(b_box["x"] + 10, b_box["y"] + b_box["height"] / 2)
    page.mouse.down()
    page.mouse.move(a_box["x"] + a_box["width"] + 15, a_box["y"] + a_box["height"] / 2, steps=12)
    page.mouse.up()
    poll(lambda: stored(clip_b.pk).track_id == clip_a.track_id, what="B moved onto A's track")
    assert stored(clip_b.pk).start_s == clip_a.end_s

    # Moving A to 5 px right of... itself at 0 after a trip: drag A far right (after B),
    # then back to 5 px right of the start -> exactly 0.
    drag_by(page, a_el, box_of(b_el)["x"] + box_of(b_el)["width"] + 60 - box_of(a_el)["x"])
    poll(lambda: stored(clip_a.pk).start_s > stored(clip_b.pk).end_s, what="A moved after B")
    drag_by(page, b_el, -(box_of(b_el)["x"] - box_of(lane)["x"]) + 5)
    poll(lambda: stored(clip_b.pk).start_s == 0.0, what="B moved to 0")

    # Trimming: the playhead at 1 s (a click on the ruler), then B's out edge dragged to
    # 5 px right of it -> B ends exactly at the playhead (a frame-rounded edge 5 px off
    # could end up past the snap reach before).
    click_ruler_at(page, 1.0)
    head = playhead(page)
    assert head == pytest.approx(1.0, abs=0.05)
    bbox = box_of(b_el)
    # The press is 2 px inside the out edge: the pointer ends 3 px right of the playhead.
    target_x = box_of(lane)["x"] + head * pps(page) + 3
    drag_by(page, b_el, target_x - (bbox["x"] + bbox["width"] - 2), at="out")
    poll(lambda: stored(clip_b.pk).out_s < 1.9, what="B trimmed")
    assert stored(clip_b.pk).end_s == pytest.approx(head, abs=1e-3)
