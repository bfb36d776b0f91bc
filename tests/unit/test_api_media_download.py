"""media_url in API answers is a signed link a token-only script can download from;
it cannot be used for another item, forged, or used after it expires."""

import pytest
from django.core import signing

from generation.services.tokens import api_token_create
from media_library.models import MediaItem
from media_library.signing import SALT, download_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip(user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "u").mkdir()
    (tmp_path / "u" / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"x" * 100)
    return MediaItem.objects.create(
        owner=user,
        kind="video",
        title="Ocean <b>",
        file="u/clip.mp4",
        status="ready",
        mime_type="video/mp4",
        size_bytes=112,
    )


def test_token_client_downloads_through_media_url(client, user, clip):
    _, raw = api_token_create(user=user, name="script")
    page = client.get("/api/media", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    url = page["items"][0]["url"]
    assert "/api/media/" in url and "sig=" in url
    response = client.get(url.replace("http://testserver", ""))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).endswith(b"x" * 100)
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_link_for_one_item_does_not_open_another(client, user, clip):
    other = MediaItem.objects.create(
        owner=user, kind="video", title="b", file="u/clip.mp4", status="ready"
    )
    sig = download_token(clip)
    assert client.get(f"/api/media/{other.pk}/download?sig={sig}").status_code == 404


def test_forged_or_expired_links_are_refused(client, clip, settings):
    assert client.get(f"/api/media/{clip.pk}/download?sig=nope").status_code == 404
    forged = signing.dumps({"m": clip.pk, "u": clip.owner_id}, salt="another-salt")
    assert client.get(f"/api/media/{clip.pk}/download?sig={forged}").status_code == 404
    settings.MEDIA_SIGNED_URL_MAX_AGE_S = -1
    response = client.get(f"/api/media/{clip.pk}/download?sig={download_token(clip)}")
    assert response.status_code == 404
    assert "expired" in response.json()["message"]


def test_link_dies_with_ownership_change(client, clip, other_user):
    sig = signing.dumps({"m": clip.pk, "u": clip.owner_id}, salt=SALT, compress=True)
    MediaItem.objects.filter(pk=clip.pk).update(owner=other_user)
    assert client.get(f"/api/media/{clip.pk}/download?sig={sig}").status_code == 404


def test_download_route_refuses_post(client, clip):
    response = client.post(f"/api/media/{clip.pk}/download?sig={download_token(clip)}")
    assert response.status_code == 405
