"""The live websocket's origin rule: same host and same port as the page's Host."""

from __future__ import annotations

import pytest

from project.ws_origin import origin_allowed


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://localhost:8000", "localhost:8000", True),
        ("http://127.0.0.1:8765", "127.0.0.1:8765", True),
        # Another app on the same machine, another port: the finding.
        ("http://localhost:9999", "localhost:8000", False),
        ("http://127.0.0.1:9999", "127.0.0.1:8765", False),
        # Default ports: a Host without a port is the scheme's default.
        ("https://localhost", "localhost", True),
        ("http://localhost", "localhost", True),
        ("https://localhost:8443", "localhost", False),
        ("http://localhost:80", "localhost", True),
        # Host names must match, and the host must be allowed.
        ("http://evil.example", "localhost", False),
        ("http://evil.example:8000", "evil.example:8000", False),
        ("http://[::1]:8000", "[::1]:8000", True),
        # Not a web origin at all.
        ("null", "localhost:8000", False),
        ("", "localhost:8000", False),
        ("file://localhost", "localhost", False),
        ("http://localhost:99999999", "localhost:8000", False),
        ("http://localhost:8000", "", False),
    ],
)
def test_origin_rule(origin, host, allowed):
    assert origin_allowed(origin=origin, host=host) is allowed


def test_trusted_origins_for_another_site_name(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://studio.example.com"]
    assert origin_allowed(origin="https://studio.example.com", host="localhost")
    assert not origin_allowed(origin="https://other.example.com", host="localhost")
