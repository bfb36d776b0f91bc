"""The HTML form routes fuzzed as the JSON API is (hypothesis): every route of the URLconf
that a signed-in browser reaches, GET and POST, with hostile field values (huge and
negative ints, unicode, NUL bytes, very long strings, comma lists, repeated keys) and
hostile path ids. Not one response may be a 5xx.

The routes come from the URLconf itself, so a new view is fuzzed without editing this
file; the few left out are listed in SKIPPED with the reason."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from editor import services as editor_services
from editor.models import Clip, Export, Timeline
from generation.models import GenerationJob, PromptTemplate
from generation.services.tokens import api_token_create
from media_library.models import MediaItem
from project.ids import ID_MAX

pytestmark = pytest.mark.django_db

# Not HTML form routes, or fuzzed elsewhere:
SKIPPED_PREFIXES = (
    "api/",  # the JSON API: tests/integration/test_hostile_api_schemathesis.py
    "admin/",  # Django's own admin
    "generation/webhooks/",  # signed provider callbacks: tests of the webhooks
    "metrics",
    "healthz",
    "favicon.ico",
)

# Every field name any HTML form of the app reads; each example posts a random subset.
FIELDS = (
    "clip_ids",
    "clip_id",
    "media_id",
    "track_id",
    "start",
    "delta",
    "edge",
    "point",
    "ripple",
    "at",
    "new_track",
    "field",
    "value",
    "preset",
    "fps",
    "file_name",
    "name",
    "model",
    "prompt",
    "negative_prompt",
    "duration",
    "resolution",
    "aspect_ratio",
    "seed",
    "audio",
    "image_id",
    "end_image_id",
    "variations",
    "confirm_cost",
    "rendered_model",
    "title",
    "status",
    "q",
    "page",
    "category",
    "from_job",
    "cursor",
    "kind",
    "sort",
    "download",
    "next",
    "username",
    "password",
)

EDGE_VALUES = (
    "0",
    "-1",
    "-0",
    "1",
    str(ID_MAX),
    str(ID_MAX + 1),
    "99999999999999999999",
    "-99999999999999999999",
    "9" * 400,
    "1e400",
    "-1e400",
    "nan",
    "inf",
    "-inf",
    "1.5",
    "0x10",
    " 7 ",
    "٣",  # an Arabic-Indic digit: isdigit() but not an ASCII id
    "²",
    "\x00",
    "1\x00",
    "a\x00b",
    "1,2,99999999999999999999",
    "," * 600,
    ",".join(["1"] * 600),
    "<script>alert(1)</script>",
    "'; DROP TABLE editor_clip; --",
    "%00",
    "\ud7ff\ue000\U0010ffff",
    "x" * 20_000,
    "",
    " ",
    "on",
    "off",
    "true",
    "null",
)

scalar = st.one_of(
    st.sampled_from(EDGE_VALUES),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.lists(st.integers(min_value=-1, max_value=10**22), min_size=1, max_size=4).map(
        lambda ids: ",".join(map(str, ids))
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    # Surrogates cannot be encoded in a request at all; everything else can be sent.
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
)
value = st.one_of(scalar, st.lists(scalar, min_size=2, max_size=3))
# Each field present or not; present fields get hostile values. Every field at once is
# what makes a bounded number of examples reach each view's own fields.
form_data = st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, value))
path_int = st.one_of(
    st.just(None),  # None: the signed-in user's own object
    st.sampled_from([0, 1, ID_MAX, ID_MAX + 1, 10**20, 10**40]),
    st.integers(min_value=0, max_value=10**25),
)


def _routes(patterns=None, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and isinstance(entry.pattern, RoutePattern):
            route = prefix + str(entry.pattern)
            if not route.startswith(SKIPPED_PREFIXES):
                found.append((route, entry))
    return found


ROUTES = _routes()


def _world(user) -> dict[str, int]:
    """The signed-in user's objects, made again if an earlier example deleted them, so
    every example can reach the view's code behind the ownership check."""
    media = MediaItem.objects.filter(owner=user, kind="video").first() or (
        MediaItem.objects.create(
            owner=user,
            kind="video",
            title="clip",
            # A stored file, so the download routes reach their code past the lookup.
            file=default_storage.save("fuzz/x.mp4", ContentFile(b"\0" * 64)),
            status=MediaItem.Status.READY,
            duration_s=10,
            width=1920,
            height=1080,
        )
    )
    timeline = Timeline.objects.filter(owner=user).first()
    if timeline is None:
        timeline = editor_services.timeline_create(owner=user)
    if not Clip.objects.filter(track__timeline=timeline).exists():
        try:
            editor_services.clip_add(timeline=timeline, media_item=media, start_s=0)
        except Exception:  # noqa: BLE001 - a fuzzed edit may have locked the track
            pass
    clip = Clip.objects.filter(track__timeline=timeline).first()
    track = timeline.tracks.first()
    export = Export.objects.filter(owner=user).first() or Export.objects.create(
        owner=user, timeline=timeline, file_name="cut", width=1920, height=1080, fps=30
    )
    job = GenerationJob.objects.filter(owner=user).first() or GenerationJob.objects.create(
        owner=user, model_id="local", provider="local", prompt="seed job", params={}
    )
    template = PromptTemplate.objects.filter(owner=user).first() or (
        PromptTemplate.objects.create(owner=user, title="t", prompt="a cat")
    )
    token = user.api_tokens.filter(revoked_at__isnull=True).first()
    if token is None:
        token, _raw = api_token_create(user=user, name="fuzz")
    return {
        "pk": timeline.pk,
        "track_id": track.pk if track else 1,
        "clip_id": clip.pk if clip else 1,
        "export_id": export.pk,
        "job_id": job.pk,
        "template_id": template.pk,
        "token_id": token.pk,
        "media_id": media.pk,
    }


def _url(route: str, world: dict[str, int], path_ints: list, variant: str) -> str:
    parts = route.split("<")
    url = parts[0]
    hostile = iter(path_ints)
    for part in parts[1:]:
        spec, _, rest = part.partition(">")
        converter, _, name = spec.rpartition(":")
        if converter == "int":
            override = next(hostile, None)
            url += str(world.get(name, 1) if override is None else override)
        else:
            url += variant or "x"
        url += rest
    return "/" + url


@pytest.fixture
def fuzz_world(settings, user):
    settings.GENERATION_RATE = "100000/m"
    settings.GENERATION_COOLDOWN_S = 0
    settings.GENERATION_MAX_CONCURRENT = 100000
    settings.GENERATION_MONTHLY_BUDGET_USD = 1_000_000
    settings.FAL_KEY = "k"
    return user


def test_every_form_route_is_fuzzed():
    """The enumeration found the routes this test is about (a broken walk would pass
    every fuzz case vacuously)."""
    routes = {route for route, _ in ROUTES}
    for expected in (
        "editor/timelines/<int:pk>/clips/delete/",
        "editor/timelines/<int:pk>/clips/add/",
        "generation/generate/",
        "generation/composer/",
        "generation/history/",
        "media/upload/",
        "media/<int:media_id>/rename/",
        "accounts/login/",
    ):
        assert expected in routes
    assert not any(route.startswith("api/") for route in routes)


@pytest.mark.parametrize("route", [route for route, _ in ROUTES])
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@given(
    method=st.sampled_from(["GET", "POST"]),
    data=form_data,
    path_ints=st.lists(path_int, max_size=2),
    variant=st.sampled_from(["thumb", "poster", "x", "..", "%00", "9" * 30]),
    htmx=st.booleans(),
)
def test_form_route_never_answers_5xx(
    client, fuzz_world, route, method, data, path_ints, variant, htmx
):
    client.force_login(fuzz_world)
    url = _url(route, _world(fuzz_world), path_ints, variant)
    headers = {"HX-Request": "true"} if htmx else {}
    send = client.get if method == "GET" else client.post
    response = send(url, data, headers=headers)
    assert response.status_code < 500, (method, url, data, response.content[:300])


def test_the_reported_overflow_is_a_400_with_a_sentence(client, user):
    """The finding itself: clip_ids beyond bigint was an OverflowError (500)."""
    client.force_login(user)
    world = _world(user)
    for clip_ids in ("99999999999999999999", f"{world['clip_id']},{ID_MAX + 1}", "-1", "0"):
        response = client.post(
            f"/editor/timelines/{world['pk']}/clips/delete/", {"clip_ids": clip_ids}
        )
        assert response.status_code == 400, clip_ids
        assert "whole numbers" in response.content.decode()
    # The bound is the database's, not a smaller one: the largest bigint is a valid id
    # (of no clip here), so it is "not found", not "invalid".
    response = client.post(
        f"/editor/timelines/{world['pk']}/clips/delete/", {"clip_ids": str(ID_MAX)}
    )
    assert response.status_code == 404
    assert Clip.objects.filter(pk=world["clip_id"]).exists()


@pytest.mark.parametrize("field", ["media_id", "track_id"])
def test_single_id_fields_are_bounded(client, user, field):
    client.force_login(user)
    world = _world(user)
    data = {"media_id": world["media_id"], "start": "0", field: "99999999999999999999"}
    response = client.post(f"/editor/timelines/{world['pk']}/clips/add/", data)
    assert response.status_code == 400
    assert "whole number from 1 to" in response.content.decode()


def test_composer_from_job_out_of_range_is_not_found(client, user):
    client.force_login(user)
    for job_id in ("99999999999999999999", "-3", "1\x00", "٣"):
        response = client.get("/generation/composer/", {"from_job": job_id})
        assert response.status_code == 404, job_id


WORST = ("99999999999999999999", "-1", "a\x00b", "9" * 400, ",".join(["1"] * 600))


@pytest.mark.parametrize("route", [route for route, _ in ROUTES])
def test_every_field_at_once_with_the_worst_values(client, fuzz_world, route):
    """Deterministic beside the sampling above: every field of every form at once, set to
    each of the values that used to break forms (a bigint overflow, NUL, huge lists)."""
    for worst in WORST:
        for method in ("GET", "POST"):
            client.force_login(fuzz_world)
            url = _url(route, _world(fuzz_world), [], "thumb")
            data = dict.fromkeys(FIELDS, worst)
            send = client.get if method == "GET" else client.post
            response = send(url, data, headers={"HX-Request": "true"})
            assert response.status_code < 500, (method, url, worst, response.content[:300])
