"""The editor as a new user would use it, in Chromium against a real daphne and worker:
drag two clips from the media panel onto the timeline, trim one, split the other, reload
and see the same timeline, export at 720p and see the export arrive in the media panel.
And a second tab on the same timeline sees edits live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from editor.models import Clip, Export, Timeline
from media_library import services as media_services
from media_library.models import MediaItem
from media_library.testing import make_video
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def poll(condition, *, timeout: float = 15.0, what: str = "condition"):
    return wait_until(condition, timeout=timeout, interval=0.1, what=what)


def ready_media(user, tmp_path, name: str, **video) -> MediaItem:
    """A real small clip made with PyAV, registered like an upload and processed by the
    real worker (needs the `celery_worker` fixture)."""
    path = make_video(tmp_path / f"{name}.mp4", width=320, height=180, fps=24, **video)
    item = media_services.media_create_from_file(
        owner=user, path_or_file=str(path), title=name, source=MediaItem.Source.UPLOAD
    )
    item = poll(
        lambda: (
            MediaItem.objects.exclude(status=MediaItem.Status.PROCESSING).filter(pk=item.pk).first()
        ),
        timeout=60,
        what=f"{name} processed",
    )
    assert item.status == MediaItem.Status.READY, item.error_message
    return item


def clip_rows(page) -> list[tuple[str, str, str, str]]:
    return sorted(
        page.locator(".tl-clip").evaluate_all(
            "els => els.map(e => [e.dataset.trackId, e.dataset.start, e.dataset.in, e.dataset.out])"
        )
    )


def stored_rows(timeline) -> list[tuple[str, str, str, str]]:
    return sorted(
        [str(c.track_id), f"{c.start_s:.3f}", f"{c.in_s:.3f}", f"{c.out_s:.3f}"]
        for c in Clip.objects.filter(track__timeline=timeline)
    )


def box_of(locator) -> dict:
    """The element's box, retried: a live push may be replacing the timeline right now."""
    return poll(locator.bounding_box, timeout=10, what="element box")


def drop_media(page, media_id: int, target, x: float, y: float | None = None) -> None:
    card = page.locator(f"#media-{media_id}")
    expect(card).to_be_visible()
    box = box_of(target)
    card.drag_to(target, target_position={"x": x, "y": y if y is not None else box["height"] / 2})


def test_new_user_cuts_reloads_and_exports(
    page, daphne_server, celery_worker, make_user, login, tmp_path
):
    user = make_user("first-edit")
    with_sound = ready_media(user, tmp_path, "Beach", seconds=3.0, audio=True)
    silent = ready_media(user, tmp_path, "City", seconds=2.0)

    login(page, daphne_server.url, "first-edit")
    region = page.get_by_role("region", name="Timeline")
    expect(region).to_be_visible()
    expect(page.locator(".tl-doc")).to_be_visible()
    timeline = Timeline.objects.get(owner=user)

    # 1. Drag both clips onto the first video track: the one with sound brings its audio.
    lane = page.locator(".tl-track-video .tl-lane").first
    drop_media(page, with_sound.pk, lane, x=4)
    expect(page.locator(".tl-clip")).to_have_count(2)
    # Drop the second one a little after the end of the first.
    lane_box = box_of(lane)
    first_box = box_of(page.locator(".tl-track-video .tl-clip").first)
    drop_media(page, silent.pk, lane, x=first_box["x"] + first_box["width"] - lane_box["x"] + 40)
    expect(page.locator(".tl-clip")).to_have_count(3)
    poll(lambda: Clip.objects.filter(track__timeline=timeline).count() == 3, what="3 clips stored")
    city = Clip.objects.get(track__timeline=timeline, media_item=silent)
    beach = Clip.objects.get(track__timeline=timeline, media_item=with_sound, track__kind="video")
    assert city.start_s > beach.end_s - 1e-6  # landed where it was dropped, after Beach

    # 2. Fit the edit to the window, then trim the end of City by dragging its out handle.
    page.get_by_role("button", name="Zoom to fit").click()
    city_el = page.locator(f"#clip-{city.pk}")
    expect(city_el).to_be_visible()
    box = box_of(city_el)
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    poll(lambda: Clip.objects.get(pk=city.pk).out_s < 1.6, what="City trimmed")
    trimmed = Clip.objects.get(pk=city.pk)
    assert trimmed.in_s == 0 and 0.5 < trimmed.out_s < 1.6
    expect(city_el).to_have_attribute("data-out", f"{trimmed.out_s:.3f}")

    # 3. Split Beach: select it, put the playhead in its middle via the ruler, press S.
    beach_el = page.locator(f"#clip-{beach.pk}")
    beach_el.click()
    expect(beach_el).to_have_class(re.compile(r"\bis-selected\b"))
    ruler = page.locator("[data-ruler]")
    bbox = box_of(beach_el)
    rbox = box_of(ruler)
    ruler.click(position={"x": bbox["x"] - rbox["x"] + bbox["width"] / 2, "y": rbox["height"] / 2})
    page.keyboard.press("s")
    # Beach video and its linked audio are both cut: 5 clips.
    expect(page.locator(".tl-clip")).to_have_count(5)
    poll(lambda: Clip.objects.filter(track__timeline=timeline).count() == 5, what="split stored")
    assert Clip.objects.filter(track__timeline=timeline, media_item=with_sound).count() == 4

    # 4. Reload: the same timeline comes back from the server.
    before = clip_rows(page)
    assert before == stored_rows(timeline)
    page.reload()
    expect(page.locator(".tl-clip")).to_have_count(5)
    assert clip_rows(page) == before

    # 5. Export at 720p; the export card shows progress and the result lands in the media panel.
    page.get_by_role("button", name="Export", exact=True).click()
    dialog = page.get_by_role("dialog", name="Export video")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Size").select_option("720p")
    dialog.get_by_label("File name").fill("My first cut")
    dialog.get_by_role("button", name="Start export").click()
    expect(dialog).to_be_hidden()
    export = poll(lambda: Export.objects.filter(owner=user).first(), what="export row")
    card = page.locator(f"#export-{export.pk}")
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-status", "succeeded", timeout=120_000)
    export.refresh_from_db()
    assert (export.width, export.height) == (1280, 720)
    assert export.result is not None
    result_card = page.locator(f"#media-{export.result_id}")
    expect(result_card).to_be_visible(timeout=60_000)
    expect(result_card).to_have_attribute("data-source", "export")


def test_second_tab_sees_edits_live(page, daphne_server, celery_worker, make_user, login, tmp_path):
    user = make_user("two-tabs")
    item = ready_media(user, tmp_path, "Clip", seconds=2.0)
    login(page, daphne_server.url, "two-tabs")
    expect(page.locator(".tl-doc")).to_be_visible()
    other = page.context.new_page()
    other.goto(daphne_server.url + "/")
    expect(other.locator(".tl-doc")).to_be_visible()
    expect(other.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")

    drop_media(page, item.pk, page.locator(".tl-track-video .tl-lane").first, x=10)
    clip = poll(lambda: Clip.objects.filter(track__timeline__owner=user).first(), what="clip")
    expect(other.locator(f"#clip-{clip.pk}")).to_be_visible()

    # Delete in the second tab; the first tab loses the clip too.
    other.locator(f"#clip-{clip.pk}").click()
    other.keyboard.press("Delete")
    expect(page.locator(f"#clip-{clip.pk}")).to_have_count(0)
    # And an undo from the first tab brings it back in both.
    page.keyboard.press("Control+z")
    expect(other.locator(f"#clip-{clip.pk}")).to_be_visible()
    expect(page.locator(f"#clip-{clip.pk}")).to_be_visible()


def test_refused_overlap_shows_a_message_and_keeps_the_timeline(
    page, daphne_server, celery_worker, make_user, login, tmp_path
):
    user = make_user("overlapper")
    a = ready_media(user, tmp_path, "First", seconds=2.0)
    b = ready_media(user, tmp_path, "Second", seconds=2.0)
    login(page, daphne_server.url, "overlapper")
    lane = page.locator(".tl-track-video .tl-lane").first
    drop_media(page, a.pk, lane, x=4)
    expect(page.locator(".tl-clip")).to_have_count(1)
    before = clip_rows(page)
    # Dropping the second clip onto the middle of the first is refused.
    first_box = box_of(page.locator(".tl-clip").first)
    lane_box = box_of(lane)
    drop_media(page, b.pk, lane, x=first_box["x"] - lane_box["x"] + first_box["width"] * 0.4)
    expect(page.get_by_role("alert").filter(has_text="overlap")).to_be_visible()
    expect(page.locator(".tl-clip")).to_have_count(1)
    assert clip_rows(page) == before
