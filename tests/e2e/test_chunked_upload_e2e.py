"""As a user: a video goes up in several chunks (the server names a small chunk size here)
and its card appears and gets ready; an upload cut off by a reload resumes from the
server's offset when the same file is chosen again, and the stored file is the source."""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import expect

from media_library.models import MediaItem, UploadSession
from media_library.testing import make_video
from tests.harness.chunked_upload import web_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHUNK = 16 * 1024


@pytest.fixture
def web(process_env):
    with web_server({**process_env, "UPLOAD_CHUNK_BYTES": str(CHUNK)}) as server:
        yield server


def open_workspace(page, base_url):
    page.goto(base_url + "/")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    expect(page.locator("#media-panel")).to_be_visible()


def a_video(tmp_path, name="clip.mp4"):
    video = make_video(tmp_path / name, seconds=4, width=480, height=270, audio=True)
    assert video.stat().st_size > 4 * CHUNK, "the test video must span several chunks"
    return video


def test_upload_in_several_chunks_shows_the_card(
    page, web, celery_worker, make_user, login, tmp_path, cleanup_media
):
    make_user("chunker")
    login(page, web.url, "chunker")
    open_workspace(page, web.url)
    video = a_video(tmp_path)
    offsets: list[int] = []
    page.on(
        "request",
        lambda r: offsets.append(int(r.headers["upload-offset"])) if r.method == "PATCH" else None,
    )

    page.get_by_label("Upload media").set_input_files(str(video))

    card = page.locator("#media-grid .media-card", has_text="clip.mp4")
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-status", "ready", timeout=60_000)
    size = video.stat().st_size
    assert offsets == list(range(0, size, CHUNK))  # every chunk once, in order
    item = MediaItem.objects.get(title="clip.mp4")
    assert hashlib.sha256(item.file.read()).digest() == hashlib.sha256(video.read_bytes()).digest()
    expect(page.locator(".media-upload[data-state=error]")).to_have_count(0)


def test_reload_mid_upload_then_the_same_file_resumes(
    page, web, celery_worker, make_user, login, tmp_path, cleanup_media
):
    make_user("resumer")
    login(page, web.url, "resumer")
    open_workspace(page, web.url)
    video = a_video(tmp_path, "long take.mp4")
    size = video.stat().st_size

    # Let two chunks through, then the network "fails" for every further chunk.
    passed, failed = [], []

    def flaky(route):
        if route.request.method != "PATCH":
            return route.continue_()
        if len(passed) < 2:
            passed.append(route.request.headers["upload-offset"])
            return route.continue_()
        failed.append(route.request.headers["upload-offset"])
        return route.abort()

    page.route("**/media/uploads/*/", flaky)
    page.get_by_label("Upload media").set_input_files(str(video))
    # (Playwright runs route handlers only while it is called: wait through it.)
    expect(page.locator(".media-upload-status")).to_contain_text("retrying", timeout=20_000)
    assert failed and failed[0] == str(2 * CHUNK)
    session = UploadSession.objects.get(owner__username="resumer")
    assert session.offset == 2 * CHUNK

    page.unroute("**/media/uploads/*/")
    page.reload()
    open_workspace(page, web.url)
    offsets: list[int] = []
    page.on(
        "request",
        lambda r: offsets.append(int(r.headers["upload-offset"])) if r.method == "PATCH" else None,
    )
    page.get_by_label("Upload media").set_input_files(str(video))

    card = page.locator("#media-grid .media-card", has_text="long take.mp4")
    expect(card).to_have_attribute("data-status", "ready", timeout=60_000)
    assert offsets[0] == 2 * CHUNK  # resumed from the server's offset, not from 0
    assert offsets == list(range(2 * CHUNK, size, CHUNK))
    assert UploadSession.objects.filter(owner__username="resumer").count() == 1
    item = MediaItem.objects.get(title="long take.mp4")
    assert item.file.read() == video.read_bytes()
    # Done: the browser forgot the file, so choosing it again is a new upload.
    assert page.evaluate("localStorage.getItem('cutroom.uploads.v1')") == "{}"


def test_without_a_chunked_route_the_single_request_form_uploads(
    page, web, celery_worker, make_user, login, tmp_path, cleanup_media
):
    """The panel's fallback (one multipart POST) shares the chunk's request helper and
    progress bar: the file goes up in one request and its card appears."""
    make_user("oneshot")
    login(page, web.url, "oneshot")
    open_workspace(page, web.url)
    page.locator("#media-panel").evaluate("el => el.removeAttribute('data-upload-sessions-url')")
    video = a_video(tmp_path, "one go.mp4")
    requests: list[str] = []
    page.on(
        "request", lambda r: requests.append(f"{r.method} {r.url}") if "/media/" in r.url else None
    )

    page.get_by_label("Upload media").set_input_files(str(video))

    card = page.locator("#media-grid .media-card", has_text="one go.mp4")
    expect(card).to_have_attribute("data-status", "ready", timeout=60_000)
    assert f"POST {web.url}/media/upload/" in requests
    assert not [r for r in requests if r.startswith("PATCH") or "/media/uploads/" in r]
    item = MediaItem.objects.get(title="one go.mp4")
    assert item.file.read() == video.read_bytes()
    expect(page.locator(".media-upload[data-state=error]")).to_have_count(0)
