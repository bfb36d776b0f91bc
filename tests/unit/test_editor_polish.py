"""The export card push inserts itself where a tab lacks it, and "Add to timeline" (the
media card's action for screens where nothing can be dragged) appends through one
undoable edit."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from editor import services
from editor.live import export_fragment
from editor.models import Clip, Track
from editor.services.exports import export_mark_running
from editor.templatetags.editor_tags import timecode
from media_library.models import MediaItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(user):
    def make(kind="video", duration=4.0, has_audio=False, owner=None):
        return MediaItem.objects.create(
            owner=owner or user,
            kind=kind,
            title=f"{kind} {duration}",
            file=f"u1/{kind}.bin",
            duration_s=None if kind == "image" else duration,
            has_audio=has_audio,
            status=MediaItem.Status.READY,
        )

    return make


@pytest.fixture
def timeline(user):
    return services.timeline_create(owner=user, name="Cut 1")


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


def append(client, timeline, item):
    return client.post(reverse("editor:clip_append", args=[timeline.pk]), {"media_id": item.pk})


def lowest_video_track(timeline) -> Track:
    return timeline.tracks.filter(kind="video").order_by("order").last()


# --- The export push -------------------------------------------------------------------------


def test_export_push_inserts_into_the_list_and_the_card_carries_no_oob_of_its_own(timeline, media):
    services.clip_add(
        timeline=timeline, media_item=media(), start_s=0, track=lowest_video_track(timeline)
    )
    export = services.export_start(timeline=timeline, preset="720p")
    html = export_fragment(export)
    wrapper = re.match(r'\s*<div hx-swap-oob="([^"]+)">', html)
    assert wrapper and wrapper.group(1) == "afterbegin:#export-list"
    # Exactly one oob attribute: the card itself must not ask to replace #export-<id>,
    # which a tab that did not start the export does not have.
    assert html.count("hx-swap-oob") == 1
    assert f'id="export-{export.pk}"' in html
    assert 'data-status="queued"' in html
    # A render's start orders two copies of its card (a redelivered render restarts at 0 %).
    assert 'data-started="0"' in html
    running = export_mark_running(export_id=export.pk)
    started = re.search(r'data-started="([\d.]+)"', export_fragment(running)).group(1)
    assert float(started) == pytest.approx(running.started_at.timestamp(), abs=1e-3)


def test_the_export_answer_is_the_bare_card(client_in, timeline, media):
    services.clip_add(
        timeline=timeline, media_item=media(), start_s=0, track=lowest_video_track(timeline)
    )
    response = client_in.post(
        reverse("editor:export_start", args=[timeline.pk]),
        {"preset": "720p", "fps": "30", "file_name": "cut"},
    )
    assert response.status_code == 200, response.content
    body = response.content.decode()
    assert body.lstrip().startswith("<article") and "hx-swap-oob" not in body


# --- Add to timeline -------------------------------------------------------------------------


def test_append_goes_after_the_last_clip_of_v1_in_one_undoable_edit(client_in, timeline, media):
    first = media(duration=4.0)
    second = media(duration=2.5)
    assert append(client_in, timeline, first).status_code == 200
    response = append(client_in, timeline, second)
    assert response.status_code == 200
    assert response["X-Clip-Start"] == "4.000"
    track = lowest_video_track(timeline)
    clips = list(Clip.objects.filter(track=track).order_by("start_s"))
    assert [(c.media_item_id, c.start_s) for c in clips] == [(first.pk, 0.0), (second.pk, 4.0)]
    assert f'id="clip-{clips[1].pk}"' in response.content.decode()
    services.timeline_undo(timeline=timeline)
    assert Clip.objects.filter(track__timeline=timeline).count() == 1


def test_append_of_video_with_sound_brings_its_audio_and_audio_goes_to_a1(
    client_in, timeline, media
):
    append(client_in, timeline, media(duration=3.0, has_audio=True))
    response = append(client_in, timeline, media(kind="audio", duration=2.0))
    assert response.status_code == 200
    # A1 already holds the video's own sound (0..3): the music goes after it.
    assert response["X-Clip-Start"] == "3.000"
    a1 = timeline.tracks.filter(kind="audio").order_by("order").first()
    assert sorted(c.start_s for c in Clip.objects.filter(track=a1)) == [0.0, 3.0]


def test_append_skips_a_locked_track_and_makes_one_when_none_is_left(client_in, timeline, media):
    track = lowest_video_track(timeline)
    services.track_update(track=track, locked=True)
    response = append(client_in, timeline, media(kind="image"))
    assert response.status_code == 200
    assert response["X-Clip-Start"] == "0.000"
    clip = Clip.objects.get(track__timeline=timeline)
    assert clip.track_id != track.pk and clip.track.kind == "video"


def test_append_refuses_media_not_ready_and_someone_elses_media(
    client_in, timeline, media, other_user
):
    pending = media()
    MediaItem.objects.filter(pk=pending.pk).update(status=MediaItem.Status.PROCESSING)
    response = append(client_in, timeline, pending)
    assert response.status_code == 400 and "not ready" in response.content.decode()
    assert append(client_in, timeline, media(owner=other_user)).status_code == 404
    assert not Clip.objects.filter(track__timeline=timeline).exists()


def test_append_needs_login(client, timeline, media):
    response = append(client, timeline, media())
    assert response.status_code == 302


# --- One time format -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seconds,shown",
    [(0, "0:00.0"), (12.04, "0:12.0"), (12.96, "0:12.9"), (75.5, "1:15.5"), (3725.25, "1:02:05.2")],
)
def test_timecode_is_the_transport_and_ruler_format(seconds, shown):
    # Truncated, never rounded up: a playhead at 12.96 s has not reached 0:13.0 yet.
    # The same rule as formatTime in static/js/timeline-core.js.
    assert timecode(seconds) == shown


def test_a_progress_push_renders_the_row_not_the_workers_stale_copy(timeline, media, monkeypatch):
    """The creator cancels while the worker renders: the worker's next progress push must
    not bring the Cancel button back (it used to render its in-memory copy)."""
    from editor import live
    from editor.services.exports import export_cancel, export_set_progress

    services.clip_add(
        timeline=timeline, media_item=media(), start_s=0, track=lowest_video_track(timeline)
    )
    started = services.export_start(timeline=timeline, preset="720p")
    workers_copy = export_mark_running(export_id=started.pk)
    export_cancel(export=started)  # the creator's request: flags the row, not workers_copy
    assert workers_copy.cancel_requested is False

    pushed: list[str] = []
    monkeypatch.setattr(live, "broadcast_on_commit", lambda _user, html: pushed.append(html()))
    export_set_progress(export=workers_copy, fraction=0.5, eta_s=3.0)
    assert len(pushed) == 1
    assert "Cancelling…" in pushed[0]
    assert "editor:export_cancel" not in pushed[0] and ">Cancel</button>" not in pushed[0]
    assert 'data-status="running"' in pushed[0]
