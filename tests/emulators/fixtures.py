"""pytest fixtures for the provider emulators. Import them into a conftest:

    from tests.emulators.fixtures import fal_emulator, fal_settings, replicate_emulator, replicate_settings  # noqa: F401

fal_emulator / replicate_emulator: a started emulator (function scope) — `.url`, `.key`,
    `.fail(op, kind, ...)`, `.complete_now(id)`, `.count("submits_received")`, `.records`,
    `.webhooks`; Replicate also has `.api_url` and `.webhook_secret`.
fal_settings / replicate_settings: the same emulator with Django settings pointed at it
    (FAL_QUEUE_URL + FAL_KEY, or REPLICATE_API_URL + REPLICATE_API_TOKEN) and a short
    PROVIDER_HTTP_TIMEOUT_S (1 s) so the hang fault times out fast. For a Celery worker
    subprocess, pass the same values as environment variables instead.
"""

from __future__ import annotations

import pytest

from .fal_emulator import FalEmulator
from .replicate_emulator import ReplicateEmulator

TEST_TIMEOUT_S = 1.0


@pytest.fixture
def fal_emulator():
    with FalEmulator() as emulator:
        yield emulator


@pytest.fixture
def replicate_emulator():
    with ReplicateEmulator() as emulator:
        yield emulator


@pytest.fixture
def fal_settings(fal_emulator, settings):
    settings.FAL_QUEUE_URL = fal_emulator.url
    settings.FAL_KEY = fal_emulator.key
    settings.PROVIDER_HTTP_TIMEOUT_S = TEST_TIMEOUT_S
    return fal_emulator


@pytest.fixture
def replicate_settings(replicate_emulator, settings):
    settings.REPLICATE_API_URL = replicate_emulator.api_url
    settings.REPLICATE_API_TOKEN = replicate_emulator.key
    settings.PROVIDER_HTTP_TIMEOUT_S = TEST_TIMEOUT_S
    return replicate_emulator
