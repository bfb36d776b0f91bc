"""Every queryset is scoped to its owner. For a second user, every page, fragment, API
route, websocket group, webhook (wrong token) and media file URL of the first user's
objects answers 404 and changes nothing; lists never show them; ids of them inside a
request body are refused.

The URL patterns are enumerated from the resolver: a new route that is not listed here
(as an object route, a list, a body-reference route or an exemption with its reason)
fails `test_every_route_is_covered`.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from editor.models import Clip, Export, Slot, Storyboard, StoryboardShot, Timeline, Track
from editor.services.clips import clip_add
from editor.services.timelines import timeline_create
from generation.models import ApiToken, GenerationBudget, GenerationJob, JobStatus, PromptTemplate
from generation.services.tokens import api_token_create
from media_library import uploads
from media_library.models import MediaItem, UploadSession
from media_library.testing import make_image_bytes, make_video
from project.live import broadcast

pytestmark = pytest.mark.django_db

SECRET = "ALICESECRET"

# --- the routes ----------------------------------------------------------------------------
# name -> (kwargs from the world, POST data from the world). Each answers 404 to mallory
# for every method it allows (and 405, before any lookup, for the others).
OBJECT_ROUTES = {
    "media_library:card": (lambda w: {"media_id": w.video.pk}, None),
    "media_library:details": (lambda w: {"media_id": w.video.pk}, None),
    "media_library:rename": (lambda w: {"media_id": w.video.pk}, lambda w: {"title": "pwned"}),
    "media_library:delete": (lambda w: {"media_id": w.video.pk}, None),
    "media_library:file": (lambda w: {"media_id": w.video.pk}, None),
    "media_library:derived": (lambda w: {"media_id": w.video.pk, "variant": "poster"}, None),
    "generation:token_revoke": (lambda w: {"token_id": w.token.pk}, None),
    "generation:job_cancel": (lambda w: {"job_id": w.live_job.pk}, None),
    "generation:job_retry": (lambda w: {"job_id": w.failed_job.pk}, None),
    "generation:template_delete": (lambda w: {"template_id": w.template.pk}, None),
    "editor:timeline": (lambda w: {"pk": w.timeline.pk}, None),
    "editor:timeline_open": (lambda w: {"pk": w.timeline.pk}, None),
    "editor:timeline_rename": (lambda w: {"pk": w.timeline.pk}, lambda w: {"name": "pwned"}),
    "editor:timeline_duplicate": (lambda w: {"pk": w.timeline.pk}, None),
    "editor:timeline_delete": (lambda w: {"pk": w.timeline.pk}, None),
    "editor:timeline_undo": (lambda w: {"pk": w.timeline.pk}, None),
    "editor:timeline_redo": (lambda w: {"pk": w.timeline.pk}, None),
    "editor:clip_add": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"media_id": w.video.pk, "start": "0"},
    ),
    "editor:clip_move": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"clip_id": w.clip.pk, "start": "5"},
    ),
    "editor:clips_shift": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"clip_ids": str(w.clip.pk), "delta": "3"},
    ),
    "editor:clip_trim": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"clip_id": w.clip.pk, "edge": "in", "point": "0.5"},
    ),
    "editor:clips_split": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"clip_ids": str(w.clip.pk), "at": "1"},
    ),
    "editor:clips_delete": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"clip_ids": str(w.clip.pk)},
    ),
    "editor:clips_paste": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"clip_ids": str(w.clip.pk), "at": "10"},
    ),
    "editor:track_toggle": (
        lambda w: {"pk": w.timeline.pk, "track_id": w.track.pk},
        lambda w: {"field": "muted", "value": "true"},
    ),
    "editor:track_delete": (lambda w: {"pk": w.timeline.pk, "track_id": w.track.pk}, None),
    "editor:export_list": (lambda w: {"pk": w.timeline.pk}, None),
    "editor:export_start": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"preset": "480p", "fps": "30", "file_name": "x"},
    ),
    "editor:export_cancel": (lambda w: {"export_id": w.export.pk}, None),
    "api:job_detail": (lambda w: {"job_id": w.live_job.pk}, None),
    "api:cancel_job": (lambda w: {"job_id": w.live_job.pk}, None),
    "api:retry_job": (lambda w: {"job_id": w.failed_job.pk}, None),
    # Chunked uploads: every method on another user's upload is a 404 (PATCH, HEAD and
    # DELETE too: tests/unit/test_chunked_uploads.py).
    "media_library:upload_session": (lambda w: {"upload_id": w.upload.pk}, None),
    "api:upload_status": (lambda w: {"upload_id": w.upload.pk}, None),
    "api:upload_chunk": (lambda w: {"upload_id": w.upload.pk}, None),
    "api:upload_cancel": (lambda w: {"upload_id": w.upload.pk}, None),
    "editor:clip_append": (lambda w: {"pk": w.timeline.pk}, lambda w: {"media_id": w.video.pk}),
    # Generation slots on alice's timeline (the form, a new one, Continue from her clip, and
    # every action on her slot) and their API (DELETE is among the methods tried).
    "editor:slot_form": (lambda w: {"pk": w.timeline.pk}, None),
    "editor:slot_create": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"model": "local", "prompt": "x", "duration": "4", "track_id": w.track.pk},
    ),
    "editor:slot_continue": (lambda w: {"pk": w.timeline.pk}, lambda w: {"clip_id": w.clip.pk}),
    "editor:slot_action": (
        lambda w: {"pk": w.timeline.pk, "slot_id": w.slot.pk, "action": "remove"},
        None,
    ),
    "api:create_slot": (
        lambda w: {"timeline_id": w.timeline.pk},
        lambda w: {"model": "local", "prompt": "x", "after_clip_id": w.clip.pk},
    ),
    "api:list_slots": (lambda w: {"timeline_id": w.timeline.pk}, None),
    "api:delete_slot": (lambda w: {"timeline_id": w.timeline.pk, "slot_id": w.slot.pk}, None),
    "editor:slot_bridge": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"clip_a": w.clip.pk, "clip_b": w.clip.pk, "model": "local", "prompt": "x"},
    ),
    "editor:clip_prop": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"clip_id": w.clip.pk, "field": "volume", "value": "0.5"},
    ),
    # Storyboards on alice's timeline: the dialog, its quote, Generate all, and every
    # action on her storyboard and its shot.
    "editor:storyboard_dialog": (lambda w: {"pk": w.timeline.pk}, None),
    "editor:storyboard_quote": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"prompt": "x", "model": "local", "duration": "2"},
    ),
    "editor:storyboard_start": (
        lambda w: {"pk": w.timeline.pk},
        lambda w: {"prompt": "x", "model": "local", "duration": "2"},
    ),
    "editor:storyboard_action": (
        lambda w: {"pk": w.timeline.pk, "board_id": w.storyboard.pk, "action": "cancel"},
        None,
    ),
    "editor:storyboard_shot_regenerate": (
        lambda w: {"pk": w.timeline.pk, "board_id": w.storyboard.pk, "shot_id": w.shot.pk},
        None,
    ),
    "api:get_storyboard": (lambda w: {"storyboard_id": w.storyboard.pk}, None),
}
# Every other variant of the derived-file route, and the download form of the file URL.
EXTRA_FILE_URLS = [
    lambda w: reverse("media_library:derived", args=[w.video.pk, "filmstrip"]),
    lambda w: reverse("media_library:derived", args=[w.video.pk, "waveform"]),
    lambda w: reverse("media_library:file", args=[w.video.pk]) + "?download=1",
    lambda w: reverse("media_library:file", args=[w.image.pk]),
]

# Lists and pages: answer 200 to mallory without anything of alice's in them.
LIST_ROUTES = {
    "editor:workspace": "",
    "editor:editor_panel": "",
    "editor:timeline_list": "",
    "media_library:panel": "",
    "media_library:grid": "",
    "generation:panel": "",
    "generation:queue": "",
    "generation:history": "",
    "generation:templates": "?category=Mine",
    "generation:tokens": "",
    "generation:composer": "",
    "api:jobs": "",
    "api:media": "",
    "onboarding:first_run": "",
}

# Routes that create the caller's own object and may name other objects in the body:
# tested with alice's ids in the body (test_ids_of_others_in_a_body_are_refused).
BODY_REFERENCE_ROUTES = {
    "generation:composer",  # ?from_job=
    "generation:estimate",  # image_id
    "generation:generate",  # image_id
    "editor:clip_add",  # media_id on mallory's own timeline
    "editor:clips_paste",  # clip_ids from another timeline
    "editor:clip_append",  # media_id on mallory's own timeline
    "editor:slot_continue",  # clip_id from another timeline
    "api:create_slot",  # after_clip_id from another timeline
    "api:create_storyboard",  # timeline_id of another user's timeline
    "editor:slot_bridge",  # clip ids from another timeline
    "api:generate_video",  # image_media_id
    "api:estimate_cost",  # image_media_id
}

EXEMPT = {
    "healthz": "public health check, no user data",
    "metrics": "token-protected aggregate counters, no per-user objects",
    "/favicon.ico": "a redirect to a static file",
    "login": "public login form",
    "logout": "ends the caller's own session",
    "api:openapi-json": "the API schema, no user data",
    "api:openapi-view": "the API docs page, no user data",
    "api:api-root": "ninja's root, 404 for everyone",
    "api:models": "the model catalog, the same for everyone",
    "media_library:close": "answers an empty fragment, reads nothing",
    "onboarding:first_run_dismiss": "sets the caller's own checklist flag, takes no ids",
    "media_library:upload": "creates the caller's own item from the uploaded bytes only",
    "api:upload_media": "creates the caller's own item from the uploaded bytes only",
    "media_library:upload_sessions": "opens the caller's own chunked upload; takes no ids",
    "api:upload_start": "opens the caller's own chunked upload; takes no ids",
    "editor:timeline_create": "creates the caller's own timeline; takes no ids",
    "generation:template_save": "creates the caller's own template; takes no ids",
    "generation:token_create": "creates the caller's own token; takes no ids",
    "generation:webhook": "per-job secret instead of a session: test_webhook_with_a_wrong_token",
    "api:media_download": "a signed link bound to one item and its owner instead of a session: "
    "tests/unit/test_api_media_download.py",
}


def all_route_names() -> set[str]:
    """Every route's namespaced name; an unnamed route by its path ("/favicon.ico")."""

    def walk(patterns, ns="", prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route.startswith("admin/"):
                    continue  # staff only; tested in tests/unit/test_admin_oversight.py
                namespace = ns + (f"{pattern.namespace}:" if pattern.namespace else "")
                yield from walk(pattern.url_patterns, namespace, route)
            elif isinstance(pattern, URLPattern):
                yield ns + pattern.name if pattern.name else "/" + route

    return set(walk(get_resolver().url_patterns))


def test_every_route_is_covered():
    covered = set(OBJECT_ROUTES) | set(LIST_ROUTES) | BODY_REFERENCE_ROUTES | set(EXEMPT)
    missing = all_route_names() - covered
    assert not missing, f"routes without an owner-scoping test or exemption: {sorted(missing)}"
    stale = covered - all_route_names()
    assert not stale, f"listed routes that no longer exist: {sorted(stale)}"


# --- the world ------------------------------------------------------------------------------
class World:
    pass


@pytest.fixture
def world(user, other_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.GENERATION_COOLDOWN_S = 0
    w = World()
    w.alice, w.mallory = user, other_user
    clip_path = make_video(tmp_path / "alice.mp4", seconds=2.0, audio=True)
    w.video = MediaItem(
        owner=user,
        kind="video",
        title=f"{SECRET} video",
        mime_type="video/mp4",
        status="ready",
        duration_s=2.0,
        width=160,
        height=90,
        fps=24,
        has_audio=True,
    )
    w.video.file.save("v.mp4", ContentFile(clip_path.read_bytes()), save=False)
    jpeg = make_image_bytes("JPEG")
    w.video.poster.save("poster.jpg", ContentFile(jpeg), save=False)
    w.video.filmstrip.save("filmstrip.jpg", ContentFile(jpeg), save=False)
    w.video.waveform.save("waveform.png", ContentFile(make_image_bytes()), save=False)
    w.video.save()
    w.image = MediaItem(
        owner=user, kind="image", title=f"{SECRET} image", mime_type="image/png", status="ready"
    )
    w.image.file.save("i.png", ContentFile(make_image_bytes()), save=False)
    w.image.save()
    w.live_job = GenerationJob.objects.create(
        owner=user,
        model_id="hailuo",
        provider="fal",
        prompt=f"{SECRET} live prompt",
        status=JobStatus.IN_QUEUE,
        provider_request_id="req-alice",
        estimated_cost=Decimal("0.27"),
    )
    w.failed_job = GenerationJob.objects.create(
        owner=user,
        model_id="local",
        provider="local",
        prompt=f"{SECRET} failed prompt",
        params={"duration": 4},
        status=JobStatus.FAILED,
        error_code="provider_error",
    )
    GenerationBudget.objects.create(user=user, reserved_usd=Decimal("0.27"))
    w.template = PromptTemplate.objects.create(owner=user, title=f"{SECRET} tpl", prompt="p")
    w.token, _ = api_token_create(user=user, name=f"{SECRET} token")
    w.timeline = timeline_create(owner=user, name=f"{SECRET} timeline")
    w.track = w.timeline.tracks.order_by("order").first()
    w.clip = clip_add(timeline=w.timeline, media_item=w.video, start_s=0)[0]
    w.slot = Slot.objects.create(
        timeline=w.timeline, track=w.track, job=w.live_job, start_s=10.0, duration_s=4.0
    )
    w.storyboard = Storyboard.objects.create(owner=user, timeline=w.timeline, track=w.track)
    w.shot = StoryboardShot.objects.create(
        storyboard=w.storyboard, position=1, prompt=f"{SECRET} shot", model_id="local", slot=w.slot
    )
    w.export = Export.objects.create(
        owner=user,
        timeline=w.timeline,
        width=854,
        height=480,
        fps=30,
        file_name=f"{SECRET} export",
        status=Export.Status.QUEUED,
    )
    settings.UPLOAD_PARTIAL_DIR = tmp_path / "partial"
    w.upload = uploads.upload_create(owner=user, filename=f"{SECRET}.mp4", size=1000)
    w.client = Client()
    w.client.force_login(other_user)
    w.mallory_timeline = timeline_create(owner=other_user, name="mine")
    _, w.mallory_token = api_token_create(user=other_user, name="mine")
    return w


def snapshot(w) -> dict:
    """Everything of alice's, field by field, plus what mallory owns (nothing may be
    created for either of them by mallory's requests)."""
    alice = w.alice
    return {
        "jobs": list(GenerationJob.objects.filter(owner=alice).order_by("pk").values()),
        "media": list(MediaItem.objects.filter(owner=alice).order_by("pk").values()),
        "templates": list(PromptTemplate.objects.filter(owner=alice).order_by("pk").values()),
        "tokens": list(ApiToken.objects.filter(user=alice).order_by("pk").values()),
        "timelines": list(Timeline.objects.filter(owner=alice).order_by("pk").values()),
        "tracks": list(Track.objects.filter(timeline__owner=alice).order_by("pk").values()),
        "clips": list(Clip.objects.filter(track__timeline__owner=alice).order_by("pk").values()),
        "exports": list(Export.objects.filter(owner=alice).order_by("pk").values()),
        "slots": list(Slot.objects.filter(timeline__owner=alice).order_by("pk").values()),
        "storyboards": list(Storyboard.objects.filter(owner=alice).order_by("pk").values()),
        "shots": list(
            StoryboardShot.objects.filter(storyboard__owner=alice).order_by("pk").values()
        ),
        "mallory_storyboards": Storyboard.objects.filter(owner=w.mallory).count(),
        "budget": list(GenerationBudget.objects.filter(user=alice).values()),
        "uploads": list(UploadSession.objects.filter(owner=alice).values()),
        "mallory_jobs": GenerationJob.objects.filter(owner=w.mallory).count(),
        "mallory_media": MediaItem.objects.filter(owner=w.mallory).count(),
        "mallory_clips": Clip.objects.filter(track__timeline__owner=w.mallory).count(),
        "mallory_exports": Export.objects.filter(owner=w.mallory).count(),
        "files": sorted(
            f.name
            for item in MediaItem.objects.filter(owner=alice)
            for f in (item.file, item.poster, item.filmstrip, item.waveform)
            if f and f.storage.exists(f.name)
        ),
    }


def _api_headers(w) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {w.mallory_token}"}


def _request(w, method: str, url: str, data=None):
    extra = _api_headers(w) if url.startswith("/api/") else {}
    if method == "GET":
        return w.client.get(url, **extra)
    if method == "DELETE":
        return w.client.delete(url, **extra)
    if url.startswith("/api/"):
        return w.client.post(url, data or {}, content_type="application/json", **extra)
    return w.client.post(url, data or {}, HTTP_HX_REQUEST="true")


# --- the tests ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OBJECT_ROUTES))
def test_object_routes_answer_404_and_change_nothing(
    world, name, django_capture_on_commit_callbacks
):
    kwargs, data = OBJECT_ROUTES[name]
    url = reverse(name, kwargs=kwargs(world))
    before = snapshot(world)
    statuses = {}
    with django_capture_on_commit_callbacks(execute=True):
        for method in ("GET", "POST", "DELETE"):
            response = _request(world, method, url, data(world) if data else None)
            statuses[method] = response.status_code
            assert SECRET.encode() not in response.content
    assert set(statuses.values()) <= {404, 405}, statuses
    assert 404 in statuses.values(), statuses
    assert snapshot(world) == before


def test_file_urls_answer_404(world):
    urls = [f(world) for f in EXTRA_FILE_URLS]
    for url in urls:
        for method in ("get", "head"):
            response = getattr(world.client, method)(url)
            assert response.status_code == 404, (method, url)
            assert "X-Accel-Redirect" not in response and "Location" not in response


def test_file_urls_work_for_the_owner(world):
    """The control: the same URLs do serve alice, so the 404s above are about ownership."""
    owner = Client()
    owner.force_login(world.alice)
    for url in [f(world) for f in EXTRA_FILE_URLS]:
        assert owner.get(url).status_code == 200, url
    assert (
        owner.get(reverse("api:job_detail", kwargs={"job_id": world.live_job.pk})).status_code
        == 200
    )


@pytest.mark.parametrize("name", sorted(LIST_ROUTES))
def test_lists_show_nothing_of_another_user(world, name):
    url = reverse(name) + LIST_ROUTES[name]
    response = _request(world, "GET", url)
    assert response.status_code == 200
    assert SECRET.encode() not in response.content


def test_lists_do_show_the_owners_things(world):
    """The control for the list test: alice sees her things on the same URLs."""
    owner = Client()
    owner.force_login(world.alice)
    for name in (
        "generation:queue",
        "generation:tokens",
        "editor:timeline_list",
        "api:jobs",
        "api:media",
    ):
        url = reverse(name) + LIST_ROUTES[name]
        assert SECRET.encode() in owner.get(url).content, name


def test_ids_of_others_in_a_body_are_refused(world, django_capture_on_commit_callbacks):
    w = world
    before = snapshot(w)
    with django_capture_on_commit_callbacks(execute=True):
        composer = w.client.get(reverse("generation:composer"), {"from_job": w.failed_job.pk})
        assert composer.status_code == 404
        for name in ("generation:estimate", "generation:generate"):
            response = w.client.post(
                reverse(name),
                {"model": "kling-2.1-standard-i2v", "prompt": "x", "image_id": w.image.pk},
                HTTP_HX_REQUEST="true",
            )
            assert SECRET.encode() not in response.content
        added = w.client.post(
            reverse("editor:clip_add", args=[w.mallory_timeline.pk]),
            {"media_id": w.video.pk, "start": "0"},
        )
        assert added.status_code == 404
        pasted = w.client.post(
            reverse("editor:clips_paste", args=[w.mallory_timeline.pk]),
            {"clip_ids": str(w.clip.pk), "at": "0"},
        )
        assert pasted.status_code == 404
        appended = w.client.post(
            reverse("editor:clip_append", args=[w.mallory_timeline.pk]),
            {"media_id": w.video.pk},
            HTTP_HX_REQUEST="true",
        )
        assert appended.status_code == 404, appended.content
        continued = w.client.post(
            reverse("editor:slot_continue", args=[w.mallory_timeline.pk]),
            {"clip_id": w.clip.pk},
            HTTP_HX_REQUEST="true",
        )
        assert continued.status_code in (400, 404), continued.content
        assert SECRET.encode() not in continued.content
        after_theirs = w.client.post(
            reverse("api:create_slot", args=[w.mallory_timeline.pk]),
            {"model": "local", "prompt": "x", "after_clip_id": w.clip.pk},
            content_type="application/json",
            **_api_headers(w),
        )
        assert after_theirs.status_code in (400, 404), after_theirs.content
        assert SECRET not in after_theirs.content.decode()
        board = w.client.post(
            reverse("api:create_storyboard"),
            {"timeline_id": w.timeline.pk, "shots": [{"prompt": "x", "model": "local"}]},
            content_type="application/json",
            **_api_headers(w),
        )
        assert board.status_code == 404, board.content
        bridged = w.client.post(
            reverse("editor:slot_bridge", args=[w.mallory_timeline.pk]),
            {"clip_a": w.clip.pk, "clip_b": w.clip.pk, "model": "local", "prompt": "x"},
            HTTP_HX_REQUEST="true",
        )
        assert bridged.status_code in (400, 404), bridged.content
        assert SECRET.encode() not in bridged.content
        for name in ("api:generate_video", "api:estimate_cost"):
            response = w.client.post(
                reverse(name),
                {"model": "kling-2.1-standard-i2v", "prompt": "x", "image_media_id": w.image.pk},
                content_type="application/json",
                **_api_headers(w),
            )
            assert response.status_code == 400, (name, response.content)
            assert "image_media_id" in response.json()["errors"]
            assert SECRET not in response.content.decode()
    assert snapshot(w) == before


def signed_fal_post(client, url: str, job, emulator):
    """POST a webhook signed by a fal emulator whose keys the settings point at."""
    import json as _json

    body = _json.dumps({"request_id": job.provider_request_id, "status": "OK"}).encode()
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in emulator.signed_headers(job.provider_request_id, body).items()
    }
    return client.post(url, body, content_type="application/json", **headers)


def test_webhook_with_a_wrong_token_is_404_and_changes_nothing(world, fal_settings):
    job = world.live_job
    anonymous = Client()
    cases = [
        reverse("generation:webhook", args=["fal", "not-the-token"]),
        reverse("generation:webhook", args=["replicate", job.webhook_token]),  # wrong provider
        reverse("generation:webhook", args=["local", job.webhook_token]),
        reverse("generation:webhook", args=["fal", job.webhook_token[:-1]]),
    ]
    before = snapshot(world)
    for url in cases:
        assert anonymous.post(url, {}, content_type="application/json").status_code == 404, url
    assert snapshot(world) == before
    # The control: the right token, signed as fal signs, is accepted and schedules a
    # status call (unsigned, the right token alone is a 401: tests/integration/
    # test_pipeline_webhooks.py).
    right = reverse("generation:webhook", args=["fal", job.webhook_token])
    assert signed_fal_post(anonymous, right, job, fal_settings).status_code == 200
    job.refresh_from_db()
    assert job.poll_seq == 1


@pytest.mark.django_db(transaction=True)
def test_websocket_groups_are_per_user(user, other_user, live_client):
    alice_tab = live_client(user)
    mallory_tab = live_client(other_user)
    assert alice_tab.connected and mallory_tab.connected
    broadcast(user.pk, f'<div id="x">{SECRET}</div>')
    alice_tab.wait_for_text(SECRET)
    # Whatever reaches mallory's tab arrives in order: once her own marker is there,
    # anything of alice's would have been too.
    broadcast(other_user.pk, '<div id="x">mallory-marker</div>')
    mallory_tab.wait_for_text("mallory-marker")
    assert not [m for m in mallory_tab.messages if SECRET in m]


def test_anonymous_websocket_is_refused(live_client):
    tab = live_client(None)
    assert not tab.connected


def test_api_bearer_of_another_user_sees_no_job(world):
    """The same 404 through the JSON API's own error format."""
    url = reverse("api:job_detail", kwargs={"job_id": world.live_job.pk})
    response = world.client.get(url, **_api_headers(world))
    assert response.status_code == 404 and response.json()["message"] == "No such job."
