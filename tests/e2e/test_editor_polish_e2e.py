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
    x = {
        "middle": box["x"] + box["width"] / 2,
        "in": box["x"] + 2,
        "out": box["x"] + box["width"] - 2,
    }[at]
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
    # The worker's move to running is pushed (with its progress bar) before the outcome.
    assert any(s.startswith("running:") for s in seen), seen
    export.refresh_from_db()
    # The finished export lands in the second tab's media panel too.
    expect(other.locator(f"#media-{export.result_id}")).to_be_visible(timeout=60_000)
    # The tab that started it shows one card, finished.
    expect(page.locator(".export-card")).to_have_count(1)
    expect(page.locator(f"#export-{export.pk}")).to_have_attribute("data-status", "succeeded")
    assert errors == []


# --- 2. Snapping ---------------------------------------------------------------------------


def pps(page) -> float:
    return float(
        page.locator("#timeline-region").evaluate("el => el.style.getPropertyValue('--pps')")
    )


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
    clip_a = poll(
        lambda: Clip.objects.filter(track__timeline=timeline, media_item=a).first(), what="A"
    )
    assert clip_a.start_s == 0.0
    a_el = page.locator(f"#clip-{clip_a.pk}")
    expect(a_el).to_have_attribute("data-start", "0.000")

    # Even when the dropped clip's end would sit right on the playhead: the start wins.
    # (Bravo is 2 s long; the playhead goes 5 px after 2 s, the drop 5 px after 0, onto a
    # new track below the last one.)
    click_ruler_at(page, 2.0 + 5 / pps(page))
    assert playhead(page) > 2.0
    drop_media(page, b.pk, page.locator("[data-new-track] .tl-newtrack-hint"), x=5 + 0)
    clip_b = poll(
        lambda: Clip.objects.filter(track__timeline=timeline, media_item=b).first(), what="B"
    )
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


# --- 3. One time format ------------------------------------------------------------------------


def timeline_with_clip(user, item) -> Timeline:
    """A timeline holding `item` at 0 on V1 (the editor opens the user's latest)."""
    from editor import services

    timeline = services.timeline_create(owner=user, name="Cut")
    v1 = timeline.tracks.filter(kind="video").order_by("order").last()
    services.clip_add(timeline=timeline, media_item=item, start_s=0, track=v1)
    return timeline


def test_transport_and_ruler_read_the_same_format(
    page, daphne_server, celery_worker, make_user, login, tmp_path
):
    from editor.templatetags.editor_tags import timecode

    user = make_user("clock-reader")
    item = ready_media(user, tmp_path, "Clock", seconds=3.0)
    timeline_with_clip(user, item)
    login(page, daphne_server.url, "clock-reader")
    expect(page.locator(".tl-clip")).to_have_count(1)
    # The server's first paint already uses the format the browser redraws with.
    panel = page.request.get(daphne_server.url + "/editor/panel/").text()
    assert "<span data-timecode>0:00.0</span>" in panel
    assert f"<span data-duration>{timecode(item.duration_s)}</span>" in panel

    # The ruler tick at 1 s, found by where it is drawn (not by its label).
    at = pps(page)
    index = page.locator(".tl-tick").evaluate_all(
        f"els => els.findIndex(e => Math.abs(parseFloat(e.style.left) - {at}) < 0.5)"
    )
    assert index > 0, "no ruler tick at 1 s"
    tick = page.locator(".tl-tick").nth(index)
    tick_box, ruler_box = box_of(tick), box_of(page.locator("[data-ruler]"))
    page.mouse.click(tick_box["x"] + 2, ruler_box["y"] + 8)
    transport = page.locator("[data-timecode]")
    expect(transport).to_have_text(tick.inner_text())
    assert TIME.match(transport.inner_text()), transport.inner_text()
    assert transport.inner_text() == "0:01.0"
    expect(page.locator("[data-timecode-small]")).to_have_text("0:01.0")
    assert TIME.match(page.locator("#editor span[data-duration]").inner_text())
    for label in page.locator(".tl-tick").all_inner_texts()[:8]:
        assert TIME.match(label), label


# --- 4. The shortcut sheet ---------------------------------------------------------------------


def listed_labels() -> list[str]:
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "static/js/shortcuts.js").read_text()
    return re.findall(r'\{ id: "[\w-]+", group: "\w+", keys: \[[^\]]*\], label: "([^"]+)"', source)


def test_question_mark_opens_the_shortcut_sheet(
    page, daphne_server, celery_worker, make_user, login, tmp_path
):
    user = make_user("key-reader")
    item = ready_media(user, tmp_path, "Keys", seconds=2.0)
    timeline_with_clip(user, item)
    login(page, daphne_server.url, "key-reader")
    expect(page.locator(".tl-clip")).to_have_count(1)
    split = page.locator('#editor [data-action="split"]')
    # Tooltips name their key, from the same list.
    expect(split).to_have_attribute("title", "Split at playhead (S)")
    expect(page.locator('#editor [data-action="undo"]')).to_have_attribute("title", "Undo (Ctrl+Z)")

    split.focus()
    page.keyboard.press("Shift+Slash")
    sheet = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(sheet).to_be_visible()
    labels = listed_labels()
    assert len(labels) > 20
    expect(sheet.locator(".ed-sheet-row dd")).to_have_text(labels)
    row = sheet.locator('.ed-sheet-row[data-shortcut="split"]')
    expect(row.locator("kbd")).to_have_text(["S"])
    page.screenshot(path=f"{SHOTS}/sheet-1440.png")
    for size, name in (((1024, 768), "1024"), ((390, 844), "390")):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        expect(sheet).to_be_visible()
        page.screenshot(path=f"{SHOTS}/sheet-{name}.png")
    page.set_viewport_size({"width": 1440, "height": 900})

    # Focus stays in the sheet, Escape closes it and gives focus back.
    focused_in_sheet = "() => !!document.activeElement.closest('#shortcut-sheet')"
    assert page.evaluate(focused_in_sheet)
    page.keyboard.press("Tab")
    assert page.evaluate(focused_in_sheet)
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused_in_sheet)
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    assert page.evaluate("() => document.activeElement.dataset.action") == "split"

    # The ? button opens it too; the close button closes it.
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(sheet).to_be_visible()
    sheet.get_by_role("button", name="Close").click()
    expect(sheet).to_be_hidden()

    # Typing a ? into a text field types it.
    search = page.locator("#media-filters input[name=q]")
    search.click()
    page.keyboard.type("a?")
    expect(search).to_have_value("a?")
    expect(sheet).to_be_hidden()


# --- 5. Add to timeline on a phone -------------------------------------------------------------


def test_add_to_timeline_from_a_media_card_on_a_phone(
    browser, daphne_server, celery_worker, make_user, tmp_path
):
    from tests.conftest import add_session_cookie

    user = make_user("phone-editor")
    first = ready_media(user, tmp_path, "Opening", seconds=3.0)
    second = ready_media(user, tmp_path, "Second shot", seconds=2.0)
    timeline = timeline_with_clip(user, first)
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    context.set_default_timeout(15_000)
    try:
        add_session_cookie(context, daphne_server.url, user)
        page = context.new_page()
        page.goto(daphne_server.url + "/")
        expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
        page.get_by_role("tab", name="Media").click()
        card = page.locator(f"#media-{second.pk}")
        expect(card).to_be_visible()
        card.locator("summary").click()
        add = card.get_by_role("menuitem", name="Add to timeline")
        expect(add).to_be_visible()
        page.screenshot(path=f"{SHOTS}/add-menu-390.png")
        add.click()
        expect(
            page.get_by_role("status").filter(has_text="Added to the timeline at 0:03.0")
        ).to_be_visible()
        page.screenshot(path=f"{SHOTS}/add-toast-390.png", animations="disabled")
        clip = poll(
            lambda: Clip.objects.filter(track__timeline=timeline, media_item=second).first(),
            what="appended clip",
        )
        assert clip.start_s == 3.0
        assert clip.track.kind == "video"
        expect(card.locator("details.media-menu")).not_to_have_attribute("open", "")
        # On the Edit tab the clip is on the timeline, and one undo takes it away again.
        page.get_by_role("tab", name="Edit").click()
        expect(page.locator(f"#clip-{clip.pk}")).to_be_visible()
        page.screenshot(path=f"{SHOTS}/add-edit-390.png")
        page.locator('#editor [data-action="undo"]').click()
        expect(page.locator(f"#clip-{clip.pk}")).to_have_count(0)
        assert not Clip.objects.filter(pk=clip.pk).exists()
    finally:
        context.close()


@pytest.mark.parametrize("size", [(1440, 900), (1024, 768)])
def test_add_to_timeline_works_beside_the_timeline_too(
    browser, daphne_server, celery_worker, make_user, tmp_path, size
):
    from tests.conftest import add_session_cookie

    user = make_user(f"wide-adder-{size[0]}")
    item = ready_media(user, tmp_path, "Wide", seconds=2.0)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.set_default_timeout(15_000)
    try:
        add_session_cookie(context, daphne_server.url, user)
        page = context.new_page()
        page.goto(daphne_server.url + "/")
        expect(page.locator(".tl-doc")).to_be_visible()
        if size[0] < 1440:
            page.get_by_role("tab", name="Media").click()
        card = page.locator(f"#media-{item.pk}")
        card.locator("summary").click()
        card.get_by_role("menuitem", name="Add to timeline").click()
        expect(page.locator(".tl-clip").first).to_be_visible()
        expect(
            page.get_by_role("status").filter(has_text="Added to the timeline at 0:00.0")
        ).to_be_visible()
        page.screenshot(path=f"{SHOTS}/add-{size[0]}.png", animations="disabled")
    finally:
        context.close()
