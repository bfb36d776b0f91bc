"""Editor views: login, ownership (someone else's timeline/clip/media/export is a 404), bad
input as a 400 with one readable sentence, refused edits leave the stored timeline as it
was, and the fragments carry what the browser code relies on."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from editor import services
from editor.models import Clip, Export, Timeline, Track
from editor.views import SESSION_KEY
from media_library.models import MediaItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(user):
    def make(kind="video", duration=10.0, has_audio=False, owner=None, title=None, **extra):
        return MediaItem.objects.create(
            owner=owner or user,
            kind=kind,
            title=title or f"{kind} {duration}",
            file=f"u1/{kind}.bin",
            duration_s=None if kind == "image" else duration,
            has_audio=has_audio,
            status=MediaItem.Status.READY,
            **extra,
        )

    return make


@pytest.fixture
def timeline(user):
    return services.timeline_create(owner=user, name="Cut 1")


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


def v1(timeline) -> Track:
    return timeline.tracks.filter(kind="video").order_by("order").first()


def url(name, *args):
    return reverse(f"editor:{name}", args=args)


def stored(timeline):
    return sorted(
        (c.track_id, c.start_s, c.in_s, c.out_s)
        for c in Clip.objects.filter(track__timeline=timeline)
    )


def text(response) -> str:
    return response.content.decode()


# --- Login and the panel ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args,method",
    [
        ("editor_panel", (), "get"),
        ("timeline_list", (), "get"),
        ("timeline_create", (), "post"),
        ("timeline", (1,), "get"),
        ("clip_add", (1,), "post"),
        ("timeline_undo", (1,), "post"),
        ("export_start", (1,), "post"),
        ("export_cancel", (1,), "post"),
    ],
)
def test_every_view_needs_login(client, name, args, method):
    response = getattr(client, method)(url(name, *args))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_workspace_page_loads_editor_assets_with_nonce(client_in):
    response = client_in.get(url("workspace"))
    assert response.status_code == 200
    body = text(response)
    assert "css/editor.css" in body
    script = re.search(r'<script type="module" src="[^"]*js/timeline\.js" nonce="([^"]+)"', body)
    assert script, "timeline.js must be loaded from the page with the CSP nonce"
    assert f"'nonce-{script.group(1)}'" in response["Content-Security-Policy"]


def test_new_user_gets_a_timeline_and_the_panel(client_in, user):
    assert not Timeline.objects.filter(owner=user).exists()
    body = text(client_in.get(url("editor_panel")))
    timeline = Timeline.objects.get(owner=user)
    assert f'id="timeline-{timeline.pk}"' in body
    assert 'role="region" aria-label="Timeline"' in body
    assert ">Export</button>" in body or "Export</button>" in body
    assert 'id="export-dialog"' in body
    assert 'hx-trigger="live:resync from:body"' in body
    # Presets offered for a new timeline.
    for preset in ("1920x1080", "1080x1920", "1080x1080", "1280x720"):
        assert f'value="{preset}"' in body
    # Loading the panel twice does not make a second timeline.
    client_in.get(url("editor_panel"))
    assert Timeline.objects.filter(owner=user).count() == 1


def test_current_timeline_is_remembered_in_the_session(client_in, user, timeline):
    other = services.timeline_create(owner=user, name="Second cut")
    response = client_in.post(url("timeline_open", timeline.pk))
    assert response.status_code == 200
    assert client_in.session[SESSION_KEY] == timeline.pk
    # The timeline just opened stays current even though "other" is more recent.
    assert other.updated_at >= timeline.updated_at
    body = text(client_in.get(url("editor_panel")))
    assert f'data-timeline-id="{timeline.pk}"' in body
    assert 'aria-current="true"' in body


def test_create_with_preset_opens_it(client_in, user):
    response = client_in.post(url("timeline_create"), {"name": "Reel", "preset": "1080x1920"})
    assert response.status_code == 200
    created = Timeline.objects.get(owner=user, name="Reel")
    assert (created.width, created.height) == (1080, 1920)
    assert client_in.session[SESSION_KEY] == created.pk
    assert "--ar: 1080 / 1920" in text(response)


def test_create_with_unknown_preset_is_a_clear_400(client_in, user):
    response = client_in.post(url("timeline_create"), {"name": "Reel", "preset": "800x600"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "Size:" in text(response)
    assert not Timeline.objects.filter(owner=user, name="Reel").exists()


def test_rename_duplicate_delete(client_in, user, timeline, media):
    services.clip_add(timeline=timeline, media_item=media(), start_s=0, track=v1(timeline))
    assert client_in.post(url("timeline_rename", timeline.pk), {"name": "  "}).status_code == 400
    response = client_in.post(url("timeline_rename", timeline.pk), {"name": "Final cut"})
    assert response.status_code == 200
    timeline.refresh_from_db()
    assert timeline.name == "Final cut"

    response = client_in.post(url("timeline_duplicate", timeline.pk))
    copy = Timeline.objects.exclude(pk=timeline.pk).get(owner=user)
    assert copy.name == "Final cut (copy)"
    assert Clip.objects.filter(track__timeline=copy).count() == 1
    assert client_in.session[SESSION_KEY] == copy.pk

    response = client_in.post(url("timeline_delete", copy.pk))
    assert response.status_code == 200
    assert not Timeline.objects.filter(pk=copy.pk).exists()
    assert client_in.session[SESSION_KEY] == timeline.pk
    assert f'id="timeline-{timeline.pk}"' in text(response)


# --- Ownership -----------------------------------------------------------------------------------


def test_someone_elses_timeline_is_404_everywhere(client, other_user, timeline, media):
    client.force_login(other_user)
    clip = services.clip_add(timeline=timeline, media_item=media(), start_s=0, track=v1(timeline))[
        0
    ]
    before = stored(timeline)
    for name in ("timeline_open", "timeline_rename", "timeline_duplicate", "timeline_delete"):
        assert client.post(url(name, timeline.pk), {"name": "x"}).status_code == 404, name
    assert client.get(url("timeline", timeline.pk)).status_code == 404
    assert client.get(url("export_list", timeline.pk)).status_code == 404
    posts = {
        "clip_add": {"media_id": clip.media_item_id, "start": "20"},
        "clip_move": {"clip_id": clip.pk, "start": "5"},
        "clips_shift": {"clip_ids": str(clip.pk), "delta": "1"},
        "clip_trim": {"clip_id": clip.pk, "edge": "out", "point": "3"},
        "clips_split": {"at": "2"},
        "clips_delete": {"clip_ids": str(clip.pk)},
        "clips_paste": {"clip_ids": str(clip.pk), "at": "30"},
        "timeline_undo": {},
        "timeline_redo": {},
        "export_start": {"preset": "720p", "fps": "30", "file_name": "x"},
    }
    for name, data in posts.items():
        assert client.post(url(name, timeline.pk), data).status_code == 404, name
    track = v1(timeline)
    toggle = url("track_toggle", timeline.pk, track.pk)
    assert client.post(toggle, {"field": "muted", "value": "1"}).status_code == 404
    assert stored(timeline) == before
    assert Timeline.objects.filter(pk=timeline.pk, name="Cut 1").exists()


def test_someone_elses_clip_or_media_on_my_timeline_is_404(
    client_in, user, other_user, timeline, media
):
    theirs = services.timeline_create(owner=other_user, name="Theirs")
    their_media = media(owner=other_user)
    their_clip = services.clip_add(
        timeline=theirs, media_item=their_media, start_s=0, track=v1(theirs)
    )[0]
    mine = v1(timeline)
    cases = {
        "clip_add": {"media_id": their_media.pk, "start": "0", "track_id": mine.pk},
        "clip_move": {"clip_id": their_clip.pk, "start": "3"},
        "clip_trim": {"clip_id": their_clip.pk, "edge": "out", "point": "3"},
        "clips_delete": {"clip_ids": str(their_clip.pk)},
        "clips_split": {"at": "1", "clip_ids": str(their_clip.pk)},
        "clips_paste": {"clip_ids": str(their_clip.pk), "at": "0"},
    }
    for name, data in cases.items():
        assert client_in.post(url(name, timeline.pk), data).status_code == 404, name
    # Their track id on my timeline.
    response = client_in.post(
        url("clip_add", timeline.pk),
        {"media_id": media().pk, "start": "0", "track_id": v1(theirs).pk},
    )
    assert response.status_code == 404
    assert not Clip.objects.filter(track__timeline=timeline).exists()
    assert Clip.objects.filter(pk=their_clip.pk, start_s=0).exists()


def test_someone_elses_export_cannot_be_cancelled(client, other_user, timeline, media):
    services.clip_add(timeline=timeline, media_item=media(), start_s=0, track=v1(timeline))
    export = services.export_start(timeline=timeline, preset="720p")
    client.force_login(other_user)
    assert client.post(url("export_cancel", export.pk)).status_code == 404
    export.refresh_from_db()
    assert export.status == Export.Status.QUEUED


# --- Edits ----------------------------------------------------------------------------------------


def test_drop_on_a_track_places_the_clip_and_answers_the_fragment(client_in, timeline, media):
    item = media(duration=4.0)
    track = v1(timeline)
    response = client_in.post(
        url("clip_add", timeline.pk), {"media_id": item.pk, "start": "2.5", "track_id": track.pk}
    )
    assert response.status_code == 200
    clip = Clip.objects.get(track=track)
    assert (clip.start_s, clip.in_s, clip.out_s) == (2.5, 0.0, 4.0)
    body = text(response)
    assert body.lstrip().startswith(f'<div id="timeline-{timeline.pk}"')
    assert "hx-swap-oob" not in body  # our own answer; pushes carry it
    assert f'id="clip-{clip.pk}"' in body
    assert 'data-start="2.500"' in body and 'data-out="4.000"' in body
    assert "--start: 2.500; --len: 4.000;" in body
    assert reverse("media_library:file", args=[item.pk]) in body
    timeline.refresh_from_db()
    assert f'data-revision="{timeline.revision}"' in body
    assert 'data-can-undo="1"' in body


def test_drop_below_last_track_makes_a_track_and_brings_the_audio(client_in, timeline, media):
    item = media(duration=3.0, has_audio=True)
    tracks_before = timeline.tracks.count()
    response = client_in.post(url("clip_add", timeline.pk), {"media_id": item.pk, "start": "0"})
    assert response.status_code == 200
    assert timeline.tracks.count() == tracks_before + 1
    clips = list(Clip.objects.filter(track__timeline=timeline).select_related("track"))
    assert sorted(c.track.kind for c in clips) == ["audio", "video"]
    assert clips[0].link_group == clips[1].link_group is not None
    for c in clips:
        assert f'id="clip-{c.pk}"' in text(response)


def test_filmstrip_and_waveform_urls_are_in_the_fragment(client_in, timeline, media):
    video = media(
        duration=4.0, filmstrip="u1/derived/fs.jpg", filmstrip_frames=10, width=320, height=180
    )
    sound = media(kind="audio", duration=4.0, waveform="u1/derived/wf.png")
    services.clip_add(timeline=timeline, media_item=video, start_s=0, track=v1(timeline))
    services.clip_add(timeline=timeline, media_item=sound, start_s=0)
    body = text(client_in.get(url("timeline", timeline.pk)))
    assert reverse("media_library:derived", args=[video.pk, "filmstrip"]) in body
    assert 'data-frames="10"' in body and 'data-aspect="320/180"' in body
    assert reverse("media_library:derived", args=[sound.pk, "waveform"]) in body
    assert ">V1<" in body and ">A1<" in body


@pytest.mark.parametrize(
    "data,needle",
    [
        ({"start": "abc"}, "Start time: Enter a number."),
        ({"start": "-1"}, "Start time:"),
        ({"start": "inf"}, "Start time:"),
        ({"start": "nan"}, "Start time:"),
        ({"start": "1", "media_id": "x"}, "Media item:"),
        ({"start": "1", "track_id": "0"}, "Track:"),
    ],
)
def test_add_with_bad_input_is_a_clear_400(client_in, timeline, media, data, needle):
    payload = {"media_id": media().pk, **data}
    response = client_in.post(url("clip_add", timeline.pk), payload)
    assert response.status_code == 400
    assert needle in text(response)
    assert not Clip.objects.filter(track__timeline=timeline).exists()


def test_refused_overlap_keeps_the_stored_timeline(client_in, timeline, media):
    track = v1(timeline)
    a = services.clip_add(timeline=timeline, media_item=media(duration=4), start_s=0, track=track)[
        0
    ]
    b = services.clip_add(timeline=timeline, media_item=media(duration=4), start_s=5, track=track)[
        0
    ]
    before = stored(timeline)
    response = client_in.post(url("clip_move", timeline.pk), {"clip_id": b.pk, "start": "2"})
    assert response.status_code == 400
    assert "overlap" in text(response)
    assert stored(timeline) == before
    # Same refusal for a media dropped over an existing clip.
    response = client_in.post(
        url("clip_add", timeline.pk),
        {"media_id": a.media_item_id, "start": "1", "track_id": track.pk},
    )
    assert response.status_code == 400 and "overlap" in text(response)
    assert stored(timeline) == before


def test_move_between_tracks_and_to_a_new_track(client_in, timeline, media):
    clip = services.clip_add(timeline=timeline, media_item=media(), start_s=0, track=v1(timeline))[
        0
    ]
    second = services.track_create(timeline=timeline, kind="video")
    response = client_in.post(
        url("clip_move", timeline.pk), {"clip_id": clip.pk, "start": "3", "track_id": second.pk}
    )
    assert response.status_code == 200
    clip.refresh_from_db()
    assert (clip.track_id, clip.start_s) == (second.pk, 3.0)
    count = timeline.tracks.count()
    response = client_in.post(
        url("clip_move", timeline.pk), {"clip_id": clip.pk, "start": "1", "new_track": "1"}
    )
    assert response.status_code == 200
    clip.refresh_from_db()
    assert timeline.tracks.count() == count + 1 and clip.track_id not in (second.pk,)


def test_trim_both_edges_and_refuse_past_the_source(client_in, timeline, media):
    clip = services.clip_add(
        timeline=timeline, media_item=media(duration=6), start_s=2, track=v1(timeline)
    )[0]
    trim = url("clip_trim", timeline.pk)
    assert (
        client_in.post(trim, {"clip_id": clip.pk, "edge": "in", "point": "1.5"}).status_code == 200
    )
    assert (
        client_in.post(trim, {"clip_id": clip.pk, "edge": "out", "point": "5"}).status_code == 200
    )
    clip.refresh_from_db()
    assert (clip.start_s, clip.in_s, clip.out_s) == (3.5, 1.5, 5.0)
    response = client_in.post(trim, {"clip_id": clip.pk, "edge": "out", "point": "7"})
    assert response.status_code == 400 and "end of the source" in text(response)
    response = client_in.post(trim, {"clip_id": clip.pk, "edge": "middle", "point": "1"})
    assert response.status_code == 400 and "Edge:" in text(response)
    clip.refresh_from_db()
    assert (clip.start_s, clip.in_s, clip.out_s) == (3.5, 1.5, 5.0)


def test_split_at_playhead_without_selection_cuts_every_clip_under_it(client_in, timeline, media):
    item = media(duration=6, has_audio=True)
    services.clip_add(timeline=timeline, media_item=item, start_s=0, track=v1(timeline))
    other = services.track_create(timeline=timeline, kind="video")
    services.clip_add(timeline=timeline, media_item=media(duration=6), start_s=1, track=other)
    response = client_in.post(url("clips_split", timeline.pk), {"at": "2"})
    assert response.status_code == 200
    starts = sorted(c.start_s for c in Clip.objects.filter(track__timeline=timeline))
    # video+audio pair and the other clip: each cut once at 2 s.
    assert starts == [0.0, 0.0, 1.0, 2.0, 2.0, 2.0]
    response = client_in.post(url("clips_split", timeline.pk), {"at": "30"})
    assert response.status_code == 400 and "playhead inside" in text(response)


def test_split_only_the_selected_clip(client_in, timeline, media):
    a = services.clip_add(
        timeline=timeline, media_item=media(duration=6), start_s=0, track=v1(timeline)
    )[0]
    other = services.track_create(timeline=timeline, kind="video")
    b = services.clip_add(timeline=timeline, media_item=media(duration=6), start_s=0, track=other)[
        0
    ]
    response = client_in.post(url("clips_split", timeline.pk), {"at": "3", "clip_ids": str(a.pk)})
    assert response.status_code == 200
    assert Clip.objects.filter(track=a.track).count() == 2
    assert Clip.objects.filter(track=b.track).count() == 1


def test_delete_ripple_shift_and_paste(client_in, timeline, media):
    track = v1(timeline)
    a = services.clip_add(timeline=timeline, media_item=media(duration=2), start_s=0, track=track)[
        0
    ]
    b = services.clip_add(timeline=timeline, media_item=media(duration=2), start_s=2, track=track)[
        0
    ]
    c = services.clip_add(timeline=timeline, media_item=media(duration=2), start_s=4, track=track)[
        0
    ]
    response = client_in.post(
        url("clips_delete", timeline.pk), {"clip_ids": str(b.pk), "ripple": "1"}
    )
    assert response.status_code == 200
    c.refresh_from_db()
    assert c.start_s == 2.0
    response = client_in.post(
        url("clips_shift", timeline.pk), {"clip_ids": f"{a.pk},{c.pk}", "delta": "1"}
    )
    assert response.status_code == 200
    assert stored(timeline) == [(track.pk, 1.0, 0.0, 2.0), (track.pk, 3.0, 0.0, 2.0)]
    response = client_in.post(url("clips_paste", timeline.pk), {"clip_ids": str(a.pk), "at": "10"})
    assert response.status_code == 200
    assert Clip.objects.filter(track=track, start_s=10).count() == 1
    response = client_in.post(url("clips_delete", timeline.pk), {"clip_ids": str(a.pk)})
    assert response.status_code == 200
    assert not Clip.objects.filter(pk=a.pk).exists()
    assert f'id="clip-{a.pk}"' not in text(response)


@pytest.mark.parametrize(
    "ids,needle",
    [("", "Clips: This field is required."), ("1,x", "whole numbers"), ("1;2", "whole numbers")],
)
def test_bad_clip_id_lists_are_a_clear_400(client_in, timeline, ids, needle):
    response = client_in.post(url("clips_delete", timeline.pk), {"clip_ids": ids})
    assert response.status_code == 400
    assert needle in text(response)


def test_undo_redo_round_trip_and_nothing_left(client_in, timeline, media):
    response = client_in.post(url("timeline_undo", timeline.pk))
    assert response.status_code == 400 and text(response) == "Nothing to undo."
    client_in.post(
        url("clip_add", timeline.pk),
        {"media_id": media().pk, "start": "1", "track_id": v1(timeline).pk},
    )
    after_add = stored(timeline)
    response = client_in.post(url("timeline_undo", timeline.pk))
    assert response.status_code == 200 and stored(timeline) == []
    assert 'data-can-redo="1"' in text(response)
    response = client_in.post(url("timeline_redo", timeline.pk))
    assert response.status_code == 200 and stored(timeline) == after_add
    assert client_in.post(url("timeline_redo", timeline.pk)).status_code == 400


def test_track_toggles(client_in, timeline):
    track = v1(timeline)
    toggle = url("track_toggle", timeline.pk, track.pk)
    response = client_in.post(toggle, {"field": "hidden", "value": "1"})
    assert response.status_code == 200
    track.refresh_from_db()
    assert track.hidden
    assert 'data-hidden="1"' in text(response)
    assert client_in.post(toggle, {"field": "volume", "value": "1"}).status_code == 400
    assert client_in.post(toggle, {"field": "locked", "value": "yes"}).status_code == 400


def test_locked_track_refuses_edits_with_its_reason(client_in, timeline, media):
    track = v1(timeline)
    clip = services.clip_add(timeline=timeline, media_item=media(), start_s=0, track=track)[0]
    services.track_update(track=track, locked=True)
    response = client_in.post(url("clip_move", timeline.pk), {"clip_id": clip.pk, "start": "4"})
    assert response.status_code == 400 and "locked" in text(response)
    clip.refresh_from_db()
    assert clip.start_s == 0


def test_get_is_not_an_edit(client_in, timeline):
    assert client_in.get(url("clip_add", timeline.pk)).status_code == 405
    assert client_in.get(url("timeline_undo", timeline.pk)).status_code == 405


# --- Exports -----------------------------------------------------------------------------------


def test_export_start_answers_the_card_and_lists_it(client_in, timeline, media):
    services.clip_add(
        timeline=timeline, media_item=media(duration=3), start_s=0, track=v1(timeline)
    )
    response = client_in.post(
        url("export_start", timeline.pk), {"preset": "720p", "fps": "25", "file_name": "teaser"}
    )
    assert response.status_code == 200
    export = Export.objects.get(timeline=timeline)
    assert (export.width, export.height, export.fps, export.preset) == (1280, 720, 25.0, "720p")
    assert f'id="export-{export.pk}"' in text(response)
    listing = text(client_in.get(url("export_list", timeline.pk)))
    assert f'id="export-{export.pk}"' in listing
    panel = text(client_in.get(url("editor_panel")))
    assert f'id="export-{export.pk}"' in panel
    response = client_in.post(url("export_cancel", export.pk))
    assert response.status_code == 200
    export.refresh_from_db()
    assert export.status == Export.Status.CANCELLED


@pytest.mark.parametrize(
    "data,needle",
    [
        ({"preset": "4k", "fps": "30", "file_name": "a"}, "Size:"),
        ({"preset": "720p", "fps": "31", "file_name": "a"}, "Frame rate:"),
        ({"preset": "720p", "fps": "30", "file_name": ""}, "File name:"),
    ],
)
def test_export_bad_input_is_a_clear_400(client_in, timeline, media, data, needle):
    services.clip_add(
        timeline=timeline, media_item=media(duration=3), start_s=0, track=v1(timeline)
    )
    response = client_in.post(url("export_start", timeline.pk), data)
    assert response.status_code == 400
    assert needle in text(response)
    assert not Export.objects.exists()


def test_export_of_an_empty_timeline_is_refused_with_the_reason(client_in, timeline):
    response = client_in.post(
        url("export_start", timeline.pk), {"preset": "720p", "fps": "30", "file_name": "x"}
    )
    assert response.status_code == 400
    assert "empty" in text(response)


def test_empty_track_can_be_removed_and_its_button_only_shows_when_empty(
    client_in, timeline, media
):
    extra = services.track_create(timeline=timeline, kind="video")
    services.clip_add(timeline=timeline, media_item=media(), start_s=0, track=v1(timeline))
    body = text(client_in.get(url("timeline", timeline.pk)))
    assert body.count('data-action="track-delete"') == 2  # the new video track and A1
    response = client_in.post(url("track_delete", timeline.pk, extra.pk))
    assert response.status_code == 200
    assert not Track.objects.filter(pk=extra.pk).exists()
    assert f'id="track-{extra.pk}"' not in text(response)
    # Someone else's track id in my timeline's URL.
    assert client_in.post(url("track_delete", timeline.pk, 999999)).status_code == 404
