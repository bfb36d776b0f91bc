"""The media panel over HTTP: grid, filters, paging cost, uploads, actions, file serving."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from media_library import selectors, services, tasks
from media_library.models import MediaItem
from media_library.testing import make_video

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    sent = []
    monkeypatch.setattr(
        "project.live.broadcast", lambda uid, html: sent.append((uid, html)) or True
    )
    monkeypatch.setattr(tasks.process_media, "delay", lambda media_id: None)
    return sent


@pytest.fixture
def alice_client(client, user):
    client.force_login(user)
    return client


def bulk_items(owner, n, **fields):
    now = timezone.now()
    rows = [
        MediaItem(
            owner=owner,
            kind=fields.get("kind", ["video", "image", "audio"][i % 3]),
            title=fields.get("title", f"clip {i}"),
            file=f"u{owner.id}/f{i}.mp4",
            status="ready",
            source=fields.get("source", "upload"),
            duration_s=12.5,
            metadata=fields.get("metadata", {}),
        )
        for i in range(n)
    ]
    made = MediaItem.objects.bulk_create(rows)
    # Distinct, increasing timestamps: newest = last created.
    for i, item in enumerate(made):
        MediaItem.objects.filter(pk=item.pk).update(created_at=now - timedelta(seconds=n - i))
    return made


def card_ids(html: str) -> list[int]:
    import re

    return [int(x) for x in re.findall(r'<article id="media-(\d+)"', html)]


def test_panel_requires_login(client):
    response = client.get(reverse("media_library:panel"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_panel_shows_cards_newest_first_with_drag_data(alice_client, user, other_user):
    items = bulk_items(user, 3)
    bulk_items(other_user, 2, title="not yours")
    html = alice_client.get(reverse("media_library:panel")).content.decode()
    assert card_ids(html) == [i.pk for i in reversed(items)]
    assert "not yours" not in html
    assert 'aria-label="Upload media"' in html and 'type="file"' in html and "multiple" in html
    assert f'data-media-id="{items[0].pk}"' in html and 'draggable="true"' in html
    assert 'data-kind="video"' in html and 'data-duration="12.5"' in html
    assert "0:12" in html or "0:13" in html  # duration badge
    assert 'hx-trigger="live:resync from:body"' in html and 'hx-include="#media-filters"' in html


def test_generated_card_has_ai_badge_with_model(alice_client, user):
    bulk_items(user, 1, source="generated", metadata={"model": "kling-2.1", "prompt": "a fox"})
    html = alice_client.get(reverse("media_library:panel")).content.decode()
    assert "AI · kling-2.1" in html


def test_filters_and_search_title_and_prompt(alice_client, user):
    bulk_items(user, 4, kind="video", title="beach day")
    gen = bulk_items(
        user,
        2,
        kind="video",
        source="generated",
        title="take",
        metadata={"prompt": "Neon city at night"},
    )
    imgs = bulk_items(user, 3, kind="image", title="poster art")
    grid = reverse("media_library:grid")
    assert set(card_ids(alice_client.get(grid, {"kind": "image"}).content.decode())) == {
        i.pk for i in imgs
    }
    assert set(card_ids(alice_client.get(grid, {"source": "generated"}).content.decode())) == {
        i.pk for i in gen
    }
    assert set(card_ids(alice_client.get(grid, {"q": "neon CITY"}).content.decode())) == {
        i.pk for i in gen
    }
    assert len(card_ids(alice_client.get(grid, {"q": "beach"}).content.decode())) == 4
    assert card_ids(alice_client.get(grid, {"q": "beach", "kind": "image"}).content.decode()) == []
    assert "Nothing matches" in alice_client.get(grid, {"q": "zzz"}).content.decode()
    # Unknown filter values are ignored, not errors.
    assert (
        len(card_ids(alice_client.get(grid, {"kind": "<script>", "source": "x"}).content.decode()))
        == 9
    )


def test_keyset_paging_walks_everything_once(alice_client, user):
    items = bulk_items(user, 120)
    seen, url = [], reverse("media_library:grid")
    html = alice_client.get(url).content.decode()
    seen += card_ids(html)
    while 'id="media-more"' in html:
        import re

        url = re.search(r'id="media-more" hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
        html = alice_client.get(url).content.decode()
        seen += card_ids(html)
    assert seen == [i.pk for i in reversed(items)]
    assert len(seen) == len(set(seen)) == 120


def test_paging_keeps_filters(alice_client, user):
    bulk_items(user, 60, kind="image")
    bulk_items(user, 60, kind="video")
    html = alice_client.get(reverse("media_library:grid"), {"kind": "image"}).content.decode()
    import re

    more = re.search(r'id="media-more" hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "kind=image" in more
    page2 = alice_client.get(more).content.decode()
    assert 'data-kind="video"' not in page2 and len(card_ids(page2)) == 12


def test_bad_cursor_shows_first_page(alice_client, user):
    bulk_items(user, 3)
    html = alice_client.get(reverse("media_library:grid"), {"cursor": "!!garbage"}).content.decode()
    assert len(card_ids(html)) == 3


@pytest.mark.parametrize("count", [5, 300])
def test_query_count_is_constant(alice_client, user, count, django_assert_num_queries):
    bulk_items(user, count)
    page = selectors.media_list(owner=user)
    # session + user + one page query, whatever the library's size or the page number
    with django_assert_num_queries(3):
        alice_client.get(reverse("media_library:panel"))
    if page.next_cursor:
        with django_assert_num_queries(3):
            alice_client.get(reverse("media_library:grid"), {"cursor": page.next_cursor})


# --- upload endpoint -----------------------------------------------------------------------


def test_upload_returns_processing_card(alice_client, user, tmp_path, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # exercise the temp-file upload path too
    data = make_video(tmp_path / "clip.mp4", seconds=1).read_bytes()
    response = alice_client.post(
        reverse("media_library:upload"), {"file": SimpleUploadedFile("My clip.mp4", data)}
    )
    assert response.status_code == 201
    item = MediaItem.objects.get(owner=user)
    html = response.content.decode()
    assert (
        f'id="media-{item.pk}"' in html
        and 'data-status="processing"' in html
        and "My clip.mp4" in html
    )


def test_upload_errors_are_json_with_a_message(alice_client, media_root):
    url = reverse("media_library:upload")
    bad = alice_client.post(url, {"file": SimpleUploadedFile("x.mp4", b"not a video at all" * 10)})
    assert bad.status_code == 400 and "not a video, image or audio" in bad.json()["error"]
    empty = alice_client.post(url, {"file": SimpleUploadedFile("x.mp4", b"")})
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    missing = alice_client.post(url, {})
    assert missing.status_code == 400 and "No file" in missing.json()["error"]
    assert MediaItem.objects.count() == 0 and not any(p.is_file() for p in media_root.rglob("*"))


def test_upload_too_large_refused_from_content_length(alice_client, settings):
    settings.MEDIA_MAX_UPLOAD_MB = 1
    response = alice_client.post(
        reverse("media_library:upload"),
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=zz",
        CONTENT_LENGTH=str(3 * 1024 * 1024),
    )
    assert response.status_code == 413 and "limit is 1 MB" in response.json()["error"]


def test_upload_needs_post(alice_client):
    assert alice_client.get(reverse("media_library:upload")).status_code == 405


# --- actions ------------------------------------------------------------------------------


def test_other_users_get_404_everywhere(client, user, other_user, tmp_path):
    item = make_ready_video(user, tmp_path)
    client.force_login(other_user)
    for name in ("card", "details", "rename", "delete", "file"):
        assert client.get(reverse(f"media_library:{name}", args=[item.pk])).status_code == 404, name
    for variant in ("poster", "filmstrip", "waveform"):
        assert (
            client.get(reverse("media_library:derived", args=[item.pk, variant])).status_code == 404
        )
    assert client.post(reverse("media_library:delete", args=[item.pk])).status_code == 404
    assert (
        client.post(reverse("media_library:rename", args=[item.pk]), {"title": "mine"}).status_code
        == 404
    )
    item.refresh_from_db()
    assert item.title == "clip.mp4"


def make_ready_video(owner, tmp_path, **kw):
    path = make_video(tmp_path / "clip.mp4", seconds=2, width=320, height=180, **kw)
    item = services.media_create_from_file(
        owner=owner, path_or_file=path, title="clip.mp4", source="upload"
    )
    services.media_process(media_id=item.pk)
    item.refresh_from_db()
    return item


def test_details_show_everything_for_generated(alice_client, user, tmp_path):
    item = make_ready_video(user, tmp_path)
    item.source = "generated"
    item.metadata.update(
        prompt="A <b>fox</b> in snow", model="veo-3", cost_usd=1.25, job_id=42, seed=7
    )
    item.save()
    html = alice_client.get(reverse("media_library:details", args=[item.pk])).content.decode()
    for text in (
        "veo-3",
        "A &lt;b&gt;fox&lt;/b&gt; in snow",
        "$1.25",
        "42",
        "320 × 180",
        "h264",
        "Seed",
        "<video",
    ):
        assert text in html, text


def test_rename_via_drawer(alice_client, user, tmp_path, quiet):
    item = make_ready_video(user, tmp_path)
    url = reverse("media_library:rename", args=[item.pk])
    assert 'name="title"' in alice_client.get(url).content.decode()
    bad = alice_client.post(url, {"title": "   "}).content.decode()
    assert "Please enter a name." in bad
    html = alice_client.post(url, {"title": "Final cut"}).content.decode()
    assert 'hx-swap-oob="outerHTML"' in html and "Final cut" in html
    assert MediaItem.objects.get(pk=item.pk).title == "Final cut"


def test_delete_confirmation_names_timelines(alice_client, user, tmp_path):
    from editor import services as editor_services

    item = make_ready_video(user, tmp_path)
    # The editor answers media_item_usage: two timelines use the item (one twice).
    trailer = editor_services.timeline_create(owner=user, name="Trailer")
    editor_services.clip_add(timeline=trailer, media_item=item, start_s=0)
    editor_services.clip_add(timeline=trailer, media_item=item, start_s=5)
    cut_b = editor_services.timeline_create(owner=user, name="Cut B")
    editor_services.clip_add(timeline=cut_b, media_item=item, start_s=0)
    editor_services.timeline_create(owner=user, name="Unused")
    html = alice_client.get(reverse("media_library:delete", args=[item.pk])).content.decode()
    assert (
        "used in 2 timelines" in html and "<strong>Cut B</strong>, <strong>Trailer</strong>" in html
    )
    assert "Unused" not in html


def test_delete_without_editor_or_clips(alice_client, user, tmp_path, media_root):
    item = make_ready_video(user, tmp_path)
    assert (
        "not used in any timeline"
        in alice_client.get(reverse("media_library:delete", args=[item.pk])).content.decode()
    )
    html = alice_client.post(reverse("media_library:delete", args=[item.pk])).content.decode()
    assert f'<div id="media-{item.pk}" hx-swap-oob="delete">' in html
    assert not MediaItem.objects.exists()


# --- serving -----------------------------------------------------------------------------


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_file_served_inline_with_nosniff_and_ranges(alice_client, user, tmp_path):
    item = make_ready_video(user, tmp_path)
    data = open(item.file.path, "rb").read()
    url = reverse("media_library:file", args=[item.pk])
    full = alice_client.get(url)
    assert full.status_code == 200 and body(full) == data
    assert full["Content-Type"] == "video/mp4" and full["X-Content-Type-Options"] == "nosniff"
    assert full["Content-Disposition"].startswith("inline") and full["Accept-Ranges"] == "bytes"
    part = alice_client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206 and body(part) == data[100:200]
    assert part["Content-Range"] == f"bytes 100-199/{len(data)}" and part["Content-Length"] == "100"
    tail = alice_client.get(url, HTTP_RANGE="bytes=-50")
    assert tail.status_code == 206 and body(tail) == data[-50:]
    open_end = alice_client.get(url, HTTP_RANGE=f"bytes={len(data) - 10}-")
    assert body(open_end) == data[-10:]
    beyond = alice_client.get(url, HTTP_RANGE=f"bytes={len(data)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(data)}"
    multi = alice_client.get(url, HTTP_RANGE="bytes=0-1,5-6")
    assert multi.status_code == 200 and body(multi) == data
    download = alice_client.get(url, {"download": "1"})
    assert download["Content-Disposition"].startswith('attachment; filename="clip.mp4"')


def test_unlisted_types_are_attachments(alice_client, user, tmp_path):
    item = make_ready_video(user, tmp_path)
    MediaItem.objects.filter(pk=item.pk).update(mime_type="text/html")
    response = alice_client.get(reverse("media_library:file", args=[item.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_derived_images_served(alice_client, user, tmp_path):
    item = make_ready_video(user, tmp_path)
    poster = alice_client.get(reverse("media_library:derived", args=[item.pk, "poster"]))
    assert (
        poster.status_code == 200
        and poster["Content-Type"] == "image/jpeg"
        and body(poster)[:2] == b"\xff\xd8"
    )
    assert (
        alice_client.get(reverse("media_library:derived", args=[item.pk, "waveform"])).status_code
        == 404
    )
    assert (
        alice_client.get(reverse("media_library:derived", args=[item.pk, "secrets"])).status_code
        == 404
    )


def test_accel_redirect_mode(alice_client, user, tmp_path, settings):
    item = make_ready_video(user, tmp_path)
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    response = alice_client.get(reverse("media_library:file", args=[item.pk]))
    assert response["X-Accel-Redirect"] == f"/protected-media/{item.file.name}"
    assert response.content == b"" and response["Content-Type"] == "video/mp4"


def test_card_endpoint_and_upload_json_shape(alice_client, user, tmp_path):
    item = make_ready_video(user, tmp_path)
    html = alice_client.get(reverse("media_library:card", args=[item.pk])).content.decode()
    assert (
        'data-status="ready"' in html and f'data-filmstrip-frames="{item.filmstrip_frames}"' in html
    )
    assert json.loads(alice_client.post(reverse("media_library:upload")).content)["error"]


def test_delete_sends_signal_and_reports_protected_clips(alice_client, user, tmp_path):
    from django.db.models import ProtectedError

    from media_library.signals import media_item_deleting

    item = make_ready_video(user, tmp_path)
    calls = []

    def still_used(sender, item, **kwargs):
        calls.append(item.pk)
        raise ProtectedError("clips use it", set())

    media_item_deleting.connect(still_used)
    try:
        html = alice_client.post(reverse("media_library:delete", args=[item.pk])).content.decode()
    finally:
        media_item_deleting.disconnect(still_used)
    assert calls == [item.pk]
    assert "Remove its clips from the timeline first" in html
    assert MediaItem.objects.filter(pk=item.pk).exists() and open(item.file.path, "rb")
