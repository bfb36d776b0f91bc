"""A ~40 MB file through the chunked API route of a real web server over real sockets,
with the connection dropped halfway through a chunk: the client asks for the stored
offset, resumes from it, and the stored file is byte-for-byte the source (no duplicated
bytes); a real worker then makes the item ready."""

from __future__ import annotations

import hashlib
import os
import wave
from pathlib import Path

import httpx
import pytest

from generation.services import api_token_create
from media_library.models import MediaItem, UploadSession
from tests.harness.chunked_upload import OCTETS, file_reader, upload_in_chunks, web_server
from tests.harness.media_files import delete_media_files
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHUNK = 8 * 1024 * 1024


@pytest.fixture
def web(process_env):
    with web_server({**process_env, "UPLOAD_CHUNK_BYTES": str(CHUNK), "API_RATE": "1000/m"}) as s:
        yield s


@pytest.fixture
def cleanup_media():
    yield
    delete_media_files()


def make_noise_wav(path: Path, *, megabytes: int) -> Path:
    """A real, valid WAV of random 16-bit stereo noise, written a megabyte at a time."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(48000)
        for _ in range(megabytes):
            out.writeframes(os.urandom(1024 * 1024))
    return path


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def test_forty_megabytes_in_chunks_survive_a_dropped_connection(
    web, celery_worker, user, tmp_path, cleanup_media
):
    source = make_noise_wav(tmp_path / "field recording.wav", megabytes=40)
    size = source.stat().st_size
    token = api_token_create(user=user, name="integration")[1]
    resumed_at = []

    def after_drop(http, path, offset):
        # Only whole, acknowledged chunks were kept.
        assert offset % CHUNK == 0 and offset <= size // 2 + CHUNK
        # A client that lost track and re-sends an older chunk gets a 409.
        stale = http.patch(
            path, content=b"x" * 10, headers={"Upload-Offset": "0", "Content-Type": OCTETS}
        )
        assert stale.status_code == 409
        assert int(stale.headers["Upload-Offset"]) == offset
        resumed_at.append(offset)

    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=web.url, headers=auth, timeout=60) as http:
        result = upload_in_chunks(
            http,
            token,
            filename=source.name,
            size=size,
            content_type="audio/wav",
            read=file_reader(source),
            drop_halfway=True,
            after_drop=after_drop,
        )
    assert result.session["chunk_size"] == CHUNK
    assert result.dropped and len(resumed_at) == 1
    assert result.media is not None and result.offset == size

    item = MediaItem.objects.get(pk=result.media["id"])
    assert item.size_bytes == size and item.kind == "audio"
    assert sha256_of(item.file.path) == sha256_of(source)
    session = UploadSession.objects.get(pk=result.session["id"])
    assert session.status == "done" and session.media_item_id == item.pk
    wait_until(
        lambda: MediaItem.objects.get(pk=item.pk).status != "processing",
        timeout=120,
        what="the worker to process the uploaded file",
    )
    item.refresh_from_db()
    assert item.status == "ready", item.error_message
    assert item.duration_s == pytest.approx(size / (48000 * 4), rel=0.01)
