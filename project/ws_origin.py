"""The live websocket accepts only pages of this site: same scheme-less host AND port.

Channels' AllowedHostsOriginValidator compares the Origin's host name with ALLOWED_HOSTS
and ignores its port, so a page on `http://localhost:9999` (any local app, a dev server)
could open a socket to Cutroom on `localhost:8000` with the user's cookies. Here the
Origin must name the host the browser asked for (the Host header, which nginx passes on
unchanged with `$http_host`), including its port, and that host must be allowed. Origins
listed in CSRF_TRUSTED_ORIGINS (a site served under another name) are accepted as well.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _host_port(host: str, scheme: str) -> tuple[str, int | None]:
    domain, port = split_domain_port(host)
    if port:
        return domain, int(port)
    return domain, None if scheme is None else DEFAULT_PORTS.get(scheme)


def origin_allowed(*, origin: str, host: str) -> bool:
    """Is a websocket from a page at `origin` allowed for a request to `host`?"""
    if not origin or not host:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    try:
        parts = urlsplit(origin)
        origin_port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host_domain, host_port = _host_port(host.lower(), None)
    if not host_domain or not validate_host(host_domain, settings.ALLOWED_HOSTS):
        return False
    if parts.hostname.lower().strip("[]") != host_domain.strip("[]"):
        return False
    # A Host without a port means the browser used the scheme's default one, which is the
    # Origin's default port too (behind TLS the page is https and the port 443).
    expected = host_port if host_port is not None else DEFAULT_PORTS[parts.scheme]
    return origin_port == expected


class SameOriginValidator:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", ()))
        origin = headers.get(b"origin", b"").decode("latin-1")
        host = headers.get(b"host", b"").decode("latin-1")
        if origin_allowed(origin=origin, host=host):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
