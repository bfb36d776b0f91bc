"""pytest fixtures for the provider emulators. Import them into a conftest:

    from tests.emulators.fixtures import fal_emulator, fal_settings, replicate_emulator, replicate_settings  # noqa: F401

fal_emulator / replicate_emulator: a started emulator (function scope) — `.url`, `.key`,
    `.fail(op, kind, ...)`, `.complete_now(id)`, `.count("submits_received")`, `.records`,
    `.webhooks`; Replicate also has `.api_url` and `.webhook_secret`.
fal_settings / replicate_settings: the same emulator with Django settings pointed at it
    (every URL and key of `emulator.settings_env()`) and a short
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


def point_settings_at(settings, emulator) -> None:
    for name, value in emulator.settings_env().items():
        setattr(settings, name, value)


@pytest.fixture
def fal_settings(fal_emulator, settings):
    point_settings_at(settings, fal_emulator)
    settings.PROVIDER_HTTP_TIMEOUT_S = TEST_TIMEOUT_S
    return fal_emulator


@pytest.fixture
def replicate_settings(replicate_emulator, settings):
    point_settings_at(settings, replicate_emulator)
    settings.PROVIDER_HTTP_TIMEOUT_S = TEST_TIMEOUT_S
    return replicate_emulator
