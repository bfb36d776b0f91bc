"""Admin › Provider connections › Your ComfyUI servers, against the emulator: two servers,
one of them down, each shown with its state, queue, GPU memory and last error."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from generation import catalog
from generation.providers.base import SubmitRequest
from generation.providers.comfyui import ComfyUIProvider, forget_server
from tests.emulators.comfyui import ComfyUIEmulator
from tests.harness.processes import wait_until

pytestmark = pytest.mark.django_db

URL_NAME = "admin:generation_provider_connections"


@pytest.fixture
def farm(settings):
    """A server that answers and one that was killed (nothing listens on its port); the
    dead one sits behind a reverse proxy's basic auth, which the page must not show."""
    dead = ComfyUIEmulator(steps=2, step_s=0.01).start()
    dead.kill()
    with ComfyUIEmulator(steps=2, step_s=0.01) as up:
        dead_url = dead.url.replace("http://", "http://op:s3cret-pw@")
        settings.COMFYUI_URLS = [up.url, dead_url]
        settings.PROVIDER_HTTP_TIMEOUT_S = 1.0
        for url in settings.COMFYUI_URLS:
            forget_server(url)
        yield up, dead_url
        up.release()
        for url in settings.COMFYUI_URLS:
            forget_server(url)


def rows(body: str) -> list[str]:
    table = body.split('id="comfyui-servers"', 1)[1].split("</table>", 1)[0]
    return re.split(r'<tr class="comfyui-server"', table)[1:]


def cell(row: str, name: str) -> str:
    found = re.search(rf'<td class="comfyui-{name}">(.*?)</td>', row, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()) if found else ""


def test_admin_shows_each_servers_health_queue_and_gpus(admin_client, farm):
    up, dead_url = farm
    up.hold()  # two of our prompts: one running (held), one pending behind it
    provider = ComfyUIProvider()
    spec = catalog.get("comfyui-wan22")
    for job_id in (1, 2):
        provider.submit(
            SubmitRequest(
                job_id=job_id,
                model_id=spec.id,
                endpoint=spec.endpoint,
                prompt="a paper boat",
                params={"duration": 2, "resolution": "480p"},
            )
        )
    wait_until(lambda: up.queue_snapshot()["running"], timeout=5, what="one prompt running")
    url = reverse(URL_NAME)

    # A GET asks no server (one that hangs must not hang the page): known state only.
    listed = rows(admin_client.get(url).content.decode())
    assert len(listed) == 2
    assert 'data-state="not checked"' in listed[0]
    assert 'data-state="skipped"' in listed[1]  # they failed to reach the dead one
    assert cell(listed[0], "running") == "—"  # not asked: no made-up counts

    body = admin_client.post(url, {"provider": "comfyui"}).content.decode()
    alive, down = rows(body)
    assert 'data-state="answering"' in alive and "Answering" in cell(alive, "state")
    assert cell(alive, "running") == "1" and cell(alive, "pending") == "1"
    assert cell(alive, "devices") == "cuda:0 Emulated GPU: 20.0 GB free of 24.0 GB"
    assert "0.3.60-emulator" in alive and cell(alive, "last-error") == "—"

    assert 'data-state="not answering"' in down and "Not answering" in cell(down, "state")
    assert "new jobs skip it until" in cell(down, "state")
    assert cell(down, "running") == "—" and cell(down, "devices") == "—"
    assert cell(down, "last-error").startswith("ConnectError: could not connect")
    # The URL is shown without the proxy's password, anywhere on the page.
    assert "op:***@127.0.0.1" in down and "s3cret-pw" not in body


def test_admin_says_why_when_no_servers_are_configured(admin_client, settings):
    settings.COMFYUI_URLS = []
    body = admin_client.get(reverse(URL_NAME)).content.decode()
    section = body.split('id="comfyui-servers-title"', 1)[1]
    assert "set COMFYUI_URLS" in section and 'class="comfyui-server"' not in section
