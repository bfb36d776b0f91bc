"""The client's address, as the one place every IP-keyed limit asks (sign-in throttle, the
API's anonymous rate, django-ratelimit's key="ip" through RATELIMIT_IP_META_KEY).

X-Forwarded-For is a list the client starts and each proxy appends to, so only the
entries our own proxies appended can be believed. TRUSTED_PROXY_HOPS says how many
proxies stand in front of the web server:

- 0 (default): nobody is trusted; REMOTE_ADDR (the direct peer) is the client and
  X-Forwarded-For is ignored entirely — a client can write anything into it.
- N > 0: the Nth entry from the right is the address the outermost trusted proxy saw
  (each of the N proxies appends one entry, as nginx's `$proxy_add_x_forwarded_for`
  does; nginx's `proxy_set_header X-Forwarded-For $remote_addr` writes exactly one).
  Everything left of it was written by the client and is never read. A header with
  fewer than N entries, or whose Nth entry is not an IP address, falls back to
  REMOTE_ADDR (the request did not come through the proxies we were told about).

The web server must not rewrite REMOTE_ADDR from the header itself (daphne's
--proxy-headers, uvicorn's --proxy-headers): that takes the leftmost entry, which the
client writes.
"""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings

logger = logging.getLogger(__name__)

# Returned when no address can be read at all (a Unix socket with hops=0, a broken
# header): those requests then share one budget, which throttles rather than lets through.
UNKNOWN = "0.0.0.0"  # noqa: S104 - a key, never bound


def _parse(value: str) -> str | None:
    """The canonical text of an IP address, or None. Accepts `[v6]`, `v4:port` and
    `[v6]:port` as some proxies write them; IPv4-mapped IPv6 becomes the IPv4 address."""
    value = value.strip()
    if not value or len(value) > 64:
        return None
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # IPv4 with a port; bare IPv6 has at least two colons
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def client_ip(request) -> str:
    """The client's IP address as the trusted proxies report it (see the module doc)."""
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0:
        header = request.META.get("HTTP_X_FORWARDED_FOR", "")
        entries = header.split(",") if header else []
        if len(entries) >= hops:
            found = _parse(entries[-hops])
            if found is not None:
                return found
    found = _parse(request.META.get("REMOTE_ADDR") or "")
    if found is None:
        logger.warning("no client address on the request; it shares the unknown budget")
        return UNKNOWN
    return found


def client_network(request) -> str:
    """client_ip as a rate-limit key: an IPv6 client is its /64 (RATELIMIT_IPV6_MASK), as
    django-ratelimit's key="ip" does, since one machine usually holds the whole /64."""
    address = client_ip(request)
    if ":" in address:
        mask = getattr(settings, "RATELIMIT_IPV6_MASK", 64)
    else:
        mask = getattr(settings, "RATELIMIT_IPV4_MASK", 32)
    return str(ipaddress.ip_network(f"{address}/{mask}", strict=False).network_address)
