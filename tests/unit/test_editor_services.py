"""Editing services: placement, overlap refusal, trim bounds, split, ripple, paste,
locks, and undo/redo round trips. No files are needed: clips only reference MediaItems."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from editor import selectors, services
from editor.models import Clip, EditOperation, Track
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


def tracks(timeline, kind):
    return list(timeline.tracks.filter(kind=kind).order_by("order"))


def state(timeline):
    """Every clip as comparable tuples (track, media, start, in, out, volume, linked?)."""
    return sorted(
        (c.track_id, c.media_item_id, c.start_s, c.in_s, c.out_s, c.volume, bool(c.link_group))
        for c in Clip.objects.filter(track__timeline=timeline)
    )


def message(exc_info) -> str:
    return exc_info.value.messages[0]


def test_create_gives_one_video_and_one_audio_track(timeline):
    assert [t.kind for t in timeline.tracks.order_by("order")] == ["video", "audio"]
    assert (timeline.width, timeline.height, timeline.fps) == (1920, 1080, 30.0)


@pytest.mark.parametrize(
    "preset,size",
    [("1080x1920", (1080, 1920)), ("1080x1080", (1080, 1080)), ("1280x720", (1280, 720))],
)
def test_presets(user, preset, size):
    t = services.timeline_create(owner=user, name="x", preset=preset, fps=24)
    assert (t.width, t.height, t.fps) == (*size, 24.0)


@pytest.mark.parametrize("kwargs", [{"preset": "640x480"}, {"fps": 7}, {"name": "   "}])
def test_create_refuses_bad_input(user, kwargs):
    with pytest.raises(ValidationError):
        services.timeline_create(owner=user, **{"name": "x", **kwargs})


def test_add_video_with_audio_places_linked_audio(timeline, media):
    item = media(duration=4.0, has_audio=True)
    v1 = tracks(timeline, "video")[0]
    video, audio = services.clip_add(timeline=timeline, media_item=item, start_s=1.5, track=v1)
    assert video.track_id == v1.pk
    assert audio.track.kind == "audio"
    assert video.link_group and video.link_group == audio.link_group
    assert (audio.start_s, audio.in_s, audio.out_s) == (1.5, 0.0, 4.0)


def test_add_without_track_makes_new_track_of_right_kind(timeline, media):
    (clip,) = services.clip_add(timeline=timeline, media_item=media(kind="audio"), start_s=0)
    assert clip.track.kind == "audio"
    assert len(tracks(timeline, "audio")) == 2
    (vclip,) = services.clip_add(timeline=timeline, media_item=media(), start_s=0)
    assert vclip.track.kind == "video"
    # New video track goes with the video tracks, above every audio track.
    kinds = [t.kind for t in timeline.tracks.order_by("order")]
    assert kinds == ["video", "video", "audio", "audio"]


def test_image_gets_default_length(timeline, media):
    v1 = tracks(timeline, "video")[0]
    (clip,) = services.clip_add(
        timeline=timeline, media_item=media(kind="image"), start_s=2, track=v1
    )
    assert clip.duration_s == 5.0


def test_audio_refused_on_video_track(timeline, media):
    v1 = tracks(timeline, "video")[0]
    with pytest.raises(ValidationError) as exc:
        services.clip_add(timeline=timeline, media_item=media(kind="audio"), start_s=0, track=v1)
    assert "audio track" in message(exc)
    assert state(timeline) == []


def test_someone_elses_media_refused(timeline, media, other_user):
    with pytest.raises(ValidationError):
        services.clip_add(timeline=timeline, media_item=media(owner=other_user), start_s=0)


def test_unready_media_refused(timeline, media):
    item = media()
    item.status = MediaItem.Status.PROCESSING
    item.save()
    with pytest.raises(ValidationError):
        services.clip_add(timeline=timeline, media_item=item, start_s=0)


def test_overlap_refused_and_nothing_stored(timeline, media):
    v1 = tracks(timeline, "video")[0]
    services.clip_add(timeline=timeline, media_item=media(duration=4), start_s=0, track=v1)
    before = state(timeline)
    ops = EditOperation.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.clip_add(timeline=timeline, media_item=media(duration=4), start_s=3.999, track=v1)
    assert "overlap" in message(exc)
    assert state(timeline) == before
    assert EditOperation.objects.count() == ops
    # Touching edges is fine.
    services.clip_add(timeline=timeline, media_item=media(duration=4), start_s=4, track=v1)


def test_linked_audio_finds_free_audio_track(timeline, media):
    a1 = tracks(timeline, "audio")[0]
    services.clip_add(
        timeline=timeline, media_item=media(kind="audio", duration=5), start_s=0, track=a1
    )
    v1 = tracks(timeline, "video")[0]
    _video, audio = services.clip_add(
        timeline=timeline, media_item=media(duration=3, has_audio=True), start_s=2, track=v1
    )
    assert audio.track_id != a1.pk and audio.track.kind == "audio"


def test_move_refuses_overlap_and_moves_linked(timeline, media):
    v1 = tracks(timeline, "video")[0]
    a, a_audio = services.clip_add(
        timeline=timeline, media_item=media(duration=3, has_audio=True), start_s=0, track=v1
    )
    (b,) = services.clip_add(timeline=timeline, media_item=media(duration=3), start_s=5, track=v1)
    moved = services.clip_move(clip=a, start_s=10)
    a_audio.refresh_from_db()
    assert (moved.start_s, a_audio.start_s) == (10.0, 10.0)
    with pytest.raises(ValidationError):
        services.clip_move(clip=a, start_s=6)
    a.refresh_from_db()
    assert a.start_s == 10.0
    with pytest.raises(ValidationError):
        services.clip_move(clip=b, start_s=-1)


def test_move_to_other_track_and_new_track(timeline, media):
    v1 = tracks(timeline, "video")[0]
    (a,) = services.clip_add(timeline=timeline, media_item=media(), start_s=0, track=v1)
    moved = services.clip_move(clip=a, start_s=1, new_track=True)
    assert moved.track_id != v1.pk and moved.track.kind == "video"
    back = services.clip_move(clip=a, start_s=2, track=v1)
    assert back.track_id == v1.pk
    a1 = tracks(timeline, "audio")[0]
    with pytest.raises(ValidationError):
        services.clip_move(clip=a, start_s=2, track=a1)


def test_trim_bounds(timeline, media):
    v1 = tracks(timeline, "video")[0]
    (c,) = services.clip_add(timeline=timeline, media_item=media(duration=6), start_s=2, track=v1)
    c = services.clip_trim(clip=c, edge="in", in_s=1.5)
    # The end stays put: the start moves right with the in point.
    assert (c.start_s, c.in_s, c.out_s, c.end_s) == (3.5, 1.5, 6.0, 8.0)
    c = services.clip_trim(clip=c, edge="out", out_s=4)
    assert (c.out_s, c.end_s) == (4.0, 6.0)
    for kwargs in (
        {"edge": "out", "out_s": 6.001},  # past the end of the source
        {"edge": "in", "in_s": -0.01},  # before its start
        {"edge": "in", "in_s": 4},  # zero length
        {"edge": "out", "out_s": 1.5},
        {"edge": "middle", "in_s": 1},
    ):
        with pytest.raises(ValidationError):
            services.clip_trim(clip=c, **kwargs)
    c.refresh_from_db()
    assert (c.start_s, c.in_s, c.out_s) == (3.5, 1.5, 4.0)


def test_trim_in_cannot_push_start_before_zero(timeline, media):
    v1 = tracks(timeline, "video")[0]
    (c,) = services.clip_add(
        timeline=timeline, media_item=media(duration=6), start_s=0.5, track=v1, in_s=2, out_s=5
    )
    with pytest.raises(ValidationError):
        services.clip_trim(clip=c, edge="in", in_s=1)
    assert services.clip_trim(clip=c, edge="in", in_s=1.5).start_s == 0.0


def test_trim_refuses_overlap_with_neighbour(timeline, media):
    v1 = tracks(timeline, "video")[0]
    (a,) = services.clip_add(
        timeline=timeline, media_item=media(duration=6), start_s=0, track=v1, out_s=3
    )
    services.clip_add(timeline=timeline, media_item=media(duration=6), start_s=3, track=v1)
    with pytest.raises(ValidationError):
        services.clip_trim(clip=a, edge="out", out_s=4)


def test_split_linked_pair(timeline, media):
    v1 = tracks(timeline, "video")[0]
    video, audio = services.clip_add(
        timeline=timeline, media_item=media(duration=8, has_audio=True), start_s=1, track=v1
    )
    left, right = services.clip_split(clip=video, at_s=4)
    assert (left.start_s, left.in_s, left.out_s) == (1.0, 0.0, 3.0)
    assert (right.start_s, right.in_s, right.out_s) == (4.0, 3.0, 8.0)
    audio_halves = Clip.objects.filter(track=audio.track).order_by("start_s")
    assert [(c.start_s, c.in_s, c.out_s) for c in audio_halves] == [(1, 0, 3), (4, 3, 8)]
    assert right.link_group == audio_halves[1].link_group != left.link_group
    with pytest.raises(ValidationError):
        services.clip_split(clip=left, at_s=4)  # at the edge: nothing to split


def test_split_three_selected_clips_is_one_undo_step(timeline, media):
    v1 = tracks(timeline, "video")[0]
    v2 = services.track_create(timeline=timeline, kind="video")
    v3 = services.track_create(timeline=timeline, kind="video")
    video, audio = services.clip_add(
        timeline=timeline, media_item=media(duration=8, has_audio=True), start_s=0, track=v1
    )
    (b,) = services.clip_add(timeline=timeline, media_item=media(duration=6), start_s=1, track=v2)
    (c,) = services.clip_add(timeline=timeline, media_item=media(duration=6), start_s=2, track=v3)
    before = state(timeline)
    ops_before = EditOperation.objects.filter(timeline=timeline).count()
    rights = services.clips_split_at(timeline=timeline, clips=[video, b.pk, c], at_s=4)
    # Three selected clips plus the video's linked audio: four cuts, one history entry.
    assert sorted((r.track_id, r.start_s, r.in_s) for r in rights) == sorted(
        [(v1.pk, 4.0, 4.0), (audio.track_id, 4.0, 4.0), (v2.pk, 4.0, 3.0), (v3.pk, 4.0, 2.0)]
    )
    assert EditOperation.objects.filter(timeline=timeline).count() == ops_before + 1
    video_right, audio_right = (r for r in rights if r.track_id in (v1.pk, audio.track_id))
    assert video_right.link_group == audio_right.link_group != video.link_group
    assert b.pk not in {r.pk for r in rights} and len(state(timeline)) == 8
    services.timeline_undo(timeline=timeline)
    assert state(timeline) == before
    services.timeline_redo(timeline=timeline)
    assert len(state(timeline)) == 8


def test_split_at_playhead_without_selection_skips_locked_tracks(timeline, media):
    v1 = tracks(timeline, "video")[0]
    v2 = services.track_create(timeline=timeline, kind="video")
    (a,) = services.clip_add(timeline=timeline, media_item=media(duration=6), start_s=0, track=v1)
    (b,) = services.clip_add(timeline=timeline, media_item=media(duration=6), start_s=0, track=v2)
    services.track_update(track=v2, locked=True)
    rights = services.clips_split_at(timeline=timeline, at_s=3)
    assert [r.track_id for r in rights] == [v1.pk]
    assert Clip.objects.filter(track=v2).count() == 1


@pytest.mark.parametrize(
    "case,expected",
    [
        ("outside", "playhead inside"),  # no selected clip under the playhead
        ("at_edge", "playhead inside"),  # a cut closer than MIN_CLIP_S to an edge
        ("locked", "locked"),  # one of the selected clips is on a locked track
        ("foreign", "no longer on this timeline"),  # a clip of another timeline
        ("empty", "Select a clip"),
        ("bad_time", "number of seconds"),
    ],
)
def test_split_refused_changes_nothing(timeline, media, user, case, expected):
    v1 = tracks(timeline, "video")[0]
    v2 = services.track_create(timeline=timeline, kind="video")
    (a,) = services.clip_add(timeline=timeline, media_item=media(duration=6), start_s=0, track=v1)
    (b,) = services.clip_add(timeline=timeline, media_item=media(duration=6), start_s=0, track=v2)
    other = services.timeline_create(owner=user, name="Other")
    (foreign,) = services.clip_add(timeline=other, media_item=media(duration=6), start_s=0)
    services.track_update(track=v2, locked=case == "locked")
    clips, at = {
        "outside": ([a, b], 30),
        "at_edge": ([a, b], 0.02),
        "locked": ([a, b], 3),
        "foreign": ([a, foreign], 3),
        "empty": ([], 3),
        "bad_time": ([a], "soon"),
    }[case]
    before = state(timeline)
    ops_before = list(EditOperation.objects.filter(timeline=timeline).values_list("pk", flat=True))
    with pytest.raises(ValidationError) as exc:
        services.clips_split_at(timeline=timeline, clips=clips, at_s=at)
    assert expected in message(exc)
    assert state(timeline) == before
    ops_after = EditOperation.objects.filter(timeline=timeline).values_list("pk", flat=True)
    assert list(ops_after) == ops_before


def test_delete_takes_linked_and_ripple_closes_gap(timeline, media):
    v1 = tracks(timeline, "video")[0]
    a, _ = services.clip_add(
        timeline=timeline, media_item=media(duration=2, has_audio=True), start_s=0, track=v1
    )
    b, b_audio = services.clip_add(
        timeline=timeline, media_item=media(duration=3, has_audio=True), start_s=2, track=v1
    )
    c, c_audio = services.clip_add(
        timeline=timeline, media_item=media(duration=1, has_audio=True), start_s=6, track=v1
    )
    assert services.clip_ripple_delete(clip=b) == 2
    c.refresh_from_db()
    c_audio.refresh_from_db()
    # The 1 s gap between b and c stays, b's 3 s are closed on both tracks.
    assert c.start_s == 3.0 and c_audio.start_s == 3.0
    assert services.clip_delete(clip=a) == 2
    assert Clip.objects.filter(track__timeline=timeline).count() == 2


def test_locked_track_refuses_edits(timeline, media):
    v1 = tracks(timeline, "video")[0]
    (a,) = services.clip_add(timeline=timeline, media_item=media(), start_s=0, track=v1)
    services.track_update(track=v1, locked=True)
    for call in (
        lambda: services.clip_move(clip=a, start_s=3),
        lambda: services.clip_delete(clip=a),
        lambda: services.clip_trim(clip=a, edge="out", out_s=2),
        lambda: services.clip_add(timeline=timeline, media_item=media(), start_s=20, track=v1),
    ):
        with pytest.raises(ValidationError) as exc:
            call()
        assert "locked" in message(exc)


def test_paste_keeps_relative_timing_and_refuses_overlap(timeline, media, user):
    v1 = tracks(timeline, "video")[0]
    (a,) = services.clip_add(timeline=timeline, media_item=media(duration=2), start_s=1, track=v1)
    (b,) = services.clip_add(timeline=timeline, media_item=media(duration=2), start_s=4, track=v1)
    pasted = services.clips_paste(timeline=timeline, clips=[a.pk, b.pk], at_s=10)
    assert sorted(c.start_s for c in pasted) == [10.0, 13.0]
    with pytest.raises(ValidationError):
        services.clips_paste(timeline=timeline, clips=[a], at_s=11)
    other = services.timeline_create(owner=user, name="Other")
    copies = services.clips_paste(timeline=other, clips=[a], at_s=0)
    assert copies[0].track.timeline_id == other.pk and copies[0].track.kind == "video"


def test_undo_redo_round_trip(timeline, media):
    v1 = tracks(timeline, "video")[0]
    states = [state(timeline)]
    video, _audio = services.clip_add(
        timeline=timeline, media_item=media(duration=8, has_audio=True), start_s=0, track=None
    )
    states.append(state(timeline))
    services.clip_move(clip=video, start_s=2)
    states.append(state(timeline))
    left, right = services.clip_split(clip=video, at_s=5)
    states.append(state(timeline))
    services.clip_trim(clip=right, edge="out", out_s=7)
    states.append(state(timeline))
    services.clip_ripple_delete(clip=left)
    states.append(state(timeline))
    track_count = Track.objects.filter(timeline=timeline).count()
    for expected in reversed(states[:-1]):
        assert services.timeline_undo(timeline=timeline) is not None
        assert state(timeline) == expected
    assert services.timeline_undo(timeline=timeline) is None
    # The video track clip_add created (track=None) is gone again after undoing it; the
    # linked audio went onto the free A1.
    assert Track.objects.filter(timeline=timeline).count() == track_count - 1 == 2
    for expected in states[1:]:
        assert services.timeline_redo(timeline=timeline) is not None
        assert state(timeline) == expected
    assert services.timeline_redo(timeline=timeline) is None
    # Clip ids survive undo/redo (the UI keeps its clip-<id> elements).
    assert Clip.objects.filter(pk=right.pk).exists()
    assert v1.pk in Track.objects.values_list("pk", flat=True)


def test_new_edit_after_undo_drops_redo(timeline, media):
    v1 = tracks(timeline, "video")[0]
    (a,) = services.clip_add(timeline=timeline, media_item=media(), start_s=0, track=v1)
    services.clip_move(clip=a, start_s=5)
    services.timeline_undo(timeline=timeline)
    services.clip_move(clip=a, start_s=7)
    assert services.timeline_redo(timeline=timeline) is None
    assert services.timeline_undo(timeline=timeline).label == "Move clip"
    a.refresh_from_db()
    assert a.start_s == 0.0


def test_undo_of_track_toggle(timeline):
    v1 = tracks(timeline, "video")[0]
    services.track_update(track=v1, hidden=True)
    services.timeline_undo(timeline=timeline)
    v1.refresh_from_db()
    assert v1.hidden is False


def test_undo_refused_when_media_was_deleted(timeline, media):
    v1 = tracks(timeline, "video")[0]
    item = media()
    (a,) = services.clip_add(timeline=timeline, media_item=item, start_s=0, track=v1)
    services.clip_delete(clip=a)
    item.delete()
    with pytest.raises(ValidationError):
        services.timeline_undo(timeline=timeline)
    assert EditOperation.objects.filter(undone=True).count() == 0


def test_media_in_use_is_protected(timeline, media):
    from django.db.models import ProtectedError

    item = media()
    services.clip_add(timeline=timeline, media_item=item, start_s=0)
    with pytest.raises(ProtectedError):
        item.delete()
    assert [t.name for t in selectors.timelines_using_media(media_item=item)] == ["Cut 1"]


def test_duplicate_copies_clips_and_links(timeline, media):
    v1 = tracks(timeline, "video")[0]
    services.clip_add(timeline=timeline, media_item=media(has_audio=True), start_s=1, track=v1)
    copy = services.timeline_duplicate(timeline=timeline)
    assert copy.name == "Cut 1 (copy)"
    assert [s[2:] for s in state(copy)] == [s[2:] for s in state(timeline)]
    groups = set(Clip.objects.filter(track__timeline=copy).values_list("link_group", flat=True))
    original = set(
        Clip.objects.filter(track__timeline=timeline).values_list("link_group", flat=True)
    )
    assert len(groups) == 1 and groups != original


def test_timeline_state_in_constant_queries(timeline, media, django_assert_max_num_queries):
    v1 = tracks(timeline, "video")[0]
    for i in range(6):
        services.clip_add(
            timeline=timeline, media_item=media(has_audio=True), start_s=i * 10, track=v1
        )
    with django_assert_max_num_queries(5):
        st = selectors.timeline_state(timeline=timeline)
        titles = [c.media_item.title for row in st.rows for c in row.clips]
    assert len(titles) == 12
    assert st.duration_s == 60.0
    assert st.can_undo and not st.can_redo
    assert [row.label for row in st.rows] == ["V1", "A1"]
