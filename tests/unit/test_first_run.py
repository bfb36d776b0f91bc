"""The first-run checklist: its steps follow the user's own jobs, clips and exports (and
nobody else's), and a dismissal (POST with CSRF) hides it for good, in any browser."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from editor.models import Clip, Export, Timeline, Track
from generation.models import GenerationJob
from media_library.models import MediaItem
from onboarding import selectors, services
from onboarding.models import FirstRunState

pytestmark = pytest.mark.django_db


def done(user) -> dict[str, bool]:
    return {s.key: s.done for s in selectors.first_run_checklist(user=user).steps}


def a_clip(owner) -> Clip:
    item = MediaItem.objects.create(owner=owner, kind="video", title="shot", status="ready")
    timeline = Timeline.objects.create(owner=owner, name="Cut")
    track = Track.objects.create(timeline=timeline, kind="video", order=0)
    return Clip.objects.create(track=track, media_item=item, start_s=0, in_s=0, out_s=2)


def test_a_fresh_user_has_three_steps_to_do(user):
    checklist = selectors.first_run_checklist(user=user)
    assert [s.title for s in checklist.steps] == [
        "Generate a clip",
        "Drag it to the timeline",
        "Export",
    ]
    assert done(user) == {"generate": False, "timeline": False, "export": False}
    assert checklist.done_count == 0 and not checklist.complete and not checklist.dismissed


def test_steps_tick_from_the_users_own_rows(user, other_user):
    GenerationJob.objects.create(owner=user, model_id="local", provider="local", prompt="x")
    assert done(user) == {"generate": True, "timeline": False, "export": False}
    clip = a_clip(user)
    assert done(user)["timeline"]
    Export.objects.create(
        owner=user, timeline=clip.track.timeline, width=640, height=360, fps=24, file_name="c.mp4"
    )
    checklist = selectors.first_run_checklist(user=user)
    assert checklist.complete and checklist.done_count == 3
    # Another user's rows do nothing for this one.
    assert done(other_user) == {"generate": False, "timeline": False, "export": False}


def test_an_upload_counts_as_the_first_clip(user):
    MediaItem.objects.create(owner=user, kind="video", title="mine.mp4")
    assert done(user)["generate"]


def test_fragment_lists_the_steps_then_nothing_once_dismissed(client, user, other_user):
    client.force_login(user)
    url = reverse("onboarding:first_run")
    html = client.get(url).content.decode()
    assert 'id="first-run"' in html and 'data-complete="false"' in html
    assert html.count('data-done="false"') == 3
    assert reverse("onboarding:first_run_dismiss") in html

    response = client.post(reverse("onboarding:first_run_dismiss"))
    assert response.status_code == 200 and "first-run-step" not in response.content.decode()
    assert "first-run" not in client.get(url).content.decode().replace("first-run-slot", "")
    assert FirstRunState.objects.get(user=user).dismissed_at is not None

    # Stored per user, on the server: a new session of this user has it dismissed too,
    # another user still sees the checklist.
    fresh = Client()
    fresh.force_login(user)
    assert 'id="first-run"' not in fresh.get(url).content.decode()
    fresh.force_login(other_user)
    assert 'id="first-run"' in fresh.get(url).content.decode()


def test_dismiss_needs_post_and_a_csrf_token(user):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.get(reverse("onboarding:first_run_dismiss")).status_code == 405
    assert strict.post(reverse("onboarding:first_run_dismiss")).status_code == 403
    assert not selectors.first_run_dismissed(user=user)


def test_dismiss_is_idempotent_and_keeps_the_first_time(user):
    first = services.first_run_dismiss(user=user).dismissed_at
    again = services.first_run_dismiss(user=user).dismissed_at
    assert first is not None and again == first
    assert FirstRunState.objects.filter(user=user).count() == 1


def test_signed_out_gets_no_checklist(client):
    response = client.get(reverse("onboarding:first_run"), HTTP_HX_REQUEST="true")
    assert response.status_code == 401
