"""Queue feedback on job cards: ordinals, the line-ETA arithmetic, the local renderer's
line read from the database (generation.selectors.local_line_place), the words a waiting
card shows for a local and for a hosted job, the hosted ETA from the provider's position,
and the re-push of the cards behind when a job ahead leaves the line."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from generation import catalog
from generation.models import GenerationJob, JobStatus
from generation.providers.base import State, StatusReport
from generation.selectors import local_line_place
from generation.services.jobs import job_cancel
from generation.services.polling import apply_report
from generation.services.scheduling import line_eta_s, remaining_run_s
from generation.templatetags.generation_panel import ordinal, queue_info, status_words
from tests.unit.job_fakes import enqueued  # noqa: F401 - pytest fixture

pytestmark = pytest.mark.django_db

LOCAL_TYPICAL = 10.0  # generation/catalog/entries.py: LOCAL.typical_run_s


def local_job(owner, status=JobStatus.IN_QUEUE, **fields) -> GenerationJob:
    defaults = dict(
        model_id="local",
        provider="local",
        prompt="a paper boat on a pond",
        params={"duration": 4, "resolution": "480p", "aspect_ratio": "16:9", "audio": True},
        estimated_cost=Decimal("0"),
        status=status,
    )
    defaults.update(fields)
    return GenerationJob.objects.create(owner=owner, **defaults)


def render_card(job) -> str:
    return render_to_string("generation/partials/job_card.html", {"job": job})


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


# --- words ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "n, words",
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th")]
    + [(21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (111, "111th"), (112, "112th")],
)
def test_ordinals(n, words):
    assert ordinal(n) == words


# --- the ETA arithmetic -----------------------------------------------------------------
def test_first_in_line_waits_for_the_slot_that_frees_first():
    # One slot busy for 8 s more: the first in line starts then and takes its own 10 s.
    assert line_eta_s(busy_s=[8], ahead_s=[], own_s=10) == 18


def test_jobs_ahead_are_shared_over_the_slots():
    # The spec's rule: typical × jobs ahead / concurrency + own time (slots free now).
    assert line_eta_s(busy_s=[0, 0], ahead_s=[10, 10, 10, 10], own_s=10) == 30
    assert line_eta_s(busy_s=[0], ahead_s=[10, 10], own_s=10) == 30
    # Each job ahead takes the slot that frees first: 2 → 12, 8 → 18, 12 → 22; mine at 18.
    assert line_eta_s(busy_s=[2, 8], ahead_s=[10, 10, 10], own_s=10) == 28


def test_no_busy_slot_means_one_slot_free_now():
    assert line_eta_s(busy_s=[], ahead_s=[], own_s=10) == 10
    assert line_eta_s(busy_s=[], ahead_s=[5], own_s=10) == 15


def test_remaining_run_from_progress_or_typical_time():
    assert remaining_run_s(typical_s=10, elapsed_s=4, progress=0) == 6
    assert remaining_run_s(typical_s=10, elapsed_s=14, progress=None) == 0
    # Half-way after 6 s: 6 s more, whatever the typical time says.
    assert remaining_run_s(typical_s=10, elapsed_s=6, progress=50) == 6


# --- the local line from the database ---------------------------------------------------
def test_place_in_the_local_line_counts_every_owners_waiting_jobs(user, other_user):
    now = timezone.now()
    local_job(user, status=JobStatus.RUNNING, running_at=now - timedelta(seconds=2))
    first = local_job(other_user, in_queue_at=now - timedelta(seconds=3))
    second = local_job(user, in_queue_at=now - timedelta(seconds=2))
    third = local_job(user, in_queue_at=now - timedelta(seconds=1))

    places = [local_line_place(job=j, now=now) for j in (first, second, third)]
    assert [p.position for p in places] == [1, 2, 3]
    assert [p.ahead for p in places] == [0, 1, 2]
    assert all(p.slots == 1 for p in places)
    # The running render has 8 s left; then 10 s per job ahead, then its own 10 s.
    assert [(p.eta_at - now).total_seconds() for p in places] == [18, 28, 38]


def test_two_renders_running_are_two_slots(user):
    now = timezone.now()
    for _ in range(2):
        local_job(user, status=JobStatus.RUNNING, running_at=now)
    waiting = [local_job(user, in_queue_at=now + timedelta(seconds=i)) for i in range(3)]
    places = [local_line_place(job=j, now=now) for j in waiting]
    assert [p.position for p in places] == [1, 2, 3]
    assert places[0].slots == 2
    assert [(p.eta_at - now).total_seconds() for p in places] == [20, 20, 30]


def test_equal_entry_times_keep_the_order_of_the_ids(user):
    now = timezone.now()
    a, b = local_job(user, in_queue_at=now), local_job(user, in_queue_at=now)
    assert local_line_place(job=a, now=now).position == 1
    assert local_line_place(job=b, now=now).position == 2


def test_finished_running_and_hosted_jobs_stand_in_no_local_line(user):
    now = timezone.now()
    ahead = local_job(user, in_queue_at=now - timedelta(seconds=5))
    mine = local_job(user, in_queue_at=now)
    assert local_line_place(job=mine, now=now).position == 2
    ahead.status = JobStatus.CANCELLED
    ahead.save()
    assert local_line_place(job=mine, now=now).position == 1
    running = local_job(user, status=JobStatus.RUNNING, running_at=now)
    hosted = local_job(user, provider="fal", model_id="hailuo", in_queue_at=now)
    assert local_line_place(job=running) is None
    assert local_line_place(job=hosted) is None
    # A hosted job in the provider's queue is not ahead of a local one.
    assert local_line_place(job=mine, now=now).position == 1


# --- what the card says -----------------------------------------------------------------
def test_waiting_local_card_says_its_place_and_when_it_should_be_done(user):
    now = timezone.now()
    local_job(user, status=JobStatus.RUNNING, running_at=now)
    local_job(user, in_queue_at=now - timedelta(seconds=2))
    mine = local_job(user, in_queue_at=now - timedelta(seconds=1))
    html = render_card(mine)
    text = text_of(html)
    # 10 s for the render running, 10 for the one ahead, 10 of its own.
    assert re.search(r"Waiting for a render slot — 2nd in line, about (29|30) s", text), text
    assert 'data-until-style="about"' in html
    assert "Waiting at the provider" not in text
    assert status_words(mine) == "In line"
    assert 'aria-label="Local renderer (offline): Waiting for a render slot — 2nd in line"' in html


def test_first_in_line_when_the_job_ahead_is_gone(user):
    now = timezone.now()
    mine = local_job(user, in_queue_at=now)
    assert "Waiting for a render slot — 1st in line" in text_of(render_card(mine))


def test_hosted_card_says_the_providers_position_counted_from_one(user):
    job = local_job(
        user,
        model_id="hailuo",
        provider="fal",
        queue_position=2,
        eta_at=timezone.now() + timedelta(seconds=90),
    )
    text = text_of(render_card(job))
    assert re.search(r"3rd in line at fal, about (1:29|1:30)", text), text
    assert status_words(job) == "Queued at fal"


def test_hosted_card_without_a_position_says_where_it_waits(user):
    job = local_job(user, model_id="hailuo", provider="replicate")
    assert queue_info(job).words == "Waiting at Replicate"
    assert queue_info(job).until is None


def test_no_queue_words_once_running(user):
    job = local_job(user, status=JobStatus.RUNNING, running_at=timezone.now())
    assert queue_info(job) is None
    assert "in line" not in text_of(render_card(job))


def test_queue_view_shows_the_same_words(client, user):
    local_job(user, status=JobStatus.RUNNING, running_at=timezone.now())
    local_job(user, in_queue_at=timezone.now())
    client.force_login(user)
    html = client.get(reverse("generation:queue")).content.decode()
    assert "Waiting for a render slot — 1st in line" in text_of(html)


# --- the hosted ETA ---------------------------------------------------------------------
def test_hosted_eta_counts_the_jobs_ahead(user, enqueued):  # noqa: F811 - the fixture
    job = local_job(user, model_id="hailuo", provider="fal", in_queue_at=timezone.now())
    typical = float(catalog.get("hailuo").typical_run_s)
    before = timezone.now()
    with transaction.atomic():
        apply_report(job, StatusReport(State.IN_QUEUE, queue_position=2))
    job.refresh_from_db()
    assert job.queue_position == 2
    waited = (job.eta_at - before).total_seconds()
    assert 3 * typical - 1 <= waited <= 3 * typical + 1


# --- live: the cards behind are re-pushed -----------------------------------------------
@pytest.fixture
def pushed(monkeypatch):
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr("project.live.broadcast", lambda uid, html: sent.append((uid, html)))
    return sent


def test_cancelling_a_waiting_job_moves_the_cards_behind_it_up(
    user,
    other_user,
    pushed,
    enqueued,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks,
):
    now = timezone.now()
    local_job(user, status=JobStatus.RUNNING, running_at=now)
    ahead = local_job(user, in_queue_at=now - timedelta(seconds=3))
    second = local_job(other_user, in_queue_at=now - timedelta(seconds=2))
    third = local_job(user, in_queue_at=now - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        job_cancel(job=ahead)

    cards = {}
    for uid, html in pushed:
        for match in re.finditer(r'<article id="job-(\d+)".*?</article>', html, re.S):
            cards[int(match.group(1))] = (uid, text_of(match.group(0)))
    assert "Cancelled" in cards[ahead.pk][1]
    # Each card behind reaches its own owner only, with its new place.
    assert cards[second.pk][0] == other_user.pk
    assert "Waiting for a render slot — 1st in line" in cards[second.pk][1]
    assert cards[third.pk][0] == user.pk
    assert "Waiting for a render slot — 2nd in line" in cards[third.pk][1]


def test_a_hosted_job_leaving_pushes_no_local_cards(
    user, pushed, django_capture_on_commit_callbacks
):
    local_job(user, in_queue_at=timezone.now())
    hosted = local_job(user, model_id="hailuo", provider="fal", status=JobStatus.QUEUED)
    with django_capture_on_commit_callbacks(execute=True):
        job_cancel(job=hosted)
    ids = {int(m) for _, html in pushed for m in re.findall(r'<article id="job-(\d+)"', html)}
    assert ids == {hosted.pk}
