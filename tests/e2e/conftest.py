"""Fixtures of the browser tests only (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.harness.media_files import delete_media_files


@pytest.fixture
def cleanup_media():
    """Delete the files the web server and the worker stored for this test's media items."""
    yield
    delete_media_files()
