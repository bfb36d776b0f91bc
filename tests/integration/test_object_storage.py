"""Media on S3-compatible object storage (moto's server mode on a free port, real HTTP):
upload, processing (probe + poster from a downloaded copy), a generated result
(finalize), a timeline export reading remote sources, and signed download URLs that
only the owner is sent to."""

from __future__ import annotations

import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from editor.models import Export
from editor.services.clips import clip_add
from editor.services.exports import export_run, export_start
from editor.services.timelines import timeline_create
from generation.models import GenerationJob, JobStatus
from generation.services.finalize import complete_with_file
from media_library.models import MediaItem
from media_library.services import media_process
from media_library.testing import make_video
from tests.harness.processes import free_port

pytestmark = pytest.mark.django_db

ACCESS, SECRET = "testing-access", "testing-secret"


@pytest.fixture(scope="module")
def moto_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(moto_server, settings, tmp_path):
    bucket = f"cutroom-{uuid.uuid4().hex[:10]}"
    client = boto3.client(
        "s3",
        endpoint_url=moto_server,
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": moto_server,
                "region_name": "us-east-1",
                "access_key": ACCESS,
                "secret_key": SECRET,
                "querystring_auth": True,
                "querystring_expire": 120,
                "file_overwrite": False,
                "default_acl": None,
                "signature_version": "s3v4",  # as project/settings.py configures it
            },
        },
    }
    settings.MEDIA_STORAGE_IS_REMOTE = True
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    settings.MEDIA_ROOT = tmp_path / "local-scratch"  # work dirs only; media goes to S3
    client.bucket = bucket
    return client


def keys(s3) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=s3.bucket).get("Contents", [])}


def owner_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_upload_process_and_signed_download(
    s3, user, other_user, tmp_path, django_capture_on_commit_callbacks
):
    video = make_video(tmp_path / "clip.mp4", seconds=1.5, audio=True).read_bytes()
    client = owner_client(user)
    with django_capture_on_commit_callbacks(execute=False):  # processing is run below
        response = client.post(
            reverse("media_library:upload"),
            {"file": SimpleUploadedFile("Beach day.mp4", video, content_type="video/mp4")},
        )
    assert response.status_code == 201, response.content
    item = MediaItem.objects.get(owner=user)
    assert item.file.name in keys(s3)
    assert not (tmp_path / "local-scratch" / item.file.name).exists()

    # Processing reads a downloaded copy (the storage has no local path).
    item = media_process(media_id=item.pk)
    assert item.status == MediaItem.Status.READY and item.duration_s == pytest.approx(1.5, abs=0.1)
    assert item.poster.name and {item.poster.name, item.filmstrip.name} <= keys(s3)

    # The owner is redirected to a short-lived signed URL with our disposition.
    served = client.get(reverse("media_library:file", args=[item.pk]) + "?download=1")
    assert served.status_code == 302
    assert "no-store" in served["Cache-Control"]
    url = served["Location"]
    query = parse_qs(urlsplit(url).query)
    assert "X-Amz-Signature" in query and int(query["X-Amz-Expires"][0]) == 120
    assert query["response-content-disposition"][0].startswith("attachment;")
    fetched = httpx.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == video
    assert fetched.headers["content-disposition"].startswith('attachment; filename="Beach day.mp4"')
    ranged = httpx.get(url, headers={"Range": "bytes=0-99"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content == video[:100]

    poster = client.get(reverse("media_library:derived", args=[item.pk, "poster"]))
    assert poster.status_code == 302
    assert httpx.get(poster["Location"], timeout=10).content[:2] == b"\xff\xd8"

    # Another user is not sent anywhere.
    stranger = owner_client(other_user)
    for url in (
        reverse("media_library:file", args=[item.pk]),
        reverse("media_library:derived", args=[item.pk, "poster"]),
    ):
        refused = stranger.get(url)
        assert refused.status_code == 404 and "Location" not in refused


def test_generated_result_lands_in_the_bucket(
    s3, user, tmp_path, django_capture_on_commit_callbacks
):
    job = GenerationJob.objects.create(
        owner=user,
        model_id="hailuo",
        provider="fal",
        prompt="a fox in the snow",
        status=JobStatus.DOWNLOADING,
        estimated_cost=Decimal("0.27"),
        provider_request_id="r-1",
    )
    result = make_video(tmp_path / "result.mp4", seconds=1.0)
    with django_capture_on_commit_callbacks(execute=False):
        item = complete_with_file(job, result, actual_cost="0.25")
    assert item is not None and item.source == MediaItem.Source.GENERATED
    assert item.file.name in keys(s3)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.media_item_id == item.pk
    assert media_process(media_id=item.pk).status == MediaItem.Status.READY


def test_export_reads_remote_sources_and_writes_the_result_to_the_bucket(
    s3, user, tmp_path, django_capture_on_commit_callbacks
):
    from media_library.services import media_create_from_file

    with django_capture_on_commit_callbacks(execute=False):
        source = media_create_from_file(
            owner=user,
            path_or_file=make_video(tmp_path / "a.mp4", seconds=2.0, audio=True),
            title="a",
            source=MediaItem.Source.UPLOAD,
        )
    source = media_process(media_id=source.pk)
    timeline = timeline_create(owner=user, name="remote")
    clip_add(timeline=timeline, media_item=source, start_s=0)
    clip_add(timeline=timeline, media_item=source, start_s=2)
    with django_capture_on_commit_callbacks(execute=False):
        export = export_start(timeline=timeline, preset="480p", file_name="remote cut")
    # The frozen spec names stored objects, not signed URLs that would expire in the queue.
    paths = {c["path"] for t in export.spec["tracks"] for c in t["clips"]}
    assert paths == {f"storage:{source.file.name}"}

    with django_capture_on_commit_callbacks(execute=False):
        done = export_run(export_id=export.pk)
    assert done.status == Export.Status.SUCCEEDED, done.error_message
    result = done.result
    assert result.source == MediaItem.Source.EXPORT and result.file.name in keys(s3)
    result = media_process(media_id=result.pk)
    assert result.duration_s == pytest.approx(4.0, abs=0.2)
    # The local copies of the sources are gone.
    assert not list((tmp_path / "local-scratch" / "tmp" / "exports").glob("export-*"))


def test_export_with_a_missing_remote_source_fails_clearly(
    s3, user, tmp_path, django_capture_on_commit_callbacks
):
    from media_library.services import media_create_from_file

    with django_capture_on_commit_callbacks(execute=False):
        source = media_create_from_file(
            owner=user,
            path_or_file=make_video(tmp_path / "a.mp4", seconds=1.0),
            title="a",
            source=MediaItem.Source.UPLOAD,
        )
    source = media_process(media_id=source.pk)
    timeline = timeline_create(owner=user, name="remote")
    clip_add(timeline=timeline, media_item=source, start_s=0)
    with django_capture_on_commit_callbacks(execute=False):
        export = export_start(timeline=timeline, preset="480p", file_name="cut")
    s3.delete_object(Bucket=s3.bucket, Key=source.file.name)
    with django_capture_on_commit_callbacks(execute=False):
        done = export_run(export_id=export.pk)
    assert done.status == Export.Status.FAILED
    assert done.error_message == "A clip's file could not be read from storage."
