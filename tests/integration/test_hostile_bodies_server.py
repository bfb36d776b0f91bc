"""An anonymous 128 MB multipart POST must not cost the web process memory: the real web
server (uvicorn, as `make run` starts it) refuses it from its headers, or, without a
declared length, at the cap. Before the switch from daphne, this raised the process's
peak memory by 8-12x the body (256 MB -> +2.6 GB)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.integration.hostile_bodies import multipart_post, peak_rss_mb

pytestmark = pytest.mark.django_db(transaction=True)
BODY_MB = 128


@pytest.mark.parametrize(
    ("path", "chunked"),
    [
        ("/no-such-page/", False),  # a 404 URL: nothing routes it, nothing should read it
        ("/media/upload/", False),  # the small upload form, anonymous
        ("/accounts/login/", True),  # no Content-Length: cut off while streaming
    ],
)
def test_an_anonymous_large_multipart_post_costs_no_memory(daphne_server, path, chunked):
    pid = daphne_server.pid
    before = peak_rss_mb(pid)
    status, _ = multipart_post(daphne_server.port, path, BODY_MB, chunked=chunked)
    assert status in (413, None)  # None: closed before we finished sending, also a refusal
    growth = peak_rss_mb(pid) - before
    print(f"{path} chunked={chunked}: peak RSS +{growth:.1f} MB for a {BODY_MB} MB body")
    assert growth < 100
    # The process is still serving.
    assert httpx.get(f"{daphne_server.url}/accounts/login/", timeout=5).status_code == 200


def test_an_unrelated_request_is_not_stalled_by_a_hostile_upload(daphne_server):
    worst = 0.0
    done = threading.Event()

    def attack():
        try:
            for _ in range(3):
                multipart_post(daphne_server.port, "/no-such-page/", BODY_MB, chunked=True)
        finally:
            done.set()

    thread = threading.Thread(target=attack)
    thread.start()
    with httpx.Client(timeout=10) as client:
        while not done.is_set():
            started = time.monotonic()
            assert client.get(f"{daphne_server.url}/accounts/login/").status_code == 200
            worst = max(worst, time.monotonic() - started)
    thread.join(timeout=60)
    print(f"slowest sign-in page during the attack: {worst * 1000:.0f} ms")
    assert worst < 1.0
