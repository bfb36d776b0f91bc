"""A ~40 MB file through the chunked API route of a real web server over real sockets,
with the connection dropped halfway through a chunk: the client asks for the stored
offset, resumes from it, and the stored file is byte-for-byte the source (no duplicated
bytes); a real worker then makes the item ready."""

from __future__ import annotations

import hashlib
import os
import socket
import wave
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from generation.services import api_token_create
from media_library.models import MediaItem, UploadSession
from tests.harness import processes
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WebServer = getattr(processes, "WebServer", None) or processes.DaphneServer
CHUNK = 8 * 1024 * 1024


@pytest.fixture
def web(process_env):
    server = WebServer({**process_env, "UPLOAD_CHUNK_BYTES": str(CHUNK), "API_RATE": "1000/m"})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cleanup_media():
    yield
    for item in MediaItem.objects.all():
        for f in (item.file, item.poster, item.filmstrip, item.waveform):
            if f:
                f.storage.delete(f.name)


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


def drop_mid_chunk(base_url: str, path: str, token: str, offset: int, chunk: bytes) -> None:
    """A raw HTTP/1.1 PATCH that promises the whole chunk, sends half of it, and closes."""
    parts = urlsplit(base_url)
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nUpload-Offset: {offset}\r\n"
        "Content-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(chunk)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head + chunk[: len(chunk) // 2])
        sock.shutdown(socket.SHUT_RDWR)


def test_forty_megabytes_in_chunks_survive_a_dropped_connection(
    web, celery_worker, user, tmp_path, cleanup_media
):
    source = make_noise_wav(tmp_path / "field recording.wav", megabytes=40)
    size = source.stat().st_size
    token = api_token_create(user=user, name="integration")[1]
    auth = {"Authorization": f"Bearer {token}"}

    with httpx.Client(base_url=web.url, headers=auth, timeout=60) as http:
        created = http.post(
            "/api/uploads", json={"filename": source.name, "size": size, "type": "audio/wav"}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["chunk_size"] == CHUNK
        path = urlsplit(body["url"]).path
        offset, dropped, media = 0, False, None
        with open(source, "rb") as fh:
            while offset < size:
                fh.seek(offset)
                chunk = fh.read(CHUNK)
                if not dropped and offset >= size // 2:
                    dropped = True
                    drop_mid_chunk(web.url, path, token, offset, chunk)
                    # The server kept only whole, acknowledged chunks: ask it where to go on.
                    head = http.head(path)
                    assert head.status_code == 200
                    offset = int(head.headers["Upload-Offset"])
                    assert offset % CHUNK == 0 and offset <= size // 2 + CHUNK
                    # A client that lost track and re-sends an older chunk gets a 409.
                    stale = http.patch(
                        path,
                        content=b"x" * 10,
                        headers={
                            "Upload-Offset": "0",
                            "Content-Type": "application/offset+octet-stream",
                        },
                    )
                    assert stale.status_code == 409
                    assert int(stale.headers["Upload-Offset"]) == offset
                    continue
                response = http.patch(
                    path,
                    content=chunk,
                    headers={
                        "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                    },
                )
                assert response.status_code in (201, 204), response.text
                offset = int(response.headers["Upload-Offset"])
                if response.status_code == 201:
                    media = response.json()
        assert dropped and media is not None and offset == size

    item = MediaItem.objects.get(pk=media["id"])
    assert item.size_bytes == size and item.kind == "audio"
    assert sha256_of(item.file.path) == sha256_of(source)
    session = UploadSession.objects.get(pk=body["id"])
    assert session.status == "done" and session.media_item_id == item.pk
    wait_until(
        lambda: MediaItem.objects.get(pk=item.pk).status != "processing",
        timeout=120,
        what="the worker to process the uploaded file",
    )
    item.refresh_from_db()
    assert item.status == "ready", item.error_message
    assert item.duration_s == pytest.approx(size / (48000 * 4), rel=0.01)
