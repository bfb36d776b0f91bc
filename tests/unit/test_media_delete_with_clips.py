"""Deleting a media item used on timelines removes its clips through the editor (an undo
step per timeline), and a locked track refuses with a message, deleting nothing."""

import pytest

from editor.models import Clip
from editor.services import clip_add, timeline_create, track_update
from media_library.models import MediaItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip_media(user, tmp_path):
    item = MediaItem.objects.create(
        owner=user,
        kind="image",
        title="Still",
        file="u1/still.png",
        status="ready",
        width=64,
        height=64,
        mime_type="image/png",
    )
    return item


def test_delete_removes_clips_and_names_timelines_first(client, user, clip_media):
    timeline = timeline_create(owner=user, name="Trailer <cut>")
    clip_add(timeline=timeline, media_item=clip_media, start_s=0)
    client.force_login(user)
    confirm = client.get(f"/media/{clip_media.pk}/delete/").content.decode()
    assert "Trailer &lt;cut&gt;" in confirm  # the confirmation names the timeline, escaped
    response = client.post(f"/media/{clip_media.pk}/delete/")
    assert response.status_code == 200
    assert not MediaItem.objects.filter(pk=clip_media.pk).exists()
    assert not Clip.objects.filter(track__timeline=timeline).exists()


def test_locked_track_refuses_and_nothing_is_deleted(client, user, clip_media):
    timeline = timeline_create(owner=user, name="Locked")
    [clip] = clip_add(timeline=timeline, media_item=clip_media, start_s=0)
    track_update(track=clip.track, locked=True)
    client.force_login(user)
    response = client.post(f"/media/{clip_media.pk}/delete/")
    assert response.status_code == 200
    assert "locked" in response.content.decode().lower()
    assert MediaItem.objects.filter(pk=clip_media.pk).exists()
    assert Clip.objects.filter(pk=clip.pk).exists()
