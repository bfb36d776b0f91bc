"""Fixtures shared by the unit tests: a private MEDIA_ROOT and the scripted provider.

Modules where every test writes files ask for `media_root` for all their tests with
`pytest.mark.usefixtures("media_root")`.
"""

from __future__ import annotations

import pytest

from generation.providers import registry
from tests.unit.job_fakes import ScriptedProvider

# Every name the registry knows: a pipeline step asks for the job's provider by name, and
# the scripted provider answers for all of them, as one fake provider would.
PROVIDER_NAMES = ("fal", "replicate", "local")


@pytest.fixture
def media_root(settings, tmp_path):
    """MEDIA_ROOT in this test's own directory (created), so stored files can be listed."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def fake_provider():
    """A ScriptedProvider registered for every provider name for this test only: the
    pipeline resolves it through the registry like a real one; the old entries come back
    afterwards."""
    scripted = ScriptedProvider()
    replaced = {name: registry.register(name, scripted) for name in PROVIDER_NAMES}
    yield scripted
    for name, previous in replaced.items():
        registry.register(name, previous)
