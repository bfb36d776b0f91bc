"""Provider fidelity against the strict emulators, over real sockets: input stills staged in
the providers' own storage (and cached), signed webhooks, the price refresh, and fal's
COMPLETED-with-error status."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from standardwebhooks.webhooks import Webhook

from generation import catalog
from generation.catalog import ImageLimits
from generation.models import GenerationJob, JobStatus, ProviderPrice, ProviderUpload
from generation.providers.base import ErrorCode, ProviderError, State
from generation.providers.signatures import FAL_JWKS_CACHE_KEY, REPLICATE_SECRET_CACHE_KEY
from generation.services.image_inputs import prepare_image, stage_job_images
from generation.services.jobs import job_estimate
from generation.services.prices import prices_refresh
from generation.services.providers import get_provider
from generation.services.submit import submit_request
from media_library.models import MediaItem
from media_library.services import media_create_from_file

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PUBLIC = "https://cutroom.example"
FAL_I2V = "kling-2.6-pro-i2v"
REPLICATE_I2V = "replicate-minimax-video-01-i2v"


# --- helpers -------------------------------------------------------------------------------
def picture(color: tuple[int, int, int], size=(320, 180)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    image.paste((255, 255, 255), (10, 10, 60, 40))  # not flat: a real picture to compare
    image.save(out, format="PNG")
    return out.getvalue()


def noisy_png(size=(800, 800)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 120).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def pixels(data: bytes) -> tuple[tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size, image.convert("RGB").tobytes()


def still(user, data: bytes, tmp_path) -> MediaItem:
    path = tmp_path / f"still-{uuid.uuid4().hex[:6]}.png"
    path.write_bytes(data)
    item = media_create_from_file(owner=user, path_or_file=path, title="still", source="upload")
    MediaItem.objects.filter(pk=item.pk).update(status=MediaItem.Status.READY)
    item.refresh_from_db()
    return item


def i2v_job(user, model_id: str, **params) -> GenerationJob:
    spec = catalog.get(model_id)
    return GenerationJob.objects.create(
        owner=user, model_id=spec.id, provider=spec.provider, prompt="a slow pan", params=params
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = PUBLIC
    return tmp_path


# --- 1. fal storage --------------------------------------------------------------------------
def test_fal_staging_uploads_to_fal_storage_and_the_runner_gets_the_pixels(
    fal_settings, user, media
):
    start_bytes, end_bytes = picture((200, 40, 40)), picture((40, 40, 200))
    start, end = still(user, start_bytes, media), still(user, end_bytes, media)
    job = i2v_job(user, FAL_I2V, image_id=start.pk, end_image_id=end.pk, duration=5)
    fal = get_provider("fal")

    images = stage_job_images(job, fal)
    assert set(images) == {"start", "end"}
    for url in images.values():
        assert url.startswith(f"{fal_settings.url}/__cdn/files/")
        assert not url.startswith(PUBLIC)
    assert fal_settings.count("uploads") == 2
    assert ProviderUpload.objects.filter(provider="fal").count() == 2

    submission = fal.submit(submit_request(job, images=images))
    record = fal_settings.records[submission.request_id]
    assert record.input["start_image_url"] == images["start"]
    assert record.input["end_image_url"] == images["end"]
    assert pixels(record.fetched["start_image_url"]) == pixels(start_bytes)
    assert pixels(record.fetched["end_image_url"]) == pixels(end_bytes)
    assert pixels(start_bytes) != pixels(end_bytes)  # the comparison can tell them apart


def test_fal_staging_reuses_the_cached_upload_until_it_expires(fal_settings, user, media):
    item = still(user, picture((10, 200, 10)), media)
    job = i2v_job(user, FAL_I2V, image_id=item.pk, duration=5)
    fal = get_provider("fal")

    first = stage_job_images(job, fal)
    assert fal_settings.count("uploads") == 1
    again = stage_job_images(job, fal)
    assert again == first
    assert fal_settings.count("uploads") == 1  # the cache served it, nothing uploaded

    # fal forgot the file and our record says so too: the next staging uploads afresh.
    fal_settings.expire_uploads()
    ProviderUpload.objects.filter(media_item=item, provider="fal").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    fresh = stage_job_images(job, fal)
    assert fal_settings.count("uploads") == 2
    assert fresh["start"] != first["start"]
    row = ProviderUpload.objects.get(media_item=item, provider="fal")
    assert row.url == fresh["start"] and row.expires_at > timezone.now() + timedelta(days=1)
    submission = fal.submit(submit_request(job, images=fresh))
    fetched = fal_settings.records[submission.request_id].fetched["start_image_url"]
    assert pixels(fetched) == pixels(picture((10, 200, 10)))


def test_fal_staging_downscales_an_image_larger_than_the_model_takes(fal_settings, user, media):
    spec = catalog.get(FAL_I2V)
    big = io.BytesIO()
    Image.new("RGB", (5000, 3000), (90, 120, 30)).save(big, format="PNG")
    assert spec.image_limits.max_side < 5000
    item = still(user, big.getvalue(), media)
    job = i2v_job(user, FAL_I2V, image_id=item.pk, duration=5)
    fal = get_provider("fal")

    images = stage_job_images(job, fal)
    uploaded = next(iter(fal_settings.uploads.values()))["data"]
    with Image.open(io.BytesIO(uploaded)) as image:
        assert max(image.size) == spec.image_limits.max_side
        assert abs(image.size[0] / image.size[1] - 5000 / 3000) < 0.01
        assert image.format.lower() in spec.image_limits.formats
    assert len(uploaded) <= spec.image_limits.max_bytes
    submission = fal.submit(submit_request(job, images=images))
    assert fal_settings.records[submission.request_id].fetched["start_image_url"] == uploaded


def test_prepare_image_honours_small_limits(user, media):
    big = io.BytesIO()
    Image.new("RGB", (3000, 1500), (200, 10, 10)).save(big, format="PNG")
    item = still(user, big.getvalue(), media)
    limits = ImageLimits(formats=("jpeg",), max_side=1024, max_bytes=200 * 1024)
    upload = prepare_image(item, limits)
    assert upload.content_type == "image/jpeg" and upload.file_name.endswith(".jpeg")
    assert len(upload.data) <= limits.max_bytes
    with Image.open(io.BytesIO(upload.data)) as image:
        assert image.format == "JPEG" and image.size == (1024, 512)
        red = image.convert("RGB").getpixel((512, 256))
    assert red[0] > 180 and red[1] < 40 and red[2] < 40
    # Within the limits, the original bytes go as they are.
    small = still(user, picture((1, 2, 3)), media)
    untouched = prepare_image(small, ImageLimits(formats=("png",), max_side=1024))
    assert untouched.data == picture((1, 2, 3)) and untouched.content_type == "image/png"


def test_fal_refuses_a_url_on_this_server(fal_settings, user, media):
    item = still(user, picture((1, 2, 3)), media)
    job = i2v_job(user, FAL_I2V, image_id=item.pk, duration=5)
    request = submit_request(job, images={"start": PUBLIC + "/media/x.png"})
    with pytest.raises(ProviderError) as refused:
        get_provider("fal").submit(request)
    assert refused.value.code == ErrorCode.INVALID_INPUT
    assert "start_image_url" in refused.value.field_errors
    assert fal_settings.count("submits_refused") == 1
    assert fal_settings.count("image_fetch_failures") == 1
    assert fal_settings.records == {}


# --- 2. Replicate ------------------------------------------------------------------------------
def test_replicate_small_still_goes_inline_as_a_data_url(replicate_settings, user, media):
    data = picture((30, 60, 90))
    assert len(data) < 256 * 1024
    item = still(user, data, media)
    job = i2v_job(user, REPLICATE_I2V, image_id=item.pk, duration=6, resolution="720p")
    rep = get_provider("replicate")

    images = stage_job_images(job, rep)
    assert images["start"].startswith("data:image/png;base64,")
    assert base64.b64decode(images["start"].split(",", 1)[1]) == data
    assert replicate_settings.count("uploads") == 0 and replicate_settings.files == {}
    submission = rep.submit(submit_request(job, images=images))
    assert replicate_settings.records[submission.request_id].fetched["first_frame_image"] == data


def test_replicate_large_still_goes_through_the_files_api(replicate_settings, user, media):
    data = noisy_png()
    assert len(data) > 256 * 1024
    item = still(user, data, media)
    job = i2v_job(user, REPLICATE_I2V, image_id=item.pk, duration=6, resolution="720p")
    rep = get_provider("replicate")

    images = stage_job_images(job, rep)
    assert replicate_settings.count("uploads") == 1
    (file_id, stored), *_ = replicate_settings.files.items()
    assert stored["data"] == data and stored["content_type"] == "image/png"
    assert images["start"] == f"{replicate_settings.api_url}/files/{file_id}"
    row = ProviderUpload.objects.get(media_item=item, provider="replicate")
    assert row.expires_at is not None and row.expires_at > timezone.now()
    submission = rep.submit(submit_request(job, images=images))
    record = replicate_settings.records[submission.request_id]
    assert record.input["first_frame_image"] == images["start"]
    assert record.fetched["first_frame_image"] == data
    # A second job from the same still reuses the file.
    stage_job_images(i2v_job(user, REPLICATE_I2V, image_id=item.pk, duration=6), rep)
    assert replicate_settings.count("uploads") == 1


# --- 3. webhooks -------------------------------------------------------------------------------
def running_job(user, provider: str) -> GenerationJob:
    model = FAL_I2V if provider == "fal" else REPLICATE_I2V
    return GenerationJob.objects.create(
        owner=user,
        model_id=model,
        provider=provider,
        prompt="x",
        params={},
        status=JobStatus.RUNNING,
        provider_request_id=f"{provider}-req-1",
        next_poll_at=timezone.now() + timedelta(minutes=5),
    )


def snapshot(job: GenerationJob) -> tuple:
    job = GenerationJob.objects.get(pk=job.pk)
    return (job.status, job.next_poll_at, job.poll_seq)


def post_webhook(job: GenerationJob, body: bytes, headers: dict[str, str]):
    url = reverse("generation:webhook", args=[job.provider, job.webhook_token])
    return Client().post(url, data=body, content_type="application/json", headers=headers)


def flip_hex(signature: str) -> str:
    return signature[:-1] + ("0" if signature[-1] != "0" else "1")


def test_fal_webhook_signatures(fal_settings, user):
    job = running_job(user, "fal")
    rid = job.provider_request_id
    body = json.dumps({"request_id": rid, "status": "OK", "payload": {}}).encode()
    before = snapshot(job)

    def refused(headers):
        cache.delete(FAL_JWKS_CACHE_KEY)
        response = post_webhook(job, body, headers)
        assert response.status_code == 401, response.content
        assert snapshot(job) == before

    forged = fal_settings.signed_headers(rid, body)
    forged["X-Fal-Webhook-Signature"] = flip_hex(forged["X-Fal-Webhook-Signature"])
    refused(forged)
    refused(fal_settings.signed_headers(rid, body, timestamp=int(time.time()) - 600))
    # Signed over another body: the signature does not carry over.
    refused(fal_settings.signed_headers(rid, b'{"request_id": "other"}'))
    fal_settings.sign_webhooks = False
    unsigned = fal_settings.signed_headers(rid, body)
    assert "X-Fal-Webhook-Signature" not in unsigned
    refused(unsigned)
    fal_settings.sign_webhooks = True

    cache.delete(FAL_JWKS_CACHE_KEY)
    ok = post_webhook(job, body, fal_settings.signed_headers(rid, body))
    assert ok.status_code == 200, ok.content
    assert ok.json()["polled"] is True
    status, next_poll_at, poll_seq = snapshot(job)
    assert poll_seq == before[2] + 1 and next_poll_at < before[1]
    assert status == JobStatus.RUNNING


def test_fal_webhook_with_a_wrong_token_is_404(fal_settings, user):
    job = running_job(user, "fal")
    body = b"{}"
    url = reverse("generation:webhook", args=["fal", "not-the-token"])
    response = Client().post(
        url,
        data=body,
        content_type="application/json",
        headers=fal_settings.signed_headers("r", body),
    )
    assert response.status_code == 404
    assert snapshot(job)[2] == 0


def replicate_headers(secret: str, body: bytes, *, when: datetime | None = None) -> dict:
    when = when or datetime.now(UTC)
    message_id = f"msg_{uuid.uuid4().hex[:8]}"
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, when, body.decode()),
    }


def test_replicate_webhook_signatures(replicate_settings, settings, user):
    settings.REPLICATE_WEBHOOK_SECRET = ""  # fetched from GET /v1/webhooks/default/secret
    job = running_job(user, "replicate")
    body = json.dumps({"id": job.provider_request_id, "status": "succeeded"}).encode()
    secret = replicate_settings.webhook_secret
    before = snapshot(job)

    def refused(headers):
        cache.delete(REPLICATE_SECRET_CACHE_KEY)
        response = post_webhook(job, body, headers)
        assert response.status_code == 401, response.content
        assert snapshot(job) == before

    # The emulator's own signing and ours agree (the emulator's is Replicate's recipe).
    class _Rec:
        id = job.provider_request_id

    emulated = replicate_settings.webhook_headers(_Rec, body)
    assert Webhook(secret).verify(body, emulated) == json.loads(body)

    forged = replicate_headers(secret, body)
    signature = forged["webhook-signature"]
    forged["webhook-signature"] = (
        signature[:3] + ("A" if signature[3] != "A" else "B") + signature[4:]
    )
    refused(forged)
    refused(replicate_headers(secret, body, when=datetime.now(UTC) - timedelta(seconds=600)))
    other_secret = "whsec_" + base64.b64encode(b"another-secret-of-thirty-two-byt").decode()
    refused(replicate_headers(other_secret, body))
    unsigned = replicate_headers(secret, body)
    del unsigned["webhook-signature"]
    refused(unsigned)

    cache.delete(REPLICATE_SECRET_CACHE_KEY)
    ok = post_webhook(job, body, emulated)
    assert ok.status_code == 200, ok.content
    assert cache.get(REPLICATE_SECRET_CACHE_KEY) == secret  # really fetched from the API
    status, next_poll_at, poll_seq = snapshot(job)
    assert poll_seq == before[2] + 1 and next_poll_at < before[1]


# --- 4. prices ---------------------------------------------------------------------------------
VEO = {"prompt": "x", "duration": 8, "resolution": "720p", "aspect_ratio": "16:9", "audio": False}


def test_price_refresh_records_prices_and_changes(fal_settings):
    endpoints = {m.endpoint for m in catalog.all_models() if m.provider == "fal"}
    counts = prices_refresh()
    assert counts["failed"] == 0 and counts["checked"] == len(endpoints)
    assert counts["changed"] == 0
    assert set(ProviderPrice.objects.values_list("endpoint", flat=True)) == endpoints
    veo = ProviderPrice.objects.get(provider="fal", endpoint="fal-ai/veo3.1")
    assert veo.previous_unit_price is None and veo.changed_at is None
    catalog_cost = job_estimate(model_id="veo3.1", params=VEO).cost
    assert catalog_cost == Decimal("1.60")  # 8 s × the catalog's 0.20

    old = veo.unit_price
    fal_settings.prices["fal-ai/veo3.1"] = (Decimal("0.50"), "seconds")
    counts = prices_refresh()
    assert counts["changed"] == 1
    veo.refresh_from_db()
    assert veo.unit_price == Decimal("0.50") and veo.previous_unit_price == old
    assert veo.changed_at is not None
    assert job_estimate(model_id="veo3.1", params=VEO).cost == Decimal("4.00")

    # A lower figure never reserves less than the catalog says.
    fal_settings.prices["fal-ai/veo3.1"] = (Decimal("0.05"), "seconds")
    prices_refresh()
    veo.refresh_from_db()
    assert veo.unit_price == Decimal("0.05") and veo.previous_unit_price == Decimal("0.50")
    assert job_estimate(model_id="veo3.1", params=VEO).cost == catalog_cost


# --- 5. fal COMPLETED with an error -----------------------------------------------------------
def fal_submission(fal_settings, user, media):
    item = still(user, picture((5, 5, 5)), media)
    job = i2v_job(user, FAL_I2V, image_id=item.pk, duration=5)
    fal = get_provider("fal")
    return fal, fal.submit(submit_request(job, images=stage_job_images(job, fal)))


def test_completed_with_content_policy_takes_the_reason_from_the_result(fal_settings, user, media):
    fal, submission = fal_submission(fal_settings, user, media)
    fal_settings.fail(
        "status",
        "completed_error",
        request_id=submission.request_id,
        error_type="content_policy_violation",
        error="flagged",
    )
    report = fal.status(submission)
    assert report.state == State.FAILED
    assert report.error.code == ErrorCode.CONTENT_POLICY
    assert report.error.permanent  # a refused generation is not resubmitted
    assert "422" in report.error.detail and "flagged" in report.error.detail
    assert fal_settings.count("result_calls") == 1


def test_completed_error_keeps_the_status_reason_when_the_result_call_fails(
    fal_settings, user, media
):
    fal, submission = fal_submission(fal_settings, user, media)
    fal_settings.fail(
        "status",
        "completed_error",
        request_id=submission.request_id,
        error_type="content_policy_violation",
        error="flagged",
    )
    fal_settings.fail("result", "reset", request_id=submission.request_id)
    report = fal.status(submission)
    assert report.state == State.FAILED
    assert report.error.code == ErrorCode.CONTENT_POLICY
    assert "flagged" in report.error.detail
    assert fal_settings.count("result_calls") == 1


def test_cancelled_request_does_not_fetch_the_result(fal_settings, user, media):
    fal, submission = fal_submission(fal_settings, user, media)
    fal.cancel(submission)
    report = fal.status(submission)
    assert report.state == State.CANCELLED
    assert report.error is not None and report.error.code == ErrorCode.CANCELLED
    assert fal_settings.count("result_calls") == 0
