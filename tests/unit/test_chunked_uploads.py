"""Resumable, chunked uploads: the service (media_library/uploads.py), the browser routes
under /media/uploads/ and the API routes under /api/uploads (docs/uploads.md)."""

from __future__ import annotations

import io
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from generation.services import api_token_create
from media_library import tasks as media_tasks
from media_library import uploads
from media_library.models import MediaItem, UploadSession
from media_library.testing import make_image_bytes

pytestmark = pytest.mark.django_db

OCTETS = "application/offset+octet-stream"


@pytest.fixture(autouse=True)
def dirs(settings, tmp_path):
    media = tmp_path / "media"
    partial = tmp_path / "partial"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    settings.UPLOAD_PARTIAL_DIR = str(partial)
    settings.API_RATE = "1000/m"
    cache.clear()
    return media, partial


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    ids: list[int] = []
    monkeypatch.setattr(media_tasks.process_media, "delay", lambda media_id: ids.append(media_id))
    return ids


@pytest.fixture
def png() -> bytes:
    return make_image_bytes("PNG", size=(320, 200))


def files_under(root: Path) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()]


def append(user, session, offset, data: bytes, length=None):
    return uploads.upload_append(
        owner=user,
        session_id=session.pk,
        offset=offset,
        stream=io.BytesIO(data),
        length=len(data) if length is None else length,
    )


# --- service -------------------------------------------------------------------------------


def test_create_append_resume_complete_gives_the_same_item_as_a_single_upload(
    user, png, dirs, queued, django_capture_on_commit_callbacks
):
    session = uploads.upload_create(
        owner=user, filename="Sunset.png", size=len(png), content_type="image/png"
    )
    assert session.status == "open" and session.offset == 0
    assert uploads.partial_path(session.pk).exists()
    half = len(png) // 2
    session = append(user, session, 0, png[:half])
    assert session.offset == half and uploads.partial_path(session.pk).stat().st_size == half
    # "Resume": a fresh read of the stored state says where to go on.
    assert uploads.upload_get(owner=user, session_id=session.pk).offset == half
    with django_capture_on_commit_callbacks(execute=True):
        session = append(user, session, half, png[half:])
    assert session.status == "done" and session.offset == len(png)
    item = session.media_item
    assert item.title == "Sunset.png" and item.kind == "image" and item.mime_type == "image/png"
    assert item.size_bytes == len(png) and item.source == "upload"
    with item.file.open("rb") as fh:
        assert fh.read() == png
    assert queued == [item.pk]
    assert not uploads.partial_path(session.pk).exists()  # the partial file is gone


def test_offset_mismatch_is_refused_with_the_stored_offset(user, png):
    session = uploads.upload_create(owner=user, filename="a.png", size=len(png))
    append(user, session, 0, png[:100])
    for wrong in (0, 50, 200):
        with pytest.raises(uploads.UploadError) as err:
            append(user, session, wrong, png[wrong : wrong + 10])
        assert err.value.code == "offset_mismatch" and err.value.offset == 100
        assert err.value.status == 409
    assert uploads.partial_path(session.pk).read_bytes() == png[:100]


def test_a_chunk_whose_first_attempt_died_mid_write_is_not_duplicated(user, png):
    session = uploads.upload_create(owner=user, filename="a.png", size=len(png))
    append(user, session, 0, png[:100])
    # An attempt died after writing 37 bytes but before the offset was saved.
    with open(uploads.partial_path(session.pk), "ab") as fh:
        fh.write(png[100:137])
    session = append(user, session, 100, png[100:300])
    assert session.offset == 300
    assert uploads.partial_path(session.pk).read_bytes() == png[:300]


def test_a_body_shorter_than_declared_stores_what_arrived_honestly(user, png):
    session = uploads.upload_create(owner=user, filename="a.png", size=len(png))
    session = append(user, session, 0, png[:80], length=200)
    assert session.offset == 80 and uploads.partial_path(session.pk).read_bytes() == png[:80]
    session = append(user, session, 80, png[80:])
    assert session.status == "done"


def test_declared_size_type_and_name_fail_fast(user, settings):
    settings.MEDIA_MAX_UPLOAD_MB = 1
    cases = {
        "too_large": dict(filename="big.mp4", size=1024 * 1024 + 1),
        "empty": dict(filename="a.mp4", size=0),
        "invalid": dict(filename="", size=10),
        "unsupported_type": dict(filename="notes.pdf", size=10),
    }
    for code, kwargs in cases.items():
        with pytest.raises(uploads.UploadError) as err:
            uploads.upload_create(owner=user, **kwargs)
        assert err.value.code == code, code
    with pytest.raises(uploads.UploadError) as err:
        uploads.upload_create(owner=user, filename="clip.mp4", size=10, content_type="text/html")
    assert err.value.code == "unsupported_type"
    assert not UploadSession.objects.exists()


def test_chunk_too_large_and_past_the_declared_size(user, settings, png):
    settings.UPLOAD_CHUNK_MAX_BYTES = 64
    session = uploads.upload_create(owner=user, filename="a.png", size=len(png))
    with pytest.raises(uploads.UploadError) as err:
        append(user, session, 0, png[:65])
    assert err.value.code == "chunk_too_large" and err.value.status == 413
    # Without a Content-Length the body is counted as it streams and cut at the cap.
    with pytest.raises(uploads.UploadError) as err:
        uploads.upload_append(
            owner=user, session_id=session.pk, offset=0, stream=io.BytesIO(png[:500]), length=None
        )
    assert err.value.code == "chunk_too_large"
    assert uploads.partial_path(session.pk).stat().st_size == 0
    settings.UPLOAD_CHUNK_MAX_BYTES = 10 * 1024 * 1024
    with pytest.raises(uploads.UploadError) as err:
        append(user, session, 0, png + b"extra")
    assert err.value.code == "beyond_size" and err.value.status == 413
    assert UploadSession.objects.get(pk=session.pk).offset == 0


def test_open_sessions_per_user_are_capped(user, other_user, settings):
    settings.UPLOAD_MAX_OPEN_PER_USER = 2
    for i in range(2):
        uploads.upload_create(owner=user, filename=f"{i}.mp4", size=100)
    with pytest.raises(uploads.UploadError) as err:
        uploads.upload_create(owner=user, filename="3.mp4", size=100)
    assert err.value.code == "too_many" and err.value.status == 429
    uploads.upload_create(owner=other_user, filename="theirs.mp4", size=100)


def test_another_users_session_is_not_found(user, other_user, png):
    session = uploads.upload_create(owner=user, filename="a.png", size=len(png))
    for call in (
        lambda: uploads.upload_get(owner=other_user, session_id=session.pk),
        lambda: append(other_user, session, 0, png[:10]),
        lambda: uploads.upload_abort(owner=other_user, session_id=session.pk),
        lambda: uploads.upload_get(owner=user, session_id=uuid.uuid4()),
        lambda: uploads.upload_get(owner=user, session_id="not-a-uuid"),
    ):
        with pytest.raises(uploads.UploadError) as err:
            call()
        assert err.value.code == "not_found" and err.value.status == 404
    assert UploadSession.objects.get(pk=session.pk).offset == 0


def test_abort_deletes_the_partial_file(user, png):
    session = uploads.upload_create(owner=user, filename="a.png", size=len(png))
    append(user, session, 0, png[:10])
    uploads.upload_abort(owner=user, session_id=session.pk)
    assert not uploads.partial_path(session.pk).exists()
    with pytest.raises(uploads.UploadError) as err:
        append(user, session, 10, png[10:20])
    assert err.value.code == "not_open"


def test_a_file_refused_by_validation_leaves_nothing(user, dirs, queued):
    media, partial = dirs
    data = b"these are my notes, not a video\n" * 40
    session = uploads.upload_create(owner=user, filename="notes.mp4", size=len(data))
    append(user, session, 0, data[:500])
    with pytest.raises(uploads.UploadError) as err:
        append(user, session, 500, data[500:])
    assert err.value.code == "rejected" and "not a video, image or audio" in err.value.message
    session.refresh_from_db()
    assert session.status == "aborted" and "not a video" in session.error_message
    assert not MediaItem.objects.exists() and queued == []
    assert files_under(media) == [] and files_under(partial) == []


def test_expiry_removes_idle_sessions_and_orphan_files(user, png, dirs, settings):
    media, partial = dirs
    settings.UPLOAD_EXPIRE_HOURS = 1
    idle = uploads.upload_create(owner=user, filename="idle.png", size=len(png))
    append(user, idle, 0, png[:10])
    fresh = uploads.upload_create(owner=user, filename="fresh.png", size=len(png))
    UploadSession.objects.filter(pk=idle.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1),
        updated_at=timezone.now() - timedelta(hours=2),
    )
    orphan = Path(partial) / f"{uuid.uuid4().hex}.part"
    orphan.write_bytes(b"left by a crashed node")
    old = time.time() - 2 * uploads.ORPHAN_GRACE_S
    os.utime(orphan, (old, old))
    young_orphan = Path(partial) / f"{uuid.uuid4().hex}.part"
    young_orphan.write_bytes(b"a session being created right now")

    result = media_tasks.expire_partial_uploads()

    assert result == {"sessions": 1, "orphans": 1}
    assert not UploadSession.objects.filter(pk=idle.pk).exists()
    assert not uploads.partial_path(idle.pk).exists() and not orphan.exists()
    assert UploadSession.objects.filter(pk=fresh.pk).exists()
    assert uploads.partial_path(fresh.pk).exists() and young_orphan.exists()
    with pytest.raises(uploads.UploadError) as err:
        append(user, idle, 10, png[10:20])
    assert err.value.code == "not_found"


def test_an_expired_session_answers_expired(user, png):
    session = uploads.upload_create(owner=user, filename="a.png", size=len(png))
    UploadSession.objects.filter(pk=session.pk).update(expires_at=timezone.now())
    with pytest.raises(uploads.UploadError) as err:
        append(user, session, 0, png[:10])
    assert err.value.code == "expired" and err.value.status == 410


def test_beat_runs_the_expiry():
    from project.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "media_library.tasks.expire_partial_uploads" in tasks


# --- browser routes ------------------------------------------------------------------------


@pytest.fixture
def alice(client, user):
    client.force_login(user)
    return client


def patch(client, url, offset, data: bytes, **extra):
    return client.generic(
        "PATCH",
        url,
        data=data,
        content_type=OCTETS,
        headers={"Upload-Offset": str(offset)},
        **extra,
    )


def test_browser_routes_walk_the_protocol(alice, png, settings):
    settings.UPLOAD_CHUNK_BYTES = 100
    created = alice.post(
        reverse("media_library:upload_sessions"),
        data={"filename": "Poster.png", "size": len(png), "type": "image/png"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["offset"] == 0 and body["chunk_size"] == 100
    url = body["url"]
    assert url == reverse("media_library:upload_session", args=[body["id"]])

    first = patch(alice, url, 0, png[:100])
    assert first.status_code == 204 and first["Upload-Offset"] == "100"
    head = alice.head(url)
    assert head.status_code == 200 and head["Upload-Offset"] == "100"
    assert alice.get(url).json()["offset"] == 100

    stale = patch(alice, url, 0, png[:100])
    assert stale.status_code == 409 and stale["Upload-Offset"] == "100"
    assert stale.json()["code"] == "offset_mismatch" and stale.json()["offset"] == 100

    offset = 100
    while offset < len(png):
        response = patch(alice, url, offset, png[offset : offset + 100])
        offset = min(offset + 100, len(png))
        assert response["Upload-Offset"] == str(offset)
    assert response.status_code == 201
    item = MediaItem.objects.get()
    assert f'id="media-{item.pk}"' in response.content.decode()  # the card fragment
    done = alice.get(url).json()
    assert done["status"] == "done" and done["media_id"] == item.pk


def test_browser_routes_refuse_with_codes(alice, client, other_user, png, settings):
    settings.MEDIA_MAX_UPLOAD_MB = 1
    sessions = reverse("media_library:upload_sessions")
    big = alice.post(
        sessions,
        data={"filename": "a.mp4", "size": 2 * 1024 * 1024},
        content_type="application/json",
    )
    assert big.status_code == 413 and big.json()["code"] == "too_large"
    assert alice.post(sessions, data="nope", content_type="application/json").status_code == 400
    url = alice.post(
        sessions, data={"filename": "a.png", "size": len(png)}, content_type="application/json"
    ).json()["url"]
    settings.UPLOAD_CHUNK_MAX_BYTES = 50
    too_big = patch(alice, url, 0, png[:51])
    assert too_big.status_code == 413 and too_big.json()["code"] == "chunk_too_large"

    client.logout()
    client.force_login(other_user)
    for method in ("GET", "HEAD", "DELETE"):
        assert client.generic(method, url).status_code == 404, method
    assert patch(client, url, 0, png[:10]).status_code == 404

    client.logout()
    assert client.get(url).status_code in (302, 401, 403)


def test_browser_patch_needs_the_csrf_header(user, png):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    session = uploads.upload_create(owner=user, filename="a.png", size=len(png))
    url = reverse("media_library:upload_session", args=[session.pk])
    assert patch(csrf_client, url, 0, png[:10]).status_code == 403
    assert UploadSession.objects.get(pk=session.pk).offset == 0


def test_browser_delete_aborts(alice, user, png):
    session = uploads.upload_create(owner=user, filename="a.png", size=len(png))
    url = reverse("media_library:upload_session", args=[session.pk])
    assert alice.delete(url).status_code == 204
    assert not uploads.partial_path(session.pk).exists()
    assert UploadSession.objects.get(pk=session.pk).status == "aborted"


def test_single_request_upload_is_for_small_files_only(alice, settings, png):
    settings.SMALL_UPLOAD_MAX_MB = 1
    settings.MEDIA_MAX_UPLOAD_MB = 100
    response = alice.post(
        reverse("media_library:upload"),
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=zz",
        CONTENT_LENGTH=str(3 * 1024 * 1024),
    )
    assert response.status_code == 413 and "/media/uploads/" in response.json()["error"]


# --- API -----------------------------------------------------------------------------------


@pytest.fixture
def auth(user):
    return {"Authorization": f"Bearer {api_token_create(user=user, name='t')[1]}"}


def test_api_routes_with_a_bearer_token(user, other_user, auth, png, settings):
    settings.UPLOAD_CHUNK_BYTES = 256
    api = Client()
    created = api.post(
        "/api/uploads",
        data={"filename": "Still.png", "size": len(png), "type": "image/png"},
        content_type="application/json",
        headers=auth,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["chunk_size"] == 256 and body["offset"] == 0
    url = f"/api/uploads/{body['id']}"
    assert body["url"].endswith(url)

    first = api.generic(
        "PATCH", url, data=png[:256], content_type=OCTETS, headers={**auth, "Upload-Offset": "0"}
    )
    assert first.status_code == 204 and first["Upload-Offset"] == "256"
    head = api.head(url, headers=auth)
    assert head.status_code == 200 and head["Upload-Offset"] == "256"
    status = api.get(url, headers=auth).json()
    assert status["offset"] == 256 and status["status"] == "open"

    mismatch = api.generic(
        "PATCH", url, data=png[:256], content_type=OCTETS, headers={**auth, "Upload-Offset": "0"}
    )
    assert mismatch.status_code == 409
    assert mismatch.json()["code"] == "offset_mismatch" and mismatch.json()["offset"] == 256

    other = {"Authorization": f"Bearer {api_token_create(user=other_user, name='o')[1]}"}
    assert api.get(url, headers=other).status_code == 404
    assert (
        api.generic(
            "PATCH",
            url,
            data=png[256:],
            content_type=OCTETS,
            headers={**other, "Upload-Offset": "256"},
        ).status_code
        == 404
    )
    assert api.get(url).status_code == 401

    last = api.generic(
        "PATCH", url, data=png[256:], content_type=OCTETS, headers={**auth, "Upload-Offset": "256"}
    )
    assert last.status_code == 201, last.content
    media = last.json()
    assert media["title"] == "Still.png" and media["kind"] == "image"
    assert media["status"] == "processing" and media["size_bytes"] == len(png)
    assert api.get(url, headers=auth).json()["media"]["id"] == media["id"]


def test_api_refusals_and_cancel(user, auth, settings):
    settings.MEDIA_MAX_UPLOAD_MB = 1
    api = Client()
    big = api.post(
        "/api/uploads",
        data={"filename": "a.mp4", "size": 5 * 1024 * 1024},
        content_type="application/json",
        headers=auth,
    )
    assert big.status_code == 413 and big.json()["code"] == "too_large"
    made = api.post(
        "/api/uploads",
        data={"filename": "a.mp4", "size": 1000},
        content_type="application/json",
        headers=auth,
    ).json()
    url = f"/api/uploads/{made['id']}"
    assert api.delete(url, headers=auth).status_code == 204
    assert not uploads.partial_path(made["id"]).exists()
    assert api.get(f"/api/uploads/{uuid.uuid4()}", headers=auth).status_code == 404


def test_api_single_request_upload_points_at_the_chunked_route(auth, settings):
    settings.SMALL_UPLOAD_MAX_MB = 1
    settings.MEDIA_MAX_UPLOAD_MB = 100
    response = Client().post(
        "/api/media",
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=zz",
        CONTENT_LENGTH=str(3 * 1024 * 1024),
        headers=auth,
    )
    assert response.status_code == 413 and "/api/uploads" in response.json()["message"]


def test_openapi_documents_the_upload_routes():
    schema = Client().get("/api/openapi.json").json()
    assert {"/api/uploads", "/api/uploads/{upload_id}"} <= set(schema["paths"])
    chunk = schema["paths"]["/api/uploads/{upload_id}"]["patch"]
    assert "Upload-Offset" in chunk["description"]
    assert "/api/uploads" in schema["paths"]["/api/media"]["post"]["description"]
