"""The API does what the browser does: uploads through the same media service, prices an
image-to-video model before its still is chosen, lists the offered catalog with its
sources and options in natural order, and answers a script with no credentials with a 401
that says how to get a token (not a CSRF 403)."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from generation import catalog
from generation.catalog.spec import short_side
from generation.models import GenerationJob
from generation.services import api_token_create
from media_library import services as media_services
from media_library import tasks as media_tasks
from media_library.models import MediaItem
from media_library.testing import make_image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

ORIGINAL_CURL = {"prompt": "Test video", "model": "hailuo", "duration": 5}


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.GENERATION_RATE = "1000/m"
    settings.API_RATE = "1000/m"
    settings.GENERATION_COOLDOWN_S = 0
    settings.GENERATION_MAX_CONCURRENT = 50
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("20")
    settings.FAL_KEY = "test-key"
    cache.clear()


@pytest.fixture
def queued(monkeypatch):
    ids: list[int] = []
    monkeypatch.setattr(media_tasks.process_media, "delay", lambda media_id: ids.append(media_id))
    return ids


@pytest.fixture
def token(user):
    return api_token_create(user=user, name="test")[1]


@pytest.fixture
def auth(token):
    return {"Authorization": f"Bearer {token}"}


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def upload(client, headers, name="still.png", data=None, **fields):
    data = make_image_bytes() if data is None else data
    return client.post(
        "/api/media",
        {"file": SimpleUploadedFile(name, data, content_type="image/png"), **fields},
        headers=headers,
    )


def post_json(client, path, body, headers=None):
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


# --- POST /api/media ------------------------------------------------------------------------


def test_upload_with_a_token_creates_a_processing_item(
    user, auth, media_root, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(Client(), auth, name="Fox photo.png")
    assert response.status_code == 201, response.content
    body = response.json()
    item = MediaItem.objects.get()
    assert item.owner == user and item.source == MediaItem.Source.UPLOAD
    for key in (
        "id",
        "kind",
        "title",
        "status",
        "mime_type",
        "size_bytes",
        "width",
        "height",
        "duration_s",
    ):
        assert key in body
    assert body["id"] == item.pk and body["kind"] == "image" and body["title"] == "Fox photo.png"
    assert body["status"] == "processing" and body["mime_type"] == "image/png"
    assert body["size_bytes"] == item.size_bytes > 0
    assert "/download?sig=" in body["url"]
    assert len(files_under(media_root)) == 1
    assert queued == [item.pk]  # processed exactly like a browser upload


def test_upload_uses_the_browser_uploads_service(auth, monkeypatch, queued):
    calls = []
    real = media_services.media_upload_create

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(media_services, "media_upload_create", spy)
    assert upload(Client(), auth).status_code == 201
    assert len(calls) == 1


def test_upload_takes_an_optional_title(auth, queued):
    response = upload(Client(), auth, title="  My\tstill  ")
    assert response.status_code == 201
    assert response.json()["title"] == "My still" == MediaItem.objects.get().title
    blank = upload(Client(), auth, title="   ")
    assert blank.status_code == 400 and "title" in blank.json()["errors"]
    assert MediaItem.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("empty.png", b"", "empty"),
        ("page.mp4", b"<html><script>alert(1)</script></html>" * 20, ""),
        ("notes.txt", b"just some text, not media" * 10, ""),
    ],
)
def test_a_bad_file_is_400_with_a_sentence_and_nothing_stored(
    auth, media_root, queued, name, data, words
):
    response = upload(Client(), auth, name=name, data=data)
    assert response.status_code == 400, response.content
    message = response.json()["message"]
    assert message.endswith(".") and len(message.split()) >= 3
    assert words in message
    assert not MediaItem.objects.exists() and files_under(media_root) == [] and queued == []


def test_a_file_over_the_limit_is_413(auth, settings, media_root, queued):
    settings.MEDIA_MAX_UPLOAD_MB = 1
    response = upload(Client(), auth, data=make_image_bytes() + b"\0" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert "too large" in response.json()["message"] and "1 MB" in response.json()["message"]
    assert not MediaItem.objects.exists() and files_under(media_root) == []


def test_a_request_without_a_file_is_400(auth):
    response = Client().post("/api/media", {"title": "x"}, headers=auth)
    assert response.status_code == 400 and "file" in response.json()["errors"]
    as_json = post_json(Client(), "/api/media", {"file": "x"}, auth)
    assert as_json.status_code == 400
    assert not MediaItem.objects.exists()


def test_upload_without_credentials_is_401(media_root, queued):
    response = upload(Client(), {})
    assert response.status_code == 401 and "Bearer" in response.json()["message"]
    assert not MediaItem.objects.exists() and files_under(media_root) == []


def test_upload_is_in_the_openapi_document():
    operation = Client().get("/api/openapi.json").json()["paths"]["/api/media"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"]["format"] == "binary"
    assert {"201", "400", "401", "413"} <= set(operation["responses"])


# --- estimate and generate ------------------------------------------------------------------


def test_an_image_to_video_model_is_priced_without_an_image(auth):
    client = Client()
    body = {"prompt": "x", "model": "hailuo-i2v", "duration": 6}
    priced = post_json(client, "/api/estimate-cost", body, auth)
    assert priced.status_code == 200, priced.content
    assert priced.json()["estimated_cost"] > 0
    flf = post_json(client, "/api/estimate-cost", {"prompt": "x", "model": "veo3.1-flf"}, auth)
    assert flf.status_code == 200, flf.content
    refused = post_json(client, "/api/generate-video", body, auth)
    assert refused.status_code == 400 and "image_media_id" in refused.json()["errors"]
    assert not GenerationJob.objects.exists()


def test_a_given_image_is_still_checked_when_pricing(auth, other_user):
    theirs = MediaItem.objects.create(
        owner=other_user, kind="image", title="t", file="u/x.png", status="ready"
    )
    body = {"prompt": "x", "model": "hailuo-i2v", "image_media_id": theirs.pk}
    response = post_json(Client(), "/api/estimate-cost", body, auth)
    assert response.status_code == 400 and "image_media_id" in response.json()["errors"]


@pytest.mark.parametrize("field", ["end_image_media_id", "end_image_id"])
def test_the_end_image_is_accepted_and_checked(auth, user, field, enqueued):
    start = MediaItem.objects.create(
        owner=user, kind="image", title="a", file="u/a.png", status="ready"
    )
    end = MediaItem.objects.create(
        owner=user, kind="image", title="b", file="u/b.png", status="ready"
    )
    body = {"prompt": "x", "model": "veo3.1-flf", "image_media_id": start.pk}
    missing = post_json(Client(), "/api/generate-video", body, auth)
    assert missing.status_code == 400 and "end_image_media_id" in missing.json()["errors"]
    ok = post_json(Client(), "/api/generate-video", {**body, field: end.pk}, auth)
    assert ok.status_code == 202, ok.content
    job = GenerationJob.objects.get()
    assert job.params["end_image_id"] == end.pk
    # A text-to-video model takes no end frame.
    text = {"prompt": "x", "model": "hailuo", field: end.pk}
    refused = post_json(Client(), "/api/estimate-cost", text, auth)
    assert refused.status_code == 400 and "end_image_media_id" in refused.json()["errors"]


def test_the_schema_documents_the_end_image():
    doc = Client().get("/api/openapi.json").json()
    props = doc["components"]["schemas"]["GenerateIn"]["properties"]
    assert "end_image_media_id" in props and "end_image_id" in props


# --- GET /api/models ------------------------------------------------------------------------


def test_models_lists_offered_models_with_their_sources_and_sorted_options(auth, monkeypatch):
    retired = replace(catalog.get("hailuo"), id="hailuo-old", retired=True)
    monkeypatch.setattr(catalog, "MODELS", [*catalog.MODELS, retired])
    listed = Client().get("/api/models", headers=auth).json()
    ids = [m["id"] for m in listed]
    assert ids == [m.id for m in catalog.offered_models()]
    assert "hailuo-old" not in ids
    for model in listed:
        spec = catalog.get(model["id"])
        assert model["endpoint"] == spec.endpoint
        assert model["price_date"] == spec.price_date
        assert model["price_source"] == spec.price_source
        assert model["price_note"] == spec.price_note
        assert model["family"] == spec.family and model["kind"] == spec.kind
        assert model["takes_end_image"] == spec.takes_end_image
        assert model["needs_end_image"] == spec.needs_end_image
        assert model["durations"] == sorted(spec.durations)
        assert [short_side(r) for r in model["resolutions"]] == sorted(
            short_side(r) for r in spec.resolutions
        )
        assert model["aspect_ratios"] == list(spec.aspect_ratios)
        # The defaults the natural order no longer shows first.
        assert model["default_duration"] == spec.durations[0]
        # Existing fields stay.
        for key in ("name", "provider", "audio", "price_basis", "available", "default"):
            assert key in model
    local = next(m for m in listed if m["id"] == "local")
    assert local["durations"] == [2, 4, 6, 8, 10] and local["default_duration"] == 4
    assert local["resolutions"] == ["360p", "480p", "720p", "1080p"]
    assert local["aspect_ratios"] == ["16:9", "9:16", "1:1", "4:3"]
    flf = next(m for m in listed if m["id"] == "veo3.1-flf")
    assert flf["needs_end_image"] and flf["takes_end_image"] and flf["kind"] == "first-last-frame"


# --- no credentials: 401 with directions, CSRF kept for sessions ----------------------------


def test_the_original_curl_without_credentials_is_401_with_directions():
    response = Client(enforce_csrf_checks=True).post(
        "/api/generate-video", json.dumps(ORIGINAL_CURL), content_type="application/json"
    )
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/json")
    message = response.json()["message"]
    assert "Authorization: Bearer <token>" in message
    assert "API tokens" in message and "python manage.py api_token <username>" in message
    assert not GenerationJob.objects.exists()


def test_an_anonymous_session_cookie_is_still_401(client):
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "not-a-real-session"
    response = post_json(client, "/api/generate-video", ORIGINAL_CURL)
    assert response.status_code == 401


def test_a_signed_in_session_without_csrf_is_still_refused(user, media_root, queued):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    refused = post_json(client, "/api/generate-video", ORIGINAL_CURL)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]
    assert upload(client, {}).status_code == 403
    assert not GenerationJob.objects.exists() and not MediaItem.objects.exists()
