"""Slots (editor.services.slots): placing a generation on a track, its live state on the
timeline, filling it once (exact, ripple, trim), undo/redo of the fill, cancel/retry/remove,
the export refusal, and the browser endpoints. The job's pipeline is not run here (see
tests/integration/test_slots_worker.py): a job's success is written to its row directly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from editor import selectors, services
from editor import tasks as editor_tasks
from editor.live import timeline_fragment
from editor.models import Clip, EditOperation, Slot, Track
from editor.services import slots
from generation.limits import LimitExceeded
from generation.models import GenerationBudget, GenerationJob, JobStatus
from generation.services.transitions import job_fail
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
def fills(monkeypatch):
    """Record editor.tasks.slot_fill instead of sending it to the broker."""
    sent: list[tuple] = []
    monkeypatch.setattr(editor_tasks.slot_fill, "delay", lambda *a: sent.append(("delay", a)))
    monkeypatch.setattr(
        editor_tasks.slot_fill,
        "apply_async",
        lambda args=(), countdown=0, **_: sent.append(("later", tuple(args), countdown)),
    )
    return sent


@pytest.fixture
def timeline(user):
    return services.timeline_create(owner=user, name="Cut 1")


@pytest.fixture
def v1(timeline):
    return timeline.tracks.get(kind=Track.Kind.VIDEO)


def media(user, duration=6.0, has_audio=False, status=MediaItem.Status.READY, title="shot"):
    return MediaItem.objects.create(
        owner=user,
        kind="video",
        title=title,
        file="u1/shot.mp4",
        duration_s=duration,
        has_audio=has_audio,
        status=status,
    )


def place(timeline, user, v1, start=2.0, duration=6, model="hailuo", prompt="a red fox"):
    return slots.slot_create(
        timeline=timeline,
        user=user,
        model_id=model,
        params={"prompt": prompt, "duration": duration},
        track=v1,
        start_s=start,
    )


def succeed(slot, item):
    """The job delivered `item` (what complete_with_file writes)."""
    GenerationJob.objects.filter(pk=slot.job_id).update(
        status=JobStatus.SUCCEEDED, media_item=item, progress=100
    )


def test_a_slot_starts_its_job_through_generations_service(timeline, user, v1, enqueued):
    slot = place(timeline, user, v1)
    job = slot.job
    assert (job.owner, job.model_id, job.status, job.prompt) == (
        user,
        "hailuo",
        "queued",
        "a red fox",
    )
    # Priced and reserved like every job (hailuo: 6 s x $0.045).
    assert job.estimated_cost == Decimal("0.27")
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0.27")
    assert (slot.start_s, slot.duration_s, slot.track_id, slot.filled) == (2.0, 6.0, v1.pk, False)
    row = next(r for r in selectors.timeline_state(timeline).rows if r.track == v1)
    assert row.slots == [slot]
    html = timeline_fragment(timeline)
    assert f'id="slot-{slot.pk}"' in html and "Queued" in html and "a red fox" in html


def test_a_slot_after_a_clip_starts_at_its_end(timeline, user, v1, enqueued):
    (clip,) = services.clip_add(timeline=timeline, media_item=media(user, 3.5), start_s=1, track=v1)
    slot = slots.slot_create(
        timeline=timeline,
        user=user,
        model_id="hailuo",
        params={"prompt": "next", "duration": 6},
        after_clip=clip,
    )
    assert (slot.track_id, slot.start_s) == (v1.pk, 4.5)


@pytest.mark.parametrize(
    "kwargs,code",
    [
        ({"start_s": 0.0}, slots.SLOT_OVERLAP),  # covers the clip at 1..4.5
        ({"start_s": None}, slots.SLOT_NO_PLACE),
        ({"start_s": 10.0, "track": "audio"}, slots.SLOT_BAD_TRACK),
    ],
)
def test_a_refused_place_starts_no_job(timeline, user, v1, enqueued, kwargs, code):
    services.clip_add(timeline=timeline, media_item=media(user, 3.5), start_s=1, track=v1)
    if kwargs.get("track") == "audio":
        kwargs["track"] = timeline.tracks.get(kind=Track.Kind.AUDIO)
    with pytest.raises(ValidationError) as exc:
        slots.slot_create(
            timeline=timeline,
            user=user,
            model_id="hailuo",
            params={"prompt": "x", "duration": 6},
            **{"track": v1, **kwargs},
        )
    assert exc.value.code == code
    assert not GenerationJob.objects.exists() and not Slot.objects.exists()
    assert enqueued == []


def test_over_budget_refuses_the_slot_whole(timeline, user, v1, enqueued, settings):
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.10")
    with pytest.raises(LimitExceeded):
        place(timeline, user, v1)
    assert not Slot.objects.exists() and not GenerationJob.objects.exists()


def test_fill_places_the_clip_once(timeline, user, v1, enqueued, fills):
    slot = place(timeline, user, v1)
    item = media(user, 6.0, has_audio=True)
    succeed(slot, item)
    assert slots.slot_fill(slot_id=slot.pk) == "filled"
    slot.refresh_from_db()
    clip = Clip.objects.get(pk=slot.clip_id)
    assert (clip.track_id, clip.start_s, clip.duration_s, clip.media_item) == (
        v1.pk,
        2.0,
        6.0,
        item,
    )
    assert clip.link_group and Clip.objects.filter(link_group=clip.link_group).count() == 2
    assert (slot.filled, slot.filled_job_id, slot.fill_mode) == (True, slot.job_id, "exact")
    op = EditOperation.objects.get(timeline=timeline)
    assert op.label == "Place generated clip"
    # A redelivered task, a second worker, the recovery sweep: nothing more.
    assert slots.slot_fill(slot_id=slot.pk) == "already"
    assert slots.slots_recover() == 0
    assert Clip.objects.filter(track=v1).count() == 1
    assert EditOperation.objects.filter(timeline=timeline).count() == 1
    assert f'id="slot-{slot.pk}"' not in timeline_fragment(timeline)


def test_a_longer_clip_ripples_the_later_clips(timeline, user, v1, enqueued, fills):
    slot = place(timeline, user, v1, start=2.0, duration=6)
    (later,) = services.clip_add(timeline=timeline, media_item=media(user, 3), start_s=9, track=v1)
    succeed(slot, media(user, 7.5))
    assert slots.slot_fill(slot_id=slot.pk) == "filled"
    slot.refresh_from_db()
    later.refresh_from_db()
    assert later.start_s == 10.5
    assert slot.fill_mode == "rippled"
    assert "moved 1.50 s later" in slot.fill_note
    assert Clip.objects.get(pk=slot.clip_id).duration_s == 7.5
    # The creator is told, on the timeline, how it fit.
    assert "moved 1.50 s later" in timeline_fragment(timeline)


def test_a_shorter_clip_ripples_the_later_clips_earlier(timeline, user, v1, enqueued, fills):
    slot = place(timeline, user, v1, start=0.0, duration=6)
    (later,) = services.clip_add(timeline=timeline, media_item=media(user, 3), start_s=6, track=v1)
    succeed(slot, media(user, 5.0))
    slots.slot_fill(slot_id=slot.pk)
    later.refresh_from_db()
    assert later.start_s == 5.0


def test_when_ripple_collides_the_clip_is_trimmed_to_the_slot(timeline, user, v1, enqueued, fills):
    slot = place(timeline, user, v1, start=2.0, duration=6)
    # The later clip's sound sits on A1, which is locked: rippling it is refused.
    (later, audio) = services.clip_add(
        timeline=timeline, media_item=media(user, 3, has_audio=True), start_s=8, track=v1
    )
    services.track_update(track=audio.track, locked=True)
    succeed(slot, media(user, 7.5))
    assert slots.slot_fill(slot_id=slot.pk) == "filled"
    slot.refresh_from_db()
    later.refresh_from_db()
    assert later.start_s == 8.0
    clip = Clip.objects.get(pk=slot.clip_id)
    assert (clip.start_s, clip.duration_s) == (2.0, 6.0)
    assert slot.fill_mode == "trimmed" and "trimmed to 6.00 s" in slot.fill_note


def test_undo_of_a_fill_restores_the_slot_and_redo_fills_it_again(
    timeline, user, v1, enqueued, fills
):
    slot = place(timeline, user, v1, start=2.0, duration=6)
    (later,) = services.clip_add(timeline=timeline, media_item=media(user, 3), start_s=9, track=v1)
    succeed(slot, media(user, 7.0))
    slots.slot_fill(slot_id=slot.pk)
    slot.refresh_from_db()
    clip_id = slot.clip_id

    services.timeline_undo(timeline=timeline)
    slot.refresh_from_db()
    later.refresh_from_db()
    assert not slot.filled and not Clip.objects.filter(pk=clip_id).exists()
    assert later.start_s == 9.0
    html = timeline_fragment(timeline)
    assert f'id="slot-{slot.pk}"' in html and 'data-slot-action="place"' in html
    # Undone is the creator's decision: the worker does not put it back.
    assert slots.slot_fill(slot_id=slot.pk) == "already"

    services.timeline_redo(timeline=timeline)
    slot.refresh_from_db()
    later.refresh_from_db()
    assert slot.filled and slot.clip_id == clip_id and Clip.objects.filter(pk=clip_id).exists()
    assert later.start_s == 10.0


def test_place_after_undo_fills_again_as_a_new_edit(timeline, user, v1, enqueued, fills):
    slot = place(timeline, user, v1)
    succeed(slot, media(user, 6.0))
    slots.slot_fill(slot_id=slot.pk)
    services.timeline_undo(timeline=timeline)
    slot.refresh_from_db()
    slots.slot_place(slot=slot)
    assert slot.filled and Clip.objects.filter(track=v1).count() == 1


def test_a_clip_moved_over_the_slot_blocks_the_fill_with_a_sentence(
    timeline, user, v1, enqueued, fills
):
    slot = place(timeline, user, v1, start=2.0, duration=6)
    services.clip_add(
        timeline=timeline, media_item=media(user, 4, title="intruder"), start_s=0, track=v1
    )
    succeed(slot, media(user, 6.0))
    assert slots.slot_fill(slot_id=slot.pk) == "blocked"
    slot.refresh_from_db()
    assert not slot.filled and "“intruder” now covers the slot's start" in slot.fill_note
    assert "intruder" in timeline_fragment(timeline)


def test_a_processing_media_item_is_waited_for_without_sleeping(
    timeline, user, v1, enqueued, fills
):
    slot = place(timeline, user, v1)
    succeed(slot, media(user, None, status=MediaItem.Status.PROCESSING))
    assert slots.slot_fill(slot_id=slot.pk) == "waiting"
    assert fills == [("later", (slot.pk, 1), slots.FILL_RETRY_S[0])]
    assert not Slot.objects.get(pk=slot.pk).filled


def test_the_job_signal_schedules_the_fill_after_commit(
    timeline, user, v1, enqueued, fills, django_capture_on_commit_callbacks
):
    slot = place(timeline, user, v1)
    job = slot.job
    job.status = JobStatus.SUCCEEDED
    with django_capture_on_commit_callbacks(execute=True):
        slots.slots_job_changed(job=job)
    assert ("delay", (slot.pk,)) in fills


def test_a_succeeded_slot_left_unfilled_is_recovered(timeline, user, v1, enqueued, fills):
    slot = place(timeline, user, v1)
    succeed(slot, media(user, 6.0))
    assert slots.slots_recover() == 1
    assert fills == [("delay", (slot.pk,))]


def test_a_failed_slot_shows_the_providers_sentence_and_retries(timeline, user, v1, enqueued):
    slot = place(timeline, user, v1)
    job_fail(slot.job, code="content_policy", message="The provider refused this prompt.")
    html = timeline_fragment(timeline)
    assert "The provider refused this prompt." in html
    assert 'data-slot-action="retry"' in html
    slot.refresh_from_db()
    new = slots.slot_retry(slot=slot, user=user)
    assert new.job_id != slot.job_id and new.job.retry_of_id == slot.job_id
    assert new.job.status == JobStatus.QUEUED


def test_retry_of_a_live_slot_is_refused(timeline, user, v1, enqueued):
    slot = place(timeline, user, v1)
    with pytest.raises(ValidationError) as exc:
        slots.slot_retry(slot=slot, user=user)
    assert exc.value.code == slots.SLOT_NOT_RETRYABLE


def test_removing_a_slot_cancels_its_job_and_releases_the_reservation(timeline, user, v1, enqueued):
    slot = place(timeline, user, v1)
    slots.slot_delete(slot=slot)
    job = GenerationJob.objects.get(pk=slot.job_id)
    assert job.status == JobStatus.CANCELLED
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0")
    assert not Slot.objects.exists()


def test_cancel_keeps_the_slot_with_retry(timeline, user, v1, enqueued):
    slot = place(timeline, user, v1)
    slots.slot_cancel(slot=slot)
    assert GenerationJob.objects.get(pk=slot.job_id).status == JobStatus.CANCELLED
    html = timeline_fragment(timeline)
    assert f'id="slot-{slot.pk}"' in html and 'data-slot-action="retry"' in html


def test_export_is_refused_while_a_slot_is_unfilled(timeline, user, v1, enqueued):
    services.clip_add(timeline=timeline, media_item=media(user, 2), start_s=0, track=v1)
    place(timeline, user, v1, start=5.0, prompt="a lighthouse at dusk")
    with pytest.raises(ValidationError) as exc:
        services.export_start(timeline=timeline)
    assert exc.value.code == "slots_unfilled"
    assert "“a lighthouse at dusk” on V1 at 0:05" in exc.value.messages[0]


# --- browser endpoints ----------------------------------------------------------------------


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_dialog_and_create_endpoint(browser, timeline, v1, enqueued):
    form = browser.get(reverse("editor:slot_form", args=[timeline.pk]), {"track": v1.pk})
    assert form.status_code == 200 and b'id="slot-dialog"' in form.content
    response = browser.post(
        reverse("editor:slot_create", args=[timeline.pk]),
        {"prompt": "waves", "model": "hailuo", "duration": "6", "track": v1.pk, "start": "1.5"},
    )
    assert response.status_code == 200, response.content
    slot = Slot.objects.get()
    assert slot.start_s == 1.5 and f'id="slot-{slot.pk}"'.encode() in response.content


def test_create_endpoint_says_why_a_request_is_refused(browser, timeline, v1, enqueued):
    response = browser.post(
        reverse("editor:slot_create", args=[timeline.pk]),
        {"prompt": "", "model": "hailuo", "duration": "6", "track": v1.pk, "start": "0"},
    )
    assert response.status_code == 400 and b"prompt" in response.content.lower()
    assert not Slot.objects.exists()


def test_slot_buttons_and_owner_scoping(browser, timeline, user, other_user, v1, enqueued):
    slot = place(timeline, user, v1)
    theirs = services.timeline_create(owner=other_user, name="Theirs")
    url = reverse("editor:slot_action", args=[theirs.pk, slot.pk, "remove"])
    assert browser.post(url).status_code == 404
    other = Client()
    other.force_login(other_user)
    own_url = reverse("editor:slot_action", args=[timeline.pk, slot.pk, "remove"])
    assert other.post(own_url).status_code == 404
    assert Slot.objects.filter(pk=slot.pk).exists()
    cancel = browser.post(reverse("editor:slot_action", args=[timeline.pk, slot.pk, "cancel"]))
    assert cancel.status_code == 200 and b'data-slot-action="retry"' in cancel.content
    assert browser.post(own_url).status_code == 200
    assert not Slot.objects.filter(pk=slot.pk).exists()


# --- Continue this shot ---------------------------------------------------------------------


def decoded_frames(path) -> list:
    import av

    with av.open(str(path)) as container:
        return [f.to_image() for f in container.decode(video=0)]


def mean_diff(a, b) -> float:
    from PIL import ImageChops, ImageStat

    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


@pytest.fixture
def real_video(user, media_root, tmp_path):
    from media_library.services import media_create_from_file, media_process
    from media_library.testing import make_video

    path = make_video(tmp_path / "shot.mp4", seconds=3.0, width=160, height=90, fps=24)
    item = media_create_from_file(
        owner=user, path_or_file=str(path), title="Harbour", source=MediaItem.Source.UPLOAD
    )
    return media_process(media_id=item.pk), path


def test_continue_takes_the_frame_at_the_clips_out_point(timeline, user, v1, real_video):
    item, path = real_video
    (clip,) = services.clip_add(
        timeline=timeline, media_item=item, start_s=0, track=v1, in_s=0.5, out_s=1.5
    )
    frame = slots.clip_end_frame(clip=clip)
    assert (frame.kind, frame.status, frame.owner) == ("image", "ready", user)
    frames = decoded_frames(path)
    with frame.file.open("rb") as fh:
        from PIL import Image

        got = Image.open(fh).copy()
    # 1.5 s at 24 fps: frame 36 starts at the out point, so frame 35 is the last one shown.
    assert mean_diff(got, frames[35]) < 1.0
    assert mean_diff(got, frames[36]) > 2.0 and mean_diff(got, frames[12]) > 2.0
    # A second Continue of the same out point reuses the frame.
    assert slots.clip_end_frame(clip=clip).pk == frame.pk


def test_continue_endpoint_prefills_the_dialog(browser, timeline, user, v1, real_video, settings):
    settings.FAL_KEY = "test-key"
    item, _ = real_video
    (clip,) = services.clip_add(timeline=timeline, media_item=item, start_s=0, track=v1)
    GenerationJob.objects.create(
        owner=user, model_id="local", provider="local", prompt="a harbour at dawn", media_item=item
    )
    response = browser.post(reverse("editor:slot_continue", args=[timeline.pk]), {"clip": clip.pk})
    assert response.status_code == 200, response.content
    html = response.content.decode()
    assert "Continue this shot" in html and "a harbour at dawn" in html
    assert f'name="after_clip" value="{clip.pk}"' in html
    # Only models that start from an image are offered.
    assert 'value="hailuo-i2v"' in html and 'value="hailuo"' not in html


def test_continue_refuses_an_image_clip(browser, timeline, user, v1):
    card = MediaItem.objects.create(
        owner=user, kind="image", title="c", file="u/c.png", status="ready"
    )
    (clip,) = services.clip_add(timeline=timeline, media_item=card, start_s=0, track=v1)
    response = browser.post(reverse("editor:slot_continue", args=[timeline.pk]), {"clip": clip.pk})
    assert response.status_code == 400 and b"ready video clip" in response.content


def test_a_continue_slot_starts_after_the_clip_from_its_frame(
    browser, timeline, user, v1, real_video, enqueued
):
    item, _ = real_video
    (clip,) = services.clip_add(timeline=timeline, media_item=item, start_s=1, track=v1, out_s=2)
    frame = slots.clip_end_frame(clip=clip)
    response = browser.post(
        reverse("editor:slot_create", args=[timeline.pk]),
        {
            "prompt": "and then",
            "model": "hailuo-i2v",
            "duration": "6",
            "after_clip": clip.pk,
            "image_id": frame.pk,
        },
    )
    assert response.status_code == 200, response.content
    slot = Slot.objects.get()
    assert (slot.track_id, slot.start_s) == (v1.pk, 3.0)
    assert slot.job.params["image_id"] == frame.pk and slot.job.model_id == "hailuo-i2v"


def test_a_slot_after_a_clip_makes_room_by_moving_the_later_clips(timeline, user, v1, enqueued):
    (a,) = services.clip_add(timeline=timeline, media_item=media(user, 2), start_s=0, track=v1)
    (b, b_audio) = services.clip_add(
        timeline=timeline, media_item=media(user, 2, has_audio=True), start_s=2, track=v1
    )
    slot = slots.slot_create(
        timeline=timeline,
        user=user,
        model_id="hailuo",
        params={"prompt": "then", "duration": 6},
        after_clip=a,
    )
    b.refresh_from_db()
    b_audio.refresh_from_db()
    assert (slot.start_s, b.start_s, b_audio.start_s) == (2.0, 8.0, 8.0)
    assert EditOperation.objects.filter(label="Make room for a generation").count() == 1
