"""Bridge two shots (editor.services.slots.bridge_*): two clips that touch on one track,
A's frame at its out point and B's at its in point, a first-and-last-frame model, the slot
between them with B and later clips moved right, and B rippling by the delivered length
on fill. Refusals change nothing. The provider side is tests/integration/test_slots_worker.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from editor import services
from editor import tasks as editor_tasks
from editor.models import Clip, EditOperation, Slot, Track
from editor.services import slots
from generation.models import GenerationJob, JobStatus
from media_library.models import MediaItem

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.GENERATION_RATE = "1000/m"
    settings.GENERATION_COOLDOWN_S = 0
    settings.GENERATION_MAX_CONCURRENT = 50
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("20")
    settings.FAL_KEY = "test-key"
    cache.clear()


@pytest.fixture
def timeline(user):
    return services.timeline_create(owner=user, name="Bridge")


@pytest.fixture
def v1(timeline):
    return timeline.tracks.get(kind=Track.Kind.VIDEO)


@pytest.fixture
def two_shots(user, media_root, tmp_path, timeline, v1):
    """A (0..1.5 s of a 3 s clip) then B (in 0.5 s) touching it, then C after B; the
    files are real, so frames are decoded from them."""
    from media_library.services import media_create_from_file, media_process
    from media_library.testing import make_video

    path = make_video(tmp_path / "shot.mp4", seconds=3.0, width=160, height=90, fps=24)
    item = media_create_from_file(
        owner=user, path_or_file=str(path), title="Harbour", source=MediaItem.Source.UPLOAD
    )
    item = media_process(media_id=item.pk)
    (a,) = services.clip_add(timeline=timeline, media_item=item, start_s=0, track=v1, out_s=1.5)
    (b,) = services.clip_add(
        timeline=timeline, media_item=item, start_s=1.5, track=v1, in_s=0.5, out_s=2.5
    )
    (c,) = services.clip_add(timeline=timeline, media_item=item, start_s=3.5, track=v1, out_s=1)
    return a, b, c, path


def frames_of(path) -> list:
    import av

    with av.open(str(path)) as container:
        return [f.to_image() for f in container.decode(video=0)]


def diff(a, b) -> float:
    from PIL import ImageChops, ImageStat

    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def image_of(item):
    from PIL import Image

    with item.file.open("rb") as fh:
        return Image.open(fh).copy()


def bridge(timeline, user, a, b, model="veo3.1-fast-flf", **params):
    return slots.slot_create(
        timeline=timeline,
        user=user,
        model_id=model,
        params={"prompt": "the tide comes in", "duration": 4, **params},
        after_clip=a,
        bridge_to=b,
    )


def test_bridge_takes_both_frames_and_inserts_the_slot_between(
    timeline, user, v1, two_shots, enqueued
):
    a, b, c, path = two_shots
    slot = bridge(timeline, user, a, b)
    job = slot.job
    assert job.model_id == "veo3.1-fast-flf"
    first = MediaItem.objects.get(pk=job.params["image_id"])
    last = MediaItem.objects.get(pk=job.params["end_image_id"])
    decoded = frames_of(path)
    # A's out point 1.5 s at 24 fps: frame 35 is the last shown. B's in point 0.5 s: frame 12.
    assert diff(image_of(first), decoded[35]) < 1.0 and diff(image_of(first), decoded[36]) > 2
    assert diff(image_of(last), decoded[12]) < 1.0 and diff(image_of(last), decoded[11]) > 2
    assert (slot.track_id, slot.start_s, slot.duration_s) == (v1.pk, 1.5, 4.0)
    b.refresh_from_db()
    c.refresh_from_db()
    assert (b.start_s, c.start_s) == (5.5, 7.5)  # both moved right by the slot's length
    assert EditOperation.objects.filter(label="Make room for a generation").count() == 1


def test_the_selection_order_does_not_matter(timeline, user, two_shots, enqueued):
    a, b, _c, _ = two_shots
    slot = bridge(timeline, user, b, a)
    assert slot.start_s == 1.5


def test_on_fill_b_ripples_by_the_delivered_length(
    timeline, user, two_shots, enqueued, monkeypatch
):
    monkeypatch.setattr(editor_tasks.slot_fill, "delay", lambda *a: None)
    a, b, c, _ = two_shots
    slot = bridge(timeline, user, a, b)
    delivered = MediaItem.objects.create(
        owner=user, kind="video", title="t", file="u/t.mp4", duration_s=6.2, status="ready"
    )
    GenerationJob.objects.filter(pk=slot.job_id).update(
        status=JobStatus.SUCCEEDED, media_item=delivered, progress=100
    )
    assert slots.slot_fill(slot_id=slot.pk) == "filled"
    b.refresh_from_db()
    c.refresh_from_db()
    clip = Clip.objects.get(pk=Slot.objects.get(pk=slot.pk).clip_id)
    assert (clip.start_s, clip.duration_s) == (1.5, 6.2)
    assert (b.start_s, c.start_s) == (7.7, 9.7)  # A's end + the delivered 6.2 s


def refused(timeline, user, a, b, *, model="veo3.1-fast-flf"):
    before = (
        list(Clip.objects.order_by("pk").values_list("pk", "start_s")),
        EditOperation.objects.count(),
        MediaItem.objects.count(),
    )
    with pytest.raises(slots.ValidationError) as exc:
        bridge(timeline, user, a, b, model=model)
    after = (
        list(Clip.objects.order_by("pk").values_list("pk", "start_s")),
        EditOperation.objects.count(),
        MediaItem.objects.count(),
    )
    assert exc.value.code == slots.SLOT_NO_BRIDGE
    assert after == before and not Slot.objects.exists() and not GenerationJob.objects.exists()
    return exc.value.messages[0]


def test_clips_that_do_not_touch_are_refused_and_nothing_changes(timeline, user, two_shots):
    a, _b, c, _ = two_shots
    assert "does not follow" in refused(timeline, user, a, c)


def test_clips_on_two_tracks_are_refused(timeline, user, two_shots):
    a, b, _c, _ = two_shots
    from editor.services.timelines import track_create

    v2 = track_create(timeline=timeline, kind=Track.Kind.VIDEO)
    Clip.objects.filter(pk=b.pk).update(track=v2)
    assert "one video track" in refused(timeline, user, a, b)


def test_a_model_without_a_last_frame_is_refused_naming_those_that_take_one(
    timeline, user, two_shots
):
    a, b, _c, _ = two_shots
    message = refused(timeline, user, a, b, model="hailuo")
    assert "can't take a first and a last frame" in message and "Veo 3.1" in message


def test_no_model_available_says_so(timeline, user, two_shots, settings):
    settings.FAL_KEY = ""
    a, b, _c, _ = two_shots
    assert refused(timeline, user, a, b) == slots.NO_BRIDGE_MODEL


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


def test_bridge_endpoint_offers_only_first_and_last_frame_models(
    browser, timeline, two_shots, settings
):
    a, b, c, _ = two_shots
    url = reverse("editor:slot_bridge", args=[timeline.pk])
    response = browser.post(url, {"clip_a": a.pk, "clip_b": b.pk})
    assert response.status_code == 200, response.content
    html = response.content.decode()
    assert "Bridge two shots" in html and f'name="bridge_to" value="{b.pk}"' in html
    assert 'value="veo3.1-fast-flf"' in html and 'value="hailuo-i2v"' in html
    assert 'value="hailuo"' not in html and 'value="kling-2.1-i2v"' not in html
    refused = browser.post(url, {"clip_a": a.pk, "clip_b": c.pk})
    assert refused.status_code == 400 and "does not follow" in refused.content.decode()
    settings.FAL_KEY = ""
    none = browser.post(url, {"clip_a": a.pk, "clip_b": b.pk})
    assert none.status_code == 400 and none.content.decode() == slots.NO_BRIDGE_MODEL


def test_bridge_through_the_create_endpoint(browser, timeline, two_shots, enqueued):
    a, b, _c, _ = two_shots
    response = browser.post(
        reverse("editor:slot_create", args=[timeline.pk]),
        {
            "prompt": "the tide",
            "model": "veo3.1-fast-flf",
            "duration": "4",
            "after_clip": a.pk,
            "bridge_to": b.pk,
        },
    )
    assert response.status_code == 200, response.content
    job = Slot.objects.get().job
    assert job.params["image_id"] and job.params["end_image_id"]


# --- the API: bridge_to_clip_id on POST /api/timelines/<id>/slots ----------------------------


def test_the_api_bridges_two_clips_and_says_why_not(user, timeline, two_shots, enqueued):
    import json

    from generation.services import api_token_create

    a, b, c, _ = two_shots
    headers = {"Authorization": f"Bearer {api_token_create(user=user, name='t')[1]}"}
    client = Client()

    def post(body):
        return client.post(
            f"/api/timelines/{timeline.pk}/slots",
            json.dumps({"prompt": "the tide", "model": "veo3.1-fast-flf", "duration": 4, **body}),
            content_type="application/json",
            headers=headers,
        )

    not_adjacent = post({"after_clip_id": a.pk, "bridge_to_clip_id": c.pk})
    assert not_adjacent.status_code == 400
    assert "does not follow" in not_adjacent.json()["errors"]["bridge_to_clip_id"]
    wrong_model = post({"after_clip_id": a.pk, "bridge_to_clip_id": b.pk, "model": "hailuo"})
    assert wrong_model.status_code == 400 and not Slot.objects.exists()
    response = post({"after_clip_id": a.pk, "bridge_to_clip_id": b.pk})
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["start"], body["duration"]) == (1.5, 4.0)
    params = GenerationJob.objects.get(pk=body["job"]["job_id"]).params
    assert params["image_id"] and params["end_image_id"]
    doc = client.get("/api/openapi.json", headers=headers).json()
    assert "bridge_to_clip_id" in doc["components"]["schemas"]["SlotIn"]["properties"]


def test_a_frame_processed_first_by_the_media_worker_is_used(two_shots, monkeypatch):
    """The create enqueues the media task; when the worker marks the still ready first,
    this request's own processing loses the transition and the ready item is used."""
    from media_library import services as media_services
    from project.state_machine import IllegalTransition

    real = media_services.media_process

    def worker_won(*, media_id):
        real(media_id=media_id)  # the worker's task
        raise IllegalTransition("media: expected processing, found ready")

    monkeypatch.setattr(media_services, "media_process", worker_won)
    a, b, _c, _ = two_shots
    first, last = slots.bridge_frames(clip_a=a, clip_b=b)
    assert (first.status, last.status) == ("ready", "ready") and first.pk != last.pk
