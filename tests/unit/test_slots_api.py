"""The slots API (editor/api.py on generation's NinjaAPI): create, list, delete; the
validation, pricing, limits and error shapes of /api/generate-video; owner scoping; the
OpenAPI document."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from editor import services
from editor.models import Slot, Track
from generation.models import GenerationBudget, GenerationJob, JobStatus
from generation.services import api_token_create
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


class Api:
    def __init__(self, user):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {api_token_create(user=user, name='t')[1]}"}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, body):
        return self.client.post(
            path, json.dumps(body), content_type="application/json", headers=self.headers
        )

    def delete(self, path):
        return self.client.delete(path, headers=self.headers)


@pytest.fixture
def api(user):
    return Api(user)


@pytest.fixture
def timeline(user):
    return services.timeline_create(owner=user, name="Cut")


@pytest.fixture
def v1(timeline):
    return timeline.tracks.get(kind=Track.Kind.VIDEO)


BODY = {"prompt": "a red fox in snow", "model": "hailuo", "duration": 6}


def url(timeline, slot_id=None):
    base = f"/api/timelines/{timeline.pk}/slots"
    return base if slot_id is None else f"{base}/{slot_id}"


def test_create_list_and_delete(api, timeline, v1, user, enqueued):
    created = api.post(url(timeline), {**BODY, "track_id": v1.pk, "start": 3})
    assert created.status_code == 202, created.content
    body = created.json()
    slot = Slot.objects.get(pk=body["slot_id"])
    assert body["state"] == "queued" and body["start"] == 3.0 and body["duration"] == 6.0
    assert body["job"]["job_id"] == slot.job_id and body["job"]["estimated_cost"] == 0.27
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0.27")

    listed = api.get(url(timeline))
    assert listed.status_code == 200
    assert [(s["slot_id"], s["state"], s["filled"]) for s in listed.json()] == [
        (slot.pk, "queued", False)
    ]

    deleted = api.delete(url(timeline, slot.pk))
    assert deleted.status_code == 200, deleted.content
    assert deleted.json()["job"]["status"] == "cancelled"
    assert GenerationJob.objects.get(pk=slot.job_id).status == JobStatus.CANCELLED
    assert GenerationBudget.objects.get(user=user).reserved_usd == Decimal("0")
    assert api.get(url(timeline)).json() == []


def test_after_clip_id_places_the_slot_after_the_clip(api, timeline, v1, user, enqueued):
    item = MediaItem.objects.create(
        owner=user, kind="video", title="a", file="u/a.mp4", duration_s=2.5, status="ready"
    )
    (clip,) = services.clip_add(timeline=timeline, media_item=item, start_s=1, track=v1)
    response = api.post(url(timeline), {**BODY, "after_clip_id": clip.pk})
    assert response.status_code == 202, response.content
    assert (response.json()["track_id"], response.json()["start"]) == (v1.pk, 3.5)


@pytest.mark.parametrize(
    "body,field",
    [
        ({**BODY, "duration": 7}, "duration"),  # the same validator as /api/generate-video
        ({**BODY, "prompt": ""}, "prompt"),
        ({**BODY, "model": "no-such-model"}, "model"),
        (BODY, "start"),  # no place
        ({**BODY, "start": -1}, "start"),  # schema: ge=0
        ({**BODY, "start": 1e300}, "start"),  # past the six-hour timeline
    ],
)
def test_validation_errors_name_the_field(api, timeline, v1, enqueued, body, field):
    body = {"track_id": v1.pk, **body}
    if field != "start":
        body["start"] = 0
    response = api.post(url(timeline), body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not Slot.objects.exists() and not GenerationJob.objects.exists()


def test_a_track_of_another_timeline_is_refused(api, timeline, user, enqueued):
    elsewhere = services.timeline_create(owner=user, name="Other")
    track = elsewhere.tracks.get(kind=Track.Kind.VIDEO)
    response = api.post(url(timeline), {**BODY, "track_id": track.pk, "start": 0})
    assert response.status_code == 400 and "track_id" in response.json()["errors"]


def test_over_budget_is_429_like_generate_video(api, timeline, v1, settings, enqueued):
    settings.GENERATION_MONTHLY_BUDGET_USD = Decimal("0.10")
    response = api.post(url(timeline), {**BODY, "track_id": v1.pk, "start": 0})
    assert response.status_code == 429
    assert response.json()["errors"] == {"limit": "budget"}
    assert not Slot.objects.exists()


def test_another_users_timeline_and_slot_are_404(api, timeline, v1, other_user, enqueued):
    theirs = services.timeline_create(owner=other_user, name="Theirs")
    their_v1 = theirs.tracks.get(kind=Track.Kind.VIDEO)
    mallory = Api(other_user)
    slot_id = mallory.post(url(theirs), {**BODY, "track_id": their_v1.pk, "start": 0}).json()[
        "slot_id"
    ]
    assert api.get(url(theirs)).status_code == 404
    assert api.post(url(theirs), {**BODY, "track_id": their_v1.pk, "start": 9}).status_code == 404
    assert api.delete(url(theirs, slot_id)).status_code == 404
    # Their slot through my timeline's URL is no more visible.
    assert api.delete(url(timeline, slot_id)).status_code == 404
    assert Slot.objects.filter(pk=slot_id).exists()
    assert api.get(url(timeline)).json() == []


def test_unauthenticated_is_401(timeline):
    assert Client().get(url(timeline)).status_code == 401


def test_the_routes_are_in_the_openapi_document(api):
    doc = api.get("/api/openapi.json").json()
    paths = doc["paths"]
    assert set(paths["/api/timelines/{timeline_id}/slots"]) == {"get", "post"}
    assert set(paths["/api/timelines/{timeline_id}/slots/{slot_id}"]) == {"delete"}
    schema = doc["components"]["schemas"]["SlotIn"]["properties"]
    assert {"prompt", "model", "track_id", "start", "after_clip_id"} <= set(schema)
