"""As a new user: drop a real video on the media panel, watch it process and get its
poster without a reload, in a second tab too; upload with the button; filter and search;
see a bad file refused with a message."""

import base64

import pytest
from playwright.sync_api import expect

from media_library.models import MediaItem
from media_library.services import THUMBS_COMPLETE
from media_library.testing import make_image_bytes, make_video
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cleanup_media():
    yield
    for item in MediaItem.objects.all():
        for f in (item.file, item.poster, item.filmstrip, item.waveform):
            if f:
                f.storage.delete(f.name)


def drop_file(page, selector: str, name: str, data: bytes, mime: str) -> None:
    """What the browser does when a file from the desktop is dropped: a DataTransfer
    holding a real File, dispatched as dragenter/dragover/drop on the element."""
    transfer = page.evaluate_handle(
        """([name, b64, mime]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: mime }));
            return dt;
        }""",
        [name, base64.b64encode(data).decode(), mime],
    )
    target = page.locator(selector)
    for event in ("dragenter", "dragover", "drop"):
        target.dispatch_event(event, {"dataTransfer": transfer})


def open_workspace(page, base_url):
    page.goto(base_url + "/")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.locator("#media-panel")).to_be_visible()


def test_drop_video_gets_poster_live_in_two_tabs(
    page, daphne_server, celery_worker, make_user, login, tmp_path, cleanup_media
):
    make_user("dropper")
    login(page, daphne_server.url, "dropper")
    open_workspace(page, daphne_server.url)
    other_tab = page.context.new_page()
    open_workspace(other_tab, daphne_server.url)
    expect(page.locator("#media-panel")).to_contain_text("Your clips will appear here")

    video = make_video(
        tmp_path / "beach.mp4", seconds=3, width=320, height=180, black_seconds=1, audio=True
    )
    drop_file(page, "#media-panel .media-grid", "Beach day.mp4", video.read_bytes(), "video/mp4")

    card = page.locator("#media-grid .media-card", has_text="Beach day.mp4")
    expect(card).to_have_count(1)
    expect(card.locator(".media-poster")).to_be_visible(timeout=60_000)
    expect(card).to_have_attribute("data-status", "ready")
    expect(card.locator(".media-duration")).to_have_text("0:03")
    media_id = card.get_attribute("data-media-id")
    # A video's card is pushed twice (keyframe poster, then the refined poster with the
    # filmstrip), each push a new <img>: wait for the second step in the database, then for
    # the card's current poster to have loaded as the real 320 px frame (visible does not
    # mean decoded).
    wait_until(
        lambda: MediaItem.objects.get(pk=media_id).metadata.get("thumbnails") == THUMBS_COMPLETE,
        timeout=60,
        what="the filmstrip and refined poster",
    )
    page.wait_for_function(
        "sel => { const img = document.querySelector(sel);"
        " return !!img && img.complete && img.naturalWidth === 320; }",
        arg=f"#media-{media_id} .media-poster",
    )
    assert (
        card.get_attribute("id") == f"media-{media_id}"
        and card.get_attribute("draggable") == "true"
    )

    # The other tab got the same card pushed, once, with its poster, and no reload.
    other_card = other_tab.locator(f"#media-{media_id}")
    expect(other_card.locator(".media-poster")).to_be_visible(timeout=30_000)
    expect(other_tab.locator("#media-grid .media-card")).to_have_count(1)
    expect(page.locator("#media-grid .media-card")).to_have_count(
        1
    )  # upload response + push: no duplicate
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1

    # Drag data carries the media id for the timeline.
    drag = page.evaluate(
        """(id) => {
            const dt = new DataTransfer();
            document.getElementById('media-' + id).dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
            return [dt.getData('application/x-cutroom-media'), dt.getData('text/plain')];
        }""",
        media_id,
    )
    assert drag == [media_id, f"media:{media_id}"]


def test_button_upload_filter_search_and_bad_file(
    page, daphne_server, celery_worker, make_user, login, tmp_path, cleanup_media
):
    make_user("filterer")
    login(page, daphne_server.url, "filterer")
    open_workspace(page, daphne_server.url)

    video = make_video(tmp_path / "surf.mp4", seconds=1)
    image = tmp_path / "sunset poster.png"
    image.write_bytes(make_image_bytes("PNG", size=(320, 200)))
    bad = tmp_path / "notes.mp4"
    bad.write_text("these are my notes, not a video\n" * 20)
    page.get_by_label("Upload media").set_input_files([str(video), str(image), str(bad)])

    grid = page.locator("#media-grid")
    expect(grid.locator(".media-card[data-status=ready]")).to_have_count(2, timeout=60_000)
    error = page.locator(".media-upload[data-state=error]")
    expect(error).to_contain_text("notes.mp4")
    expect(error).to_contain_text("not a video, image or audio file")
    assert MediaItem.objects.filter(title="notes.mp4").count() == 0

    page.get_by_label("Kind").select_option("image")
    expect(grid.locator(".media-card")).to_have_count(1)
    expect(grid.locator(".media-card")).to_contain_text("sunset poster.png")
    page.get_by_label("Kind").select_option("")
    expect(grid.locator(".media-card")).to_have_count(2)

    page.get_by_label("Search media").fill("surf")
    expect(grid.locator(".media-card")).to_have_count(1)
    expect(grid.locator(".media-card")).to_contain_text("surf.mp4")
    page.get_by_label("Search media").fill("nothing like this")
    expect(page.locator(".media-empty")).to_contain_text("Nothing matches")
