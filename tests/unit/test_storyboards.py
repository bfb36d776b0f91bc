"""Storyboards (editor.services.storyboards): the script parser, the cost of the whole list,
Generate all as one all-or-none request, the line of shots beyond the concurrency limit,
Cancel all / Retry failed / Regenerate, the browser endpoints and POST /api/storyboards.
The pipeline is not run here (tests/integration/test_storyboard_worker.py does)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from editor import services
from editor import tasks as editor_tasks
from editor.models import Clip, Slot, Storyboard, StoryboardShot, Track
from editor.services import slots
from editor.services import storyboards as boards
from generation.limits import LimitExceeded
from generation.models import GenerationBudget, GenerationJob, JobStatus
from generation.services import api_token_create
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
def releases(monkeypatch):
    """Record editor.tasks.storyboard_release instead of sending it to the broker."""
    sent: list = []
    monkeypatch.setattr(editor_tasks.storyboard_release, "delay", lambda *a: sent.append(a))
    monkeypatch.setattr(editor_tasks.slot_fill, "delay", lambda *a: None)
    return sent


@pytest.fixture
def timeline(user):
    return services.timeline_create(owner=user, name="Board")


def shots(n, *, model="hailuo", duration=6):
    return [
        boards.ShotIn(prompt=f"shot {i + 1}", model_id=model, duration=duration) for i in range(n)
    ]


def nothing_written(user, timeline, tracks_before):
    assert not Slot.objects.exists() and not GenerationJob.objects.exists()
    assert not Storyboard.objects.exists() and not StoryboardShot.objects.exists()
    assert timeline.tracks.count() == tracks_before
    budget = GenerationBudget.objects.filter(user=user).first()
    assert budget is None or budget.reserved_usd == 0


# --- the script ------------------------------------------------------------------------------


def test_parse_script_one_shot_per_paragraph_with_optional_lengths():
    text = (
        "[6s] A lighthouse at dusk,\nwaves breaking.\n\n\n"
        "The keeper climbs the stairs.\r\n\r\n"
        "10 s: The lamp turns on.\n\n   \n\n"
        "[8s]\n"
    )
    got = boards.parse_script(text, model_id="hailuo", duration=6)
    assert [(s.prompt, s.duration, s.model_id) for s in got] == [
        ("A lighthouse at dusk, waves breaking.", 6, "hailuo"),
        ("The keeper climbs the stairs.", 6, "hailuo"),
        ("The lamp turns on.", 10, "hailuo"),
        ("[8s]", 6, "hailuo"),  # a length with no prompt is the prompt, not a length
    ]
    assert boards.parse_script("", model_id="hailuo") == []


# --- cost and all or none --------------------------------------------------------------------


def test_the_quote_sums_every_shot_and_names_a_refused_one(user):
    quote = boards.storyboard_quote(user=user, shots=shots(3))
    assert quote.costs == [Decimal("0.27")] * 3 and quote.total == Decimal("0.81")
    assert quote.fits and quote.remaining == Decimal("20")
    bad = shots(2) + [boards.ShotIn(prompt="x", model_id="hailuo", duration=7)]
    quote = boards.storyboard_quote(user=user, shots=bad)
    assert not quote.fits and quote.costs[2] is None
    assert quote.refusal.startswith("Shot 3:") and "6 s or 10 s" in quote.refusal


def test_six_shots_against_a_budget_for_four_are_refused_whole_with_the_amount(
    user, timeline, enqueued, settings
):
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("1.10")  # 4 x 0.27 = 1.08 fits, 6 do not
    assert boards.storyboard_quote(user=user, shots=shots(4)).fits
    tracks = timeline.tracks.count()
    with pytest.raises(LimitExceeded) as exc:
        boards.storyboard_start(timeline=timeline, user=user, shots=shots(6))
    assert exc.value.code == "budget"
    assert "These 6 shots would cost $1.62, but only $1.10" in exc.value.message
    nothing_written(user, timeline, tracks)
    assert not enqueued


def test_a_refused_shot_refuses_the_storyboard_and_names_it(user, timeline, enqueued):
    tracks = timeline.tracks.count()
    bad = shots(2) + [boards.ShotIn(prompt="", model_id="hailuo", duration=6)]
    with pytest.raises(ValidationError) as exc:
        boards.storyboard_start(timeline=timeline, user=user, shots=bad)
    assert exc.value.messages[0].startswith("Shot 3:")
    nothing_written(user, timeline, tracks)


def test_generate_all_puts_every_shot_in_order_on_a_new_track(
    user, timeline, enqueued, django_capture_on_commit_callbacks
):
    tracks = set(timeline.tracks.values_list("pk", flat=True))
    mixed = [
        boards.ShotIn(prompt="one", model_id="hailuo", duration=6),
        boards.ShotIn(prompt="two", model_id="hailuo", duration=10),
        boards.ShotIn(prompt="three", model_id="hailuo", duration=6),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        board = boards.storyboard_start(timeline=timeline, user=user, shots=mixed)
    assert board.track_id not in tracks and board.track.kind == Track.Kind.VIDEO
    assert board.total_estimate == Decimal("0.99")  # 0.27 + 0.45 + 0.27
    placed = list(Slot.objects.filter(track=board.track).order_by("start_s"))
    assert [(s.start_s, s.duration_s, s.job.prompt) for s in placed] == [
        (0.0, 6.0, "one"),
        (6.0, 10.0, "two"),
        (16.0, 6.0, "three"),
    ]
    # One request: one reservation for the three jobs, all started.
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0.99")
    assert set(board.shots.values_list("state", flat=True)) == {"started"}
    assert len([e for e in enqueued if "submit" in e[0]]) == 3


def test_undo_right_after_generate_all_keeps_the_storyboards_track(user, timeline, enqueued):
    board = boards.storyboard_start(timeline=timeline, user=user, shots=shots(2))
    with pytest.raises(ValidationError) as exc:
        services.timeline_undo(timeline=timeline)
    assert "holds generations not placed yet" in exc.value.messages[0]
    assert Slot.objects.filter(track=board.track).count() == 2


def test_a_budget_refusal_in_the_line_keeps_the_order(user, timeline, enqueued, settings):
    settings.GENERATION_MAX_CONCURRENT = 1
    board = boards.storyboard_start(timeline=timeline, user=user, shots=shots(3))
    first = board.shots.get(position=1).slot.job
    job_fail(job=first, message="no", code="provider")
    # Spent elsewhere meanwhile: only $0.27 left, enough for one more shot.
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.27")
    settings.GENERATION_MAX_CONCURRENT = 5
    assert boards.storyboard_release(owner_id=user.pk) == (1, None)
    states = list(board.shots.order_by("position").values_list("state", flat=True))
    assert states == ["started", "started", "refused"]
    assert "budget remains" in board.shots.get(position=3).note


# --- the line beyond the concurrency limit ---------------------------------------------------


def test_beyond_the_concurrency_limit_shots_wait_and_start_as_jobs_end(
    user, timeline, enqueued, releases, settings, django_capture_on_commit_callbacks
):
    settings.GENERATION_MAX_CONCURRENT = 2
    board = boards.storyboard_start(timeline=timeline, user=user, shots=shots(5))
    states = list(board.shots.order_by("position").values_list("state", flat=True))
    assert states == ["started", "started", "waiting", "waiting", "waiting"]
    waiting_slot = board.shots.get(position=3).slot
    assert waiting_slot.job is None
    from editor.live import timeline_fragment

    assert "Waiting: starts when one of your generations finishes" in timeline_fragment(timeline)
    # Only the started jobs are reserved: the rest reserve as they start.
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0.54")

    first = board.shots.get(position=1).slot.job
    with django_capture_on_commit_callbacks(execute=True):
        job_fail(job=first, message="The provider refused it.", code="provider")
    assert releases == [(user.pk,)]  # the job's end sent the release (after commit)
    assert boards.storyboard_release(owner_id=user.pk) == (1, None)
    states = list(board.shots.order_by("position").values_list("state", flat=True))
    assert states == ["started", "started", "started", "waiting", "waiting"]
    # Nothing free: a release does nothing.
    assert boards.storyboard_release(owner_id=user.pk) == (0, None)


def test_a_cooldown_holds_the_release_and_says_when(user, timeline, enqueued, settings):
    settings.GENERATION_MAX_CONCURRENT = 1
    board = boards.storyboard_start(timeline=timeline, user=user, shots=shots(2))
    settings.GENERATION_COOLDOWN_S = 30
    job_fail(job=board.shots.get(position=1).slot.job, message="no", code="provider")
    started, retry_after = boards.storyboard_release(owner_id=user.pk)
    assert started == 0 and 0 < retry_after <= 30
    assert board.shots.get(position=2).state == "waiting"


def test_cancel_all_and_retry_failed(user, timeline, enqueued, releases, settings):
    settings.GENERATION_MAX_CONCURRENT = 2
    board = boards.storyboard_start(timeline=timeline, user=user, shots=shots(3))
    assert boards.storyboard_cancel_all(storyboard=board) == 3
    jobs = [s.slot.job for s in board.shots.order_by("position").select_related("slot__job")]
    assert [j.status if j else None for j in jobs[:2]] == [JobStatus.CANCELLED] * 2
    assert board.shots.get(position=3).state == "cancelled"
    assert GenerationBudget.objects.get(user=user).reserved_usd == 0
    assert boards.storyboard_retry_failed(storyboard=board) == 3
    assert set(board.shots.values_list("state", flat=True)) == {"waiting"}
    boards.storyboard_release(owner_id=user.pk)
    states = list(board.shots.order_by("position").values_list("state", flat=True))
    assert states == ["started", "started", "waiting"]  # back in order, within the limit


def test_regenerate_one_shot_replaces_its_clip(user, timeline, enqueued, releases):
    board = boards.storyboard_start(timeline=timeline, user=user, shots=shots(2))
    shot = board.shots.get(position=1)
    item = MediaItem.objects.create(
        owner=user, kind="video", title="t", file="u/t.mp4", duration_s=6, status="ready"
    )
    old_job = shot.slot.job
    GenerationJob.objects.filter(pk=old_job.pk).update(
        status=JobStatus.SUCCEEDED, media_item=item, progress=100
    )
    assert slots.slot_fill(slot_id=shot.slot_id) == "filled"
    with pytest.raises(ValidationError):
        boards.shot_regenerate(shot=board.shots.get(position=2))  # still generating
    shot = boards.shot_regenerate(shot=board.shots.get(position=1))
    assert shot.state == "waiting" and not Clip.objects.filter(track=board.track).exists()
    assert boards.storyboard_release(owner_id=user.pk) == (1, None)
    slot = Slot.objects.get(pk=shot.slot_id)
    assert not slot.filled and slot.job_id != old_job.pk and slot.job.prompt == "shot 1"


def test_a_longer_clip_moves_the_next_shots_slots_with_it(user, timeline, enqueued, releases):
    board = boards.storyboard_start(timeline=timeline, user=user, shots=shots(3))
    second = board.shots.get(position=2).slot
    item = MediaItem.objects.create(
        owner=user, kind="video", title="t", file="u/t.mp4", duration_s=7.5, status="ready"
    )
    GenerationJob.objects.filter(pk=second.job_id).update(
        status=JobStatus.SUCCEEDED, media_item=item, progress=100
    )
    assert slots.slot_fill(slot_id=second.pk) == "filled"
    third = board.shots.get(position=3).slot
    assert third.start_s == 13.5  # 12 + the 1.5 s the second shot ran over
    # The move is part of the fill's edit: undo puts the third slot back.
    services.timeline_undo(timeline=timeline)
    assert Slot.objects.get(pk=third.pk).start_s == 12.0


# --- the browser endpoints and the API -------------------------------------------------------


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


def test_dialog_split_quote_and_generate_all(browser, timeline, enqueued, other_user):
    url = lambda name: reverse(f"editor:{name}", args=[timeline.pk])  # noqa: E731
    dialog = browser.get(url("storyboard_dialog"))
    assert dialog.status_code == 200 and b'id="storyboard-dialog"' in dialog.content
    quote = browser.post(
        url("storyboard_quote"),
        {"split": "1", "script": "A fox.\n\n[10s] A hare.", "default_model": "hailuo"},
    )
    html = quote.content.decode()
    assert quote.status_code == 200 and html.count("data-storyboard-shot>") == 2
    assert "Total: <strong>$0.72</strong> for 2 shots" in html
    rows = {"prompt": ["A fox.", "A hare."], "model": ["hailuo"] * 2, "duration": ["6", "10"]}
    rows["image_id"] = ["", ""]
    response = browser.post(url("storyboard_start"), rows)
    assert response.status_code == 200, response.content
    assert Slot.objects.count() == 2
    other = Client()
    other.force_login(other_user)
    assert other.post(url("storyboard_start"), rows).status_code == 404


def test_the_api_starts_a_storyboard_or_refuses_it_whole(user, timeline, enqueued, settings):
    headers = {"Authorization": f"Bearer {api_token_create(user=user, name='t')[1]}"}
    client = Client()

    def post(body):
        return client.post(
            "/api/storyboards", json.dumps(body), content_type="application/json", headers=headers
        )

    body = {
        "timeline_id": timeline.pk,
        "shots": [{"prompt": f"shot {i}", "model": "hailuo", "duration": 6} for i in range(3)],
    }
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.50")
    refused = post(body)
    assert refused.status_code == 429 and "$0.81" in refused.json()["message"]
    assert not Slot.objects.exists()
    bad = post({**body, "shots": [{"prompt": "", "model": "hailuo", "duration": 6}]})
    assert bad.status_code == 400 and bad.json()["errors"]["shots"].startswith("Shot 1:")
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("20")
    response = post(body)
    assert response.status_code == 202, response.content
    out = response.json()
    assert out["total_estimate"] == "0.81"
    assert [s["slot"]["start"] for s in out["shots"]] == [0.0, 6.0, 12.0]
    got = client.get(f"/api/storyboards/{out['storyboard_id']}", headers=headers)
    assert got.status_code == 200 and len(got.json()["shots"]) == 3
    doc = client.get("/api/openapi.json", headers=headers).json()
    assert "post" in doc["paths"]["/api/storyboards"]
    assert "get" in doc["paths"]["/api/storyboards/{storyboard_id}"]


# --- continuity: each shot from the previous shot's last frame -------------------------------


def test_a_chain_starts_each_shot_from_the_previous_clips_last_frame(
    user, timeline, enqueued, monkeypatch, media_root, tmp_path, django_capture_on_commit_callbacks
):
    import av
    from PIL import Image, ImageChops, ImageStat

    from media_library.services import media_create_from_file, media_process
    from media_library.testing import make_video

    chained: list = []
    monkeypatch.setattr(editor_tasks.storyboard_chain, "delay", lambda *a: chained.append(a))
    monkeypatch.setattr(editor_tasks.slot_fill, "delay", lambda *a: None)
    monkeypatch.setattr(editor_tasks.storyboard_release, "delay", lambda *a: None)
    t2v = boards.ShotIn(prompt="a harbour at dawn", model_id="hailuo", duration=6)
    with pytest.raises(ValidationError) as exc:  # a chained shot must start from an image
        boards.storyboard_start(timeline=timeline, user=user, shots=[t2v, t2v], chain=True)
    assert exc.value.messages[0].startswith("Shot 2:") and "image" in exc.value.messages[0]
    i2v = boards.ShotIn(prompt="the boat leaves", model_id="hailuo-i2v", duration=6)
    board = boards.storyboard_start(timeline=timeline, user=user, shots=[t2v, i2v], chain=True)
    assert list(board.shots.order_by("position").values_list("state", flat=True)) == [
        "started",
        "chained",
    ]
    assert board.total_estimate == Decimal("0.54")  # the chained shot priced without its image

    path = make_video(tmp_path / "dawn.mp4", seconds=3.0, width=160, height=90, fps=24)
    item = media_create_from_file(
        owner=user, path_or_file=str(path), title="Dawn", source=MediaItem.Source.UPLOAD
    )
    item = media_process(media_id=item.pk)
    first = board.shots.get(position=1)
    GenerationJob.objects.filter(pk=first.slot.job_id).update(
        status=JobStatus.SUCCEEDED, media_item=item, progress=100
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert slots.slot_fill(slot_id=first.slot_id) == "filled"
    assert chained == [(first.slot_id,)]  # the placed clip sends the chain on
    assert boards.storyboard_chain_next(slot_id=first.slot_id) == "started-next"
    second = board.shots.get(position=2)
    job = Slot.objects.get(pk=second.slot_id).job
    assert second.state == "started" and job.model_id == "hailuo-i2v"
    frame = MediaItem.objects.get(pk=job.params["image_id"])
    with frame.file.open("rb") as fh:
        got = Image.open(fh).convert("RGB")
    with av.open(str(path)) as container:
        decoded = [f.to_image().convert("RGB") for f in container.decode(video=0)]

    def diff(a, b):
        return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3

    # The placed clip runs 3 s at 24 fps: frame 71 is on screen at its out point.
    assert diff(got, decoded[71]) < 1.0 and diff(got, decoded[70]) > 1.0
    assert boards.storyboard_chain_next(slot_id=first.slot_id) == "no-next"  # once
