"""API requests per minute per user (API_RATE, default 120/m).

A django-ninja throttle backed by django-ratelimit's counter on the shared Redis cache:
an atomic add/incr per fixed window, so every web node counts together (ninja's own
throttles keep a read-modify-write history list, which parallel requests undercount).
Authentication runs before throttles in ninja, so the count is per user whether the
request came with a session or a bearer token; the 429 carries Retry-After.
"""

from __future__ import annotations

import math
import threading

from django.conf import settings
from django_ratelimit.core import get_usage
from ninja.throttling import BaseThrottle

from project.client_ip import client_network

from ..limits import parse_rate

_waits = threading.local()


def _key(_group: str, request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_network(request)}"


class ApiRateThrottle(BaseThrottle):
    def allow_request(self, request) -> bool:
        rate = settings.API_RATE
        if not rate or parse_rate(rate)[0] <= 0:
            return True
        usage = get_usage(request, group="api", key=_key, rate=rate, increment=True)
        if usage is None:
            return True
        # ninja asks wait() right after, in this thread; the instance is shared by threads.
        _waits.seconds = max(1, math.ceil(usage["time_left"]))
        return not usage["should_limit"]

    def wait(self) -> float | None:
        return getattr(_waits, "seconds", None)


def throttled_message(wait: float | None) -> str:
    limit, period = parse_rate(settings.API_RATE)
    per = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}.get(period, f"{period} s")
    retry = f" Try again in {math.ceil(wait)} s." if wait else ""
    return f"Too many API requests: the limit is {limit} per {per}.{retry}"
