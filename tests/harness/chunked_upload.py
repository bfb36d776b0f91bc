"""A client of the chunked upload API (docs/uploads.md) over real sockets, for the tests and
the bench that send a file through `POST /api/uploads` + `PATCH` chunks: one loop, which can
cut one chunk off half-way (a raw socket that promises the whole chunk, sends half and
closes) and then resume from the offset the server reports (HEAD)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from .processes import WebServer

OCTETS = "application/offset+octet-stream"


@contextmanager
def web_server(env: dict[str, str]) -> Iterator[WebServer]:
    """A web server with these settings (environment) for the length of the block."""
    server = WebServer(env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def drop_mid_chunk(
    base_url: str, path: str, token: str, offset: int, chunk: bytes, *, timeout: float = 30
) -> None:
    """A raw HTTP/1.1 PATCH that promises the whole chunk, sends half of it, and closes."""
    parts = urlsplit(base_url)
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nUpload-Offset: {offset}\r\n"
        f"Content-Type: {OCTETS}\r\n"
        f"Content-Length: {len(chunk)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head + chunk[: len(chunk) // 2])
        sock.shutdown(socket.SHUT_RDWR)


@dataclass
class ChunkedUpload:
    session: dict  # the answer to POST /api/uploads
    media: dict | None  # the 201 answer of the last chunk
    offset: int  # the server's offset after the last chunk
    requests: int  # chunk PATCHes answered (the dropped one is not counted)
    dropped: bool
    resent_bytes: int  # bytes sent again after the resume (the drop's cost)
    elapsed: float  # seconds from the first chunk to the last answer


class UploadRefused(AssertionError):
    """The server answered a step with an unexpected status (the text says which)."""


def upload_in_chunks(
    http: httpx.Client,
    token: str,
    *,
    filename: str,
    size: int,
    content_type: str,
    read: Callable[[int, int], bytes],
    drop_halfway: bool = False,
    after_drop: Callable[[httpx.Client, str, int], None] | None = None,
) -> ChunkedUpload:
    """Send `size` bytes, `read(offset, length)` at a time, in the chunks the server names.

    With `drop_halfway`, the first chunk at or past the middle is cut off mid-body; the
    server's stored offset (HEAD) is where the upload goes on, and `after_drop(http, path,
    offset)` may check the server's state there before it does."""
    created = http.post(
        "/api/uploads", json={"filename": filename, "size": size, "type": content_type}
    )
    if created.status_code != 201:
        raise UploadRefused(f"create: {created.status_code} {created.text}")
    session = created.json()
    path, chunk_size = urlsplit(session["url"]).path, session["chunk_size"]
    offset, dropped, resent, requests, media = 0, False, 0, 0, None
    started = time.perf_counter()
    while offset < size:
        chunk = read(offset, chunk_size)
        if drop_halfway and not dropped and offset >= size // 2:
            dropped = True
            drop_mid_chunk(str(http.base_url), path, token, offset, chunk)
            # The server kept only whole, acknowledged chunks: ask it where to go on.
            head = http.head(path)
            if head.status_code != 200:
                raise UploadRefused(f"HEAD after the drop: {head.status_code}")
            stored = int(head.headers["Upload-Offset"])
            resent = offset - stored + len(chunk) // 2
            if after_drop is not None:
                after_drop(http, path, stored)
            offset = stored
            continue
        response = http.patch(
            path, content=chunk, headers={"Content-Type": OCTETS, "Upload-Offset": str(offset)}
        )
        requests += 1
        if response.status_code not in (201, 204):
            raise UploadRefused(f"chunk at {offset}: {response.status_code} {response.text}")
        offset = int(response.headers["Upload-Offset"])
        if response.status_code == 201:
            media = response.json()
    return ChunkedUpload(
        session=session,
        media=media,
        offset=offset,
        requests=requests,
        dropped=dropped,
        resent_bytes=resent,
        elapsed=time.perf_counter() - started,
    )


def file_reader(path) -> Callable[[int, int], bytes]:
    """`read(offset, length)` over a file on disk (opened for each read: no handle leaks)."""

    def read(offset: int, length: int) -> bytes:
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read(length)

    return read
