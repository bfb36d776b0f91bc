"""Hostile request bodies over a real socket, shared by the test and bench/hostile_bodies.py:
send a large multipart POST (with a declared length, or chunked without one) as fast as
the server takes it, and read the peak memory of the server process from /proc."""

from __future__ import annotations

import socket
import time
from pathlib import Path

MB = 1024 * 1024
BOUNDARY = "cutroomhostile"
PIECE = b"\0" * MB


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size of a process since it started (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def multipart_post(
    port: int, path: str, size_mb: int, *, chunked: bool = False, timeout: float = 60
) -> tuple[int | None, float]:
    """POST `size_mb` of file data as multipart. Returns (status or None if the server
    closed before answering, seconds until the server answered or closed)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="x.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head) + size_mb * MB + len(tail)
    headers = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}",
        "Connection: close",
    ]
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())

        def frame(data: bytes) -> bytes:
            return b"%x\r\n%s\r\n" % (len(data), data) if chunked else data

        try:
            sock.sendall(frame(head))
            for _ in range(size_mb):
                sock.sendall(frame(PIECE))
            sock.sendall(frame(tail) + (b"0\r\n\r\n" if chunked else b""))
        except OSError:
            pass  # the server refused and closed while we were still sending: expected
        try:
            answer = sock.recv(4096)
        except OSError:
            answer = b""
    finally:
        sock.close()
    elapsed = time.monotonic() - started
    if answer.startswith(b"HTTP/1.1 "):
        return int(answer[9:12]), elapsed
    return None, elapsed
