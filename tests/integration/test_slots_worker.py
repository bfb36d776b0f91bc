"""Slots with a real Celery worker: the offline `local` renderer and the strict fal
emulator deliver the clip, and the slot fills by itself with no browser open; a worker
SIGKILLed mid-render still fills it exactly once; cancel from the slot; a failed slot
keeps the provider's sentence; the fill is pushed to an open socket."""

from __future__ import annotations

import pytest

from editor import services
from editor.models import Clip, EditOperation, Slot, Track
from editor.services import slots
from generation.models import JobStatus
from media_library.models import MediaItem
from tests.integration.workers import wait_for, wait_for_job

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    # Production lease for the SIGKILL test: only the take-over at worker start is fast.
    pytest.mark.pipeline(fal_polls=(1, 1), GENERATION_LEASE_S="60"),
    pytest.mark.usefixtures("pipeline_settings"),
]

S = JobStatus


@pytest.fixture
def timeline(user):
    return services.timeline_create(owner=user, name="Slots")


@pytest.fixture
def v1(timeline):
    return timeline.tracks.get(kind=Track.Kind.VIDEO)


def local_slot(timeline, user, v1, *, start=0.0, duration=2, resolution="360p", prompt="waves"):
    return slots.slot_create(
        timeline=timeline,
        user=user,
        model_id="local",
        params={"prompt": prompt, "duration": duration, "resolution": resolution},
        track=v1,
        start_s=start,
    )


def wait_filled(slot, timeout=90):
    def filled():
        slot.refresh_from_db()
        return slot.filled

    wait_for(filled, timeout=timeout, what=f"slot {slot.pk} to be filled")
    return slot


def test_a_slot_fills_by_itself_with_no_tab_open(user, timeline, v1):
    (later,) = services.clip_add(
        timeline=timeline,
        media_item=MediaItem.objects.create(
            owner=user, kind="image", title="card", file="u/c.png", status="ready"
        ),
        start_s=2.0,
        track=v1,
    )
    slot = local_slot(timeline, user, v1, start=0.0, duration=2)
    slot = wait_filled(slot)
    clip = Clip.objects.get(pk=slot.clip_id)
    item = clip.media_item
    assert item.pk == slot.job.media_item_id and item.status == MediaItem.Status.READY
    assert (clip.track_id, clip.start_s) == (v1.pk, 0.0)
    assert clip.duration_s == pytest.approx(item.duration_s, abs=0.001)
    # The rendered clip's own length rules; the card after it moved by the difference.
    later.refresh_from_db()
    assert later.start_s == pytest.approx(clip.end_s, abs=0.001)
    assert slot.fill_mode in ("exact", "rippled")
    # Its sound came along as the linked audio clip.
    assert Clip.objects.filter(link_group=clip.link_group).count() == 2
    assert EditOperation.objects.filter(timeline=timeline, label__startswith="Place").count() == 1


def test_the_fill_is_pushed_to_an_open_socket(user, timeline, v1, live_client):
    tab = live_client(user)
    slot = local_slot(timeline, user, v1, duration=2)
    # The slot's own fragment follows the job ...
    tab.wait_for(lambda m: f'id="slot-{slot.pk}"' in m and 'data-status="running"' in m)
    # ... and the filled timeline arrives with the clip and without the placeholder.
    slot = wait_filled(slot)
    tab.wait_for(
        lambda m: f'id="clip-{slot.clip_id}"' in m and f'id="slot-{slot.pk}"' not in m,
        timeout=30,
    )


def test_sigkill_while_the_slots_job_renders_still_fills_it_exactly_once(
    user, timeline, v1, worker
):
    slot = local_slot(timeline, user, v1, duration=6, prompt="a slow pan over a harbour")
    job = slot.job

    def rendering():
        job.refresh_from_db()
        return job.status == S.RUNNING and (job.progress or 0) > 0

    wait_for(rendering, timeout=60, what="the slot's render to be under way")
    worker.kill()
    job.refresh_from_db()
    assert job.status == S.RUNNING, "the render finished before the kill; make it longer"
    worker.start()
    slot = wait_filled(slot, timeout=120)
    job = wait_for_job(job, S.SUCCEEDED, timeout=5)
    # Exactly once: one clip for the job on the track, one fill in the history.
    assert Clip.objects.filter(track=v1, media_item_id=job.media_item_id).count() == 1
    assert Clip.objects.filter(track=v1).count() == 1
    assert EditOperation.objects.filter(timeline=timeline, label__startswith="Place").count() == 1
    assert slot.filled_job_id == job.pk
    # A late duplicate of the fill task (redelivery after the kill) changes nothing.
    assert slots.slot_fill(slot_id=slot.pk) == "already"


def test_cancel_from_the_slot_stops_the_job_and_keeps_the_slot(user, timeline, v1):
    slot = local_slot(timeline, user, v1, duration=10, resolution="1080p", prompt="rain")
    job = slot.job
    wait_for(
        lambda: (job.refresh_from_db() or job.progress) > 0,
        timeout=60,
        what="the render to make progress",
    )
    slots.slot_cancel(slot=Slot.objects.get(pk=slot.pk))
    job = wait_for_job(job, S.CANCELLED, timeout=20)
    slot.refresh_from_db()
    assert not slot.filled and slot.job_id == job.pk
    assert not Clip.objects.filter(track=v1).exists()
    from editor.live import timeline_fragment

    html = timeline_fragment(timeline)
    assert f'id="slot-{slot.pk}"' in html and 'data-slot-action="retry"' in html


def test_a_failed_slot_shows_the_providers_sentence(user, timeline, v1, fal):
    fal.fail("submit", "content_policy")
    slot = slots.slot_create(
        timeline=timeline,
        user=user,
        model_id="hailuo",
        params={"prompt": "A red fox trotting through fresh snow", "duration": 6},
        track=v1,
        start_s=1.0,
    )
    job = wait_for_job(slot.job, S.FAILED, timeout=30)
    assert "content policy blocked this prompt" in job.error_message
    from editor.live import timeline_fragment

    html = timeline_fragment(timeline)
    assert job.error_message in html.replace("&#x27;", "'")
    assert 'data-slot-action="retry"' in html
    assert not Slot.objects.get(pk=slot.pk).filled


def test_a_fal_slot_fills_with_the_delivered_length(user, timeline, v1, fal):
    slot = slots.slot_create(
        timeline=timeline,
        user=user,
        model_id="hailuo",
        params={"prompt": "A red fox trotting through fresh snow", "duration": 6},
        track=v1,
        start_s=0.5,
    )
    slot = wait_filled(slot, timeout=60)
    clip = Clip.objects.get(pk=slot.clip_id)
    assert clip.start_s == 0.5
    assert clip.duration_s == pytest.approx(clip.media_item.duration_s, abs=0.001)
    # Nothing follows the slot: a clip of another length just takes it, and says so.
    exact = abs(clip.duration_s - 6.0) < 0.001
    assert slot.fill_mode == ("exact" if exact else "resized")
    assert exact or "6.00 s asked" in slot.fill_note


def test_continue_sends_the_clips_frame_at_its_out_point_to_the_provider(
    user, timeline, v1, fal, tmp_path
):
    import io

    import av
    from PIL import Image, ImageChops, ImageStat

    from media_library.services import media_create_from_file
    from media_library.testing import make_video

    path = make_video(tmp_path / "harbour.mp4", seconds=3.0, width=320, height=180, fps=24)
    item = media_create_from_file(
        owner=user, path_or_file=str(path), title="Harbour", source=MediaItem.Source.UPLOAD
    )
    wait_for(
        lambda: MediaItem.objects.get(pk=item.pk).status == MediaItem.Status.READY,
        timeout=60,
        what="the clip processed",
    )
    item.refresh_from_db()
    (clip,) = services.clip_add(timeline=timeline, media_item=item, start_s=0, track=v1, out_s=2.0)
    frame = slots.clip_end_frame(clip=clip)
    slot = slots.slot_create(
        timeline=timeline,
        user=user,
        model_id="hailuo-i2v",
        params={"prompt": "the boat leaves the harbour", "duration": 6, "image_id": frame.pk},
        after_clip=clip,
    )
    assert (slot.track_id, slot.start_s) == (v1.pk, 2.0)
    slot = wait_filled(slot, timeout=60)

    (upload,) = fal.uploads.values()
    sent = Image.open(io.BytesIO(upload["data"])).convert("RGB")
    with av.open(str(path)) as container:
        decoded = [f.to_image() for f in container.decode(video=0)]

    def diff(a, b):
        return sum(ImageStat.Stat(ImageChops.difference(a, b.resize(a.size))).mean) / 3

    # Out point 2.0 s at 24 fps: frame 47 is the last one on screen before it.
    assert diff(sent, decoded[47]) < 2.0
    assert diff(sent, decoded[48]) > 2.0 and diff(sent, decoded[0]) > 2.0
    # And the clip it brought back follows the continued one.
    assert Clip.objects.get(pk=slot.clip_id).start_s == 2.0
