"""Fixtures shared by the pipeline integration modules: the module's provider emulators,
its private MEDIA_ROOT, the pipeline environment and the session's worker re-started with it.

A module describes its pipeline once, with the `pipeline` marker, and asks for what it uses:

    pytestmark = [..., pytest.mark.pipeline(fal_polls=(1, 1), GENERATION_MAX_RESULT_MB="1")]

fal_polls / replicate_polls = (queue_polls, running_polls) start that emulator (module
scope) and put its URLs and key in `env`; every other keyword is an extra setting (a
string, as the worker's environment takes it). A module that needs a value only another
fixture knows (a server's URL) overrides `env` and extends the shared one.
"""

from __future__ import annotations

import pytest

from tests.emulators.fal_emulator import FalEmulator
from tests.emulators.replicate_emulator import ReplicateEmulator
from tests.integration.workers import apply_to_settings, pipeline_env, worker_env

PROVIDER_POLLS = ("fal_polls", "replicate_polls")


def pipeline_options(request) -> dict:
    marker = request.node.get_closest_marker("pipeline")
    return dict(marker.kwargs) if marker else {}


def polls(request, name: str) -> tuple[int, int]:
    value = pipeline_options(request).get(name)
    if value is None:
        raise pytest.UsageError(f"{request.node.nodeid}: give pytest.mark.pipeline({name}=(q, r))")
    return value


@pytest.fixture(scope="module")
def fal(request):
    """The module's fal emulator, answering IN_QUEUE then IN_PROGRESS as many times as
    its `fal_polls` say before COMPLETED."""
    queue_polls, running_polls = polls(request, "fal_polls")
    with FalEmulator(queue_polls=queue_polls, running_polls=running_polls) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def replicate(request):
    queue_polls, running_polls = polls(request, "replicate_polls")
    with ReplicateEmulator(queue_polls=queue_polls, running_polls=running_polls) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    """MEDIA_ROOT for the module's worker and test process alike."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def env(request, media_root) -> dict[str, str]:
    """The pipeline settings the module's worker runs with (fast timing, its emulators)."""
    options = pipeline_options(request)
    extra = {name: value for name, value in options.items() if name not in PROVIDER_POLLS}
    emulators = {
        provider: request.getfixturevalue(provider)
        for provider in ("fal", "replicate")
        if f"{provider}_polls" in options
    }
    return pipeline_env(media_root=media_root, **emulators, **extra)


@pytest.fixture(scope="module")
def worker(celery_worker, env):
    """The session's worker, re-started with the module's `env` (and back afterwards)."""
    with worker_env(celery_worker, env) as running:
        yield running


@pytest.fixture
def pipeline_settings(request, settings, env, worker):
    """Before each test: this process gets the worker's settings, and the module's fal
    emulator (if it has one) forgets earlier requests and faults and is back to the
    module's pacing."""
    apply_to_settings(settings, env)
    if "fal_polls" in pipeline_options(request):
        fal = request.getfixturevalue("fal")
        fal.reset()
        fal.queue_polls, fal.running_polls = polls(request, "fal_polls")
