"""Per-clip fades and volume (the inspector's edits): each one validated, undoable and
recorded alone; refused input changes nothing; trims and splits keep the fades inside the
clip; the export spec carries them, and specs and snapshots from before fades still load."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from editor import services
from editor.export.spec import TimelineSpec
from editor.models import Clip, EditOperation
from editor.services.export_sources import timeline_spec
from editor.services.history import apply_snapshot
from media_library.models import MediaItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def timeline(user):
    return services.timeline_create(owner=user, name="Fades")


@pytest.fixture
def pair(user, timeline):
    """A 4 s video with sound placed at 1 s: [video clip, linked audio clip]."""
    item = MediaItem.objects.create(
        owner=user,
        kind="video",
        title="shot",
        file="u1/shot.mp4",
        duration_s=10.0,
        has_audio=True,
        status=MediaItem.Status.READY,
    )
    v1 = timeline.tracks.get(kind="video")
    return services.clip_add(
        timeline=timeline, media_item=item, start_s=1, track=v1, in_s=0, out_s=4
    )


def mix(clip):
    clip.refresh_from_db()
    return (clip.fade_in_s, clip.fade_out_s, clip.volume)


def test_new_clips_have_no_fades_and_full_volume(pair):
    assert [mix(c) for c in pair] == [(0.0, 0.0, 1.0), (0.0, 0.0, 1.0)]


def test_fade_is_one_undoable_edit_of_that_clip_only(timeline, pair):
    video, audio = pair
    ops = EditOperation.objects.filter(timeline=timeline).count()
    services.clip_set_fade(clip=video, edge="in", seconds=0.5004)
    services.clip_set_fade(clip=video, edge="out", seconds="1.25")
    assert mix(video) == (0.5, 1.25, 1.0)
    assert mix(audio) == (0.0, 0.0, 1.0)  # the linked audio keeps its own fades
    assert EditOperation.objects.filter(timeline=timeline).count() == ops + 2
    assert EditOperation.objects.filter(timeline=timeline).last().label == "Fade out"
    services.timeline_undo(timeline=timeline)
    assert mix(video) == (0.5, 0.0, 1.0)
    services.timeline_undo(timeline=timeline)
    assert mix(video) == (0.0, 0.0, 1.0)
    services.timeline_redo(timeline=timeline)
    assert mix(video) == (0.5, 0.0, 1.0)


def test_audio_fades_and_volume(timeline, pair):
    _, audio = pair
    services.clip_set_fade(clip=audio, edge="in", seconds=1)
    services.clip_set_volume(clip=audio, volume=1.8)
    assert mix(audio) == (1.0, 0.0, 1.8)
    services.timeline_undo(timeline=timeline)
    assert mix(audio) == (1.0, 0.0, 1.0)


@pytest.mark.parametrize(
    "edge,seconds,needle",
    [
        ("in", 4.5, "The fade in can't be longer than the clip (4.00 s)."),
        ("out", -0.1, "The fade out can't be negative."),
        ("in", "soon", "The fade in must be a number of seconds."),
        ("in", "nan", "The fade in must be a number of seconds."),
        ("in", 3.5, "The fade in and fade out together can't be longer than the clip"),
        ("sideways", 1, "Set the fade in or the fade out."),
    ],
)
def test_bad_fades_are_refused_and_change_nothing(timeline, pair, edge, seconds, needle):
    video, _ = pair
    services.clip_set_fade(clip=video, edge="out", seconds=1)
    ops = EditOperation.objects.filter(timeline=timeline).count()
    revision_before = mix(video)
    with pytest.raises(ValidationError) as exc:
        services.clip_set_fade(clip=video, edge=edge, seconds=seconds)
    assert needle in exc.value.messages[0]
    assert mix(video) == revision_before
    assert EditOperation.objects.filter(timeline=timeline).count() == ops


@pytest.mark.parametrize(
    "volume,needle",
    [
        (2.01, "Volume must be between 0 and 200 %."),
        (-1, "Volume must be between 0 and 200 %."),
        ("loud", "Volume must be a number."),
        ("inf", "Volume must be a number."),
    ],
)
def test_bad_volume_is_refused(pair, volume, needle):
    _, audio = pair
    with pytest.raises(ValidationError) as exc:
        services.clip_set_volume(clip=audio, volume=volume)
    assert exc.value.messages[0] == needle
    assert mix(audio) == (0.0, 0.0, 1.0)


def test_locked_track_refuses_a_fade(timeline, pair):
    video, _ = pair
    services.track_update(track=video.track, locked=True)
    with pytest.raises(ValidationError, match="locked"):
        services.clip_set_fade(clip=video, edge="in", seconds=1)


def test_trim_shortens_fades_to_fit_and_undo_restores_them(timeline, pair):
    video, audio = pair
    services.clip_set_fade(clip=video, edge="in", seconds=1)
    services.clip_set_fade(clip=video, edge="out", seconds=2)
    services.clip_trim(clip=video, edge="out", out_s=2.5)  # 4 s -> 2.5 s
    assert mix(video) == (0.5, 2.0, 1.0)
    services.timeline_undo(timeline=timeline)
    assert mix(video) == (1.0, 2.0, 1.0)


def test_split_keeps_the_fade_in_left_and_the_fade_out_right(timeline, pair):
    video, _ = pair
    services.clip_set_fade(clip=video, edge="in", seconds=1.5)
    services.clip_set_fade(clip=video, edge="out", seconds=2)
    left, right = services.clip_split(clip=video, at_s=2)  # 1 s | 3 s
    assert mix(left) == (1.0, 0.0, 1.0)
    assert mix(right) == (0.0, 2.0, 1.0)
    services.timeline_undo(timeline=timeline)
    assert mix(video) == (1.5, 2.0, 1.0)
    assert not Clip.objects.filter(pk=right.pk).exists()


def test_paste_and_duplicate_copy_the_fades(user, timeline, pair):
    video, audio = pair
    services.clip_set_fade(clip=video, edge="in", seconds=0.75)
    services.clip_set_volume(clip=audio, volume=0.5)
    pasted = services.clips_paste(timeline=timeline, clips=[video], at_s=8)
    assert sorted(mix(c) for c in pasted) == [(0.0, 0.0, 0.5), (0.75, 0.0, 1.0)]
    copy = services.timeline_duplicate(timeline=timeline)
    copied = Clip.objects.filter(track__timeline=copy)
    assert sorted(c.fade_in_s for c in copied) == [0.0, 0.0, 0.75, 0.75]


def test_export_spec_carries_the_fades(timeline, pair):
    video, audio = pair
    services.clip_set_fade(clip=video, edge="out", seconds=1)
    services.clip_set_fade(clip=audio, edge="in", seconds=0.5)
    spec = timeline_spec(timeline)
    by_kind = {t.kind: t.clips[0] for t in spec.tracks if t.clips}
    assert (by_kind["video"].fade_in_s, by_kind["video"].fade_out_s) == (0.0, 1.0)
    assert (by_kind["audio"].fade_in_s, by_kind["audio"].fade_out_s) == (0.5, 0.0)
    assert TimelineSpec.from_dict(spec.to_dict()) == spec


def test_specs_and_snapshots_from_before_fades_still_load(timeline, pair):
    old = {
        "tracks": [
            {
                "kind": "audio",
                "clips": [
                    {
                        "path": "/x.wav",
                        "media_kind": "audio",
                        "start_s": 0,
                        "in_s": 0,
                        "out_s": 1,
                        "volume": 1.0,
                        "has_audio": True,
                        "src_fps": None,
                    }
                ],
            }
        ]
    }
    clip = TimelineSpec.from_dict(old).tracks[0].clips[0]
    assert (clip.fade_in_s, clip.fade_out_s) == (0.0, 0.0)
    # An undo step recorded before fades existed has no fade keys: applying it keeps the
    # clip's fades instead of failing.
    video, _ = pair
    services.clip_set_fade(clip=video, edge="in", seconds=1)
    fields = {
        "track_id": video.track_id,
        "media_item_id": video.media_item_id,
        "start_s": 2.0,
        "in_s": 0.0,
        "out_s": 4.0,
        "volume": 1.0,
        "link_group": str(video.link_group),
    }
    apply_snapshot(timeline, {"tracks": {}, "clips": {str(video.pk): fields}})
    video.refresh_from_db()
    assert (video.start_s, video.fade_in_s) == (2.0, 1.0)


# --- The endpoint --------------------------------------------------------------------------


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


def prop_url(timeline):
    return reverse("editor:clip_prop", args=[timeline.pk])


def test_endpoint_sets_a_fade_and_answers_the_fragment(client_in, timeline, pair):
    video, audio = pair
    r = client_in.post(prop_url(timeline), {"clip_id": video.pk, "field": "fade_in", "value": "1"})
    assert r.status_code == 200
    body = r.content.decode()
    assert 'data-fade-in="1.000"' in body
    r = client_in.post(prop_url(timeline), {"clip_id": audio.pk, "field": "volume", "value": "1.5"})
    assert r.status_code == 200 and 'data-volume="1.500"' in r.content.decode()
    assert mix(video)[0] == 1.0 and mix(audio)[2] == 1.5


@pytest.mark.parametrize(
    "field,value,sentence",
    [
        ("fade_out", "9", "The fade out can't be longer than the clip (4.00 s)."),
        ("fade_in", "abc", "The fade in must be a number of seconds."),
        ("volume", "3", "Volume must be between 0 and 200 %."),
        ("speed", "1", "Property: Select a valid choice."),
        ("fade_in", "", "Value: This field is required."),
    ],
)
def test_endpoint_refuses_with_the_field_sentence(
    client_in, timeline, pair, field, value, sentence
):
    video, _ = pair
    r = client_in.post(prop_url(timeline), {"clip_id": video.pk, "field": field, "value": value})
    assert r.status_code == 400
    assert r.content.decode().startswith(sentence)
    assert mix(video) == (0.0, 0.0, 1.0)
    assert EditOperation.objects.filter(timeline=timeline, label__startswith="Fade").count() == 0


def test_endpoint_is_404_for_someone_elses_clip(client, other_user, timeline, pair):
    client.force_login(other_user)
    r = client.post(prop_url(timeline), {"clip_id": pair[0].pk, "field": "fade_in", "value": "1"})
    assert r.status_code == 404
