"""The accepted part of the hostile corpus goes through the real worker: every item ends
ready or failed-with-a-reason within the processing time limit, the lying header ends up
with the true length, and a plain upload queued behind them still gets processed (no
worker is left stuck on a hostile file)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from media_library.models import MediaItem
from media_library.testing import make_video
from tests.harness.processes import wait_until
from tests.hostile_corpus import HOSTILE_NAMES, Accepted, corpus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cleanup_media():
    yield
    for item in MediaItem.objects.all():
        for f in (item.file, item.poster, item.filmstrip, item.waveform):
            if f:
                f.storage.delete(f.name)


def test_accepted_hostile_files_are_processed_and_do_not_stick_the_worker(
    celery_worker, live_client, client, user, tmp_path, cleanup_media
):
    tab = live_client(user)
    client.force_login(user)
    accepted = {
        case: (name, data)
        for case, (name, data, expected) in corpus(tmp_path).items()
        if isinstance(expected, Accepted)
    }
    accepted["unicode + markup name"] = (
        HOSTILE_NAMES["unicode"] + HOSTILE_NAMES["markup"],
        accepted["png 1 x 40000"][1],
    )
    ids: dict[str, int] = {}
    for case, (name, data) in accepted.items():
        response = client.post(
            reverse("media_library:upload"),
            {"file": SimpleUploadedFile(name, data, content_type="text/html")},
        )
        assert response.status_code == 201, (case, response.content)
        ids[case] = MediaItem.objects.latest("pk").pk
    # A plain clip queued last: it only gets processed if no hostile file holds the worker.
    plain = make_video(tmp_path / "plain.mp4", seconds=2)
    response = client.post(
        reverse("media_library:upload"),
        {"file": SimpleUploadedFile("plain.mp4", plain.read_bytes())},
    )
    assert response.status_code == 201
    ids["plain"] = MediaItem.objects.latest("pk").pk

    limit = settings.MEDIA_PROBE_TIME_LIMIT_S + 30

    def all_settled():
        rows = MediaItem.objects.filter(pk__in=ids.values())
        return all(r.status != MediaItem.Status.PROCESSING for r in rows)

    wait_until(all_settled, timeout=limit, what="every hostile upload to be processed")
    items = {case: MediaItem.objects.get(pk=pk) for case, pk in ids.items()}
    for case, item in items.items():
        if item.status == MediaItem.Status.FAILED:
            assert item.error_message.strip(), case
        else:
            assert item.status == MediaItem.Status.READY, case
            assert item.poster, f"{case}: ready without a poster"
    assert items["plain"].status == MediaItem.Status.READY
    # FFmpeg reads the length from the samples, not the lying header.
    assert items["mp4 claiming 100x its length"].status == MediaItem.Status.READY
    assert items["mp4 claiming 100x its length"].duration_s == pytest.approx(3.0, abs=0.2)
    assert (items["png 60000 x 1 (absurd shape, under the cap)"].width) == 60000
    # Each settled card reached the tab, with the hostile title as text.
    for pk in ids.values():
        tab.wait_for(lambda m, pk=pk: f'id="media-{pk}"' in m and "processing" not in m)
    hostile_card = next(
        m for m in tab.messages if f'id="media-{ids["unicode + markup name"]}"' in m
    )
    assert "<img src=x" not in hostile_card and "&lt;img src=x" in hostile_card
