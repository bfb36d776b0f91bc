"""Every catalog model × every option it offers, through the real pipeline (real Celery
worker, real Redis) against the strict emulators, with PUBLIC_BASE_URL set as the README's
production block says.

The strict emulators refuse what the providers refuse (unknown endpoint, unknown field,
wrong type, value outside the enum, missing field) and download every image input
anonymously, as a runner would. So a job succeeds only if what Cutroom sent is what the
provider documents and its start/end frames reached the provider's own storage — a URL on
this server (which needs a session) would be refused.

Each option value of each model is sent at least once: the k-th job of a model takes the
k-th value of every option (cycling), so a model with 7 durations and 3 resolutions gets
7 jobs covering all of both. (tests/unit/test_catalog_schemas.py checks the full cartesian
product against the schemas without sockets.) The S3 variant stages every image model's
frames from media stored on S3 (moto), since that is the storage that differs.
"""

from __future__ import annotations

import io
import itertools
import uuid

import boto3
import pytest
from PIL import Image

from generation import catalog
from generation.models import GenerationJob, JobStatus
from generation.services import job_create
from generation.services.image_inputs import stage_job_images
from generation.services.providers import get_provider
from generation.services.submit import submit_request
from media_library.models import MediaItem
from media_library.services import media_create_from_file
from tests.emulators.fixtures import point_settings_at
from tests.integration.workers import apply_to_settings, wait_for

PUBLIC = "https://cutroom.example.com"  # unreachable from the emulators, as in production

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.pipeline(
        fal_polls=(0, 1),
        replicate_polls=(0, 1),
        PUBLIC_BASE_URL=PUBLIC,
        # A generous budget and no pacing: this is a catalog check, not a limits test.
        GENERATION_MONTHLY_BUDGET_USD="100000",
        GENERATION_MAX_CONCURRENT="0",
        GENERATION_COOLDOWN_S="0",
        GENERATION_RATE="100000/m",
    ),
]
HOSTED = [m for m in catalog.offered_models() if m.provider != "local"]


def option_cover(spec) -> list[dict]:
    """Jobs that together use every value of every option the model offers."""
    axes = {
        "duration": list(spec.durations),
        "resolution": list(spec.resolutions),
        "aspect_ratio": list(spec.aspect_ratios) or [None],
        "audio": [True, False] if spec.audio_choice else [None],
        "end": [True, False] if spec.takes_end_image and not spec.needs_end_image else [None],
    }
    count = max(len(v) for v in axes.values())
    jobs = []
    for k in range(count):
        params = {"prompt": f"{spec.name}: a lighthouse at dusk, take {k + 1}"}
        for name, values in axes.items():
            value = values[k % len(values)]
            if value is not None and name != "end":
                params[name] = value
            if name == "end" and value:
                params["end"] = True
        jobs.append(params)
    return jobs


def picture(color: tuple[int, int, int], size=(320, 180)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    image.paste((255, 255, 255), (10, 10, 60, 40))  # not flat: a real picture to compare
    image.save(out, format="PNG")
    return out.getvalue()


def still(user, color, tmp_path) -> MediaItem:
    path = tmp_path / f"still-{uuid.uuid4().hex[:6]}.png"
    path.write_bytes(picture(color))
    item = media_create_from_file(owner=user, path_or_file=path, title="still", source="upload")
    MediaItem.objects.filter(pk=item.pk).update(status=MediaItem.Status.READY)
    return item


def with_images(spec, params: dict, start: MediaItem, end: MediaItem) -> dict:
    params = dict(params)
    wants_end = params.pop("end", False) or spec.needs_end_image
    if spec.needs_image:
        params["image_id"] = start.pk
    if wants_end:
        params["end_image_id"] = end.pk
    return params


def same_pixels(a: bytes, b: bytes) -> bool:
    with Image.open(io.BytesIO(a)) as x, Image.open(io.BytesIO(b)) as y:
        return x.convert("RGB").tobytes() == y.convert("RGB").tobytes()


def test_every_model_and_every_option_succeeds_through_the_pipeline(
    settings, env, fal, replicate, worker, user, tmp_path
):
    apply_to_settings(settings, env)
    settings.GENERATION_RATE = "100000/m"
    start, end = still(user, (200, 40, 40), tmp_path), still(user, (40, 40, 200), tmp_path)
    jobs: list[tuple[GenerationJob, dict]] = []
    for spec in HOSTED:
        for params in option_cover(spec):
            job = job_create(
                user=user, model_id=spec.id, params=with_images(spec, params, start, end)
            )
            jobs.append((job, params))

    def settled():
        live = GenerationJob.objects.filter(pk__in=[j.pk for j, _ in jobs]).exclude(
            status__in=(JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
        )
        return not live.exists()

    wait_for(settled, timeout=600, what=f"{len(jobs)} jobs settled")
    failures = [
        f"{j.model_id} {p}: {j.error_code} {j.provider_detail[:300]}"
        for j, p in ((GenerationJob.objects.get(pk=job.pk), p) for job, p in jobs)
        if j.status != JobStatus.SUCCEEDED
    ]
    assert failures == [], "\n".join(failures)

    # Every model, every offered value of every option, reached its provider.
    sent = {(j.model_id, k, str(v)) for j, _ in jobs for k, v in j.params.items()}
    for spec in HOSTED:
        assert {(spec.id, "duration", str(d)) for d in spec.durations} <= sent
        assert {(spec.id, "resolution", r) for r in spec.resolutions} <= sent
        assert {(spec.id, "aspect_ratio", a) for a in spec.aspect_ratios} <= sent
    assert fal.count("submits_refused") == 0 and replicate.count("submits_refused") == 0

    # The frames the providers' runners fetched are the creator's stills, from the
    # providers' own storage: never PUBLIC_BASE_URL.
    records = {**fal.records, **replicate.records}
    for job, _ in jobs:
        job.refresh_from_db()
        spec = catalog.get(job.model_id)
        record = records[job.provider_request_id]
        if spec.image_field and spec.image_field in record.input:
            assert not str(record.input[spec.image_field]).startswith(PUBLIC)
            assert same_pixels(record.fetched[spec.image_field], picture((200, 40, 40)))
        if spec.end_image_field and spec.end_image_field in record.input:
            assert same_pixels(record.fetched[spec.end_image_field], picture((40, 40, 200)))
    # Each still is kept once per provider and preparation, and reused by later jobs.
    from generation.models import ProviderUpload

    variants = len({(m.provider, m.image_limits) for m in HOSTED if m.needs_image})
    assert ProviderUpload.objects.filter(media_item__in=[start, end]).count() <= 2 * variants


def test_a_url_on_this_server_is_refused_by_the_strict_emulator(settings, fal, user, tmp_path):
    """What the review found: before staging, the job sent PUBLIC_BASE_URL + MEDIA_URL…,
    which no runner can fetch. The strict emulator refuses it, so the test above proves
    the staging, not a lenient fake."""
    point_settings_at(settings, fal)
    spec = catalog.get("kling-2.1-pro-i2v")
    item = still(user, (1, 2, 3), tmp_path)
    job = GenerationJob.objects.create(
        owner=user, model_id=spec.id, provider="fal", prompt="x", params={"image_id": item.pk}
    )
    request = submit_request(job, images={"start": PUBLIC + item.file.url})
    from generation.providers.base import ErrorCode, ProviderError

    with pytest.raises(ProviderError) as refused:
        get_provider("fal").submit(request)
    assert refused.value.code == ErrorCode.INVALID_INPUT
    assert "image_url" in refused.value.field_errors


# --- the same stills stored on S3 ------------------------------------------------------------
@pytest.fixture
def s3_storage(settings, tmp_path):
    from moto.server import ThreadedMotoServer

    from tests.harness.processes import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    bucket = f"cutroom-{uuid.uuid4().hex[:10]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="a",
        aws_secret_access_key="s",
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "a",
                "secret_key": "s",
                "querystring_auth": True,
                "signature_version": "s3v4",
            },
        },
    }
    settings.MEDIA_STORAGE_IS_REMOTE = True
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    settings.MEDIA_ROOT = tmp_path / "scratch"
    yield endpoint
    server.stop()


def test_every_image_model_gets_its_frames_from_s3_stored_media(
    settings, s3_storage, fal, replicate, user, tmp_path
):
    point_settings_at(settings, fal)
    point_settings_at(settings, replicate)
    settings.PUBLIC_BASE_URL = PUBLIC
    start, end = still(user, (10, 200, 10), tmp_path), still(user, (200, 200, 10), tmp_path)
    assert start.file.url.startswith(s3_storage)  # really on S3, not on local disk
    image_models = [m for m in HOSTED if m.needs_image]
    for spec, with_end in itertools.product(image_models, (True, False)):
        if with_end and not spec.takes_end_image:
            continue
        params = {"prompt": "a lighthouse", **({"image_id": start.pk} if spec.needs_image else {})}
        if with_end or spec.needs_end_image:
            params["end_image_id"] = end.pk
        job = GenerationJob.objects.create(
            owner=user,
            model_id=spec.id,
            provider=spec.provider,
            prompt="a lighthouse",
            params=params,
        )
        provider = get_provider(spec.provider)
        images = stage_job_images(job, provider)
        assert all(not url.startswith((PUBLIC, s3_storage)) for url in images.values())
        submission = provider.submit(submit_request(job, images=images))
        record = (fal if spec.provider == "fal" else replicate).records[submission.request_id]
        assert same_pixels(record.fetched[spec.image_field], picture((10, 200, 10))), spec.id
        if "end_image_id" in params:
            assert same_pixels(record.fetched[spec.end_image_field], picture((200, 200, 10)))
