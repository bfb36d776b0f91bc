"""Project-wide middleware: request ids, login-required-by-default, and a 503 (not a
500) while Redis is not answering."""

import logging
import sys
import uuid

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.signals import got_request_exception
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from .logging import request_id_var

logger = logging.getLogger(__name__)

# Paths that anyone may reach. Webhooks authenticate with a per-job secret instead,
# the JSON API with a session or a bearer token (checked by the API itself).
PUBLIC_PREFIXES = (
    "/favicon.ico",
    "/accounts/login/",
    "/healthz",
    "/static/",
    "/generation/webhooks/",
    "/api/",
    "/metrics",
)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming[:64] if incoming.isascii() and incoming.replace("-", "").isalnum() else ""
        rid = rid or uuid.uuid4().hex[:16]
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response


class LoginRequiredEverywhereMiddleware:
    """Every page and endpoint needs a signed-in user unless listed in PUBLIC_PREFIXES."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated or request.path.startswith(PUBLIC_PREFIXES):
            return self.get_response(request)
        if request.headers.get("HX-Request") or request.headers.get("Accept", "").startswith(
            "application/json"
        ):
            response = JsonResponse({"error": "Please sign in."}, status=401)
            response["HX-Redirect"] = settings.LOGIN_URL_PATH
            return response
        return redirect_to_login(request.get_full_path())


# --- Redis (cache, throttles, broker, channel layer) not answering ------------------------

BACKEND_DOWN_MESSAGE = (
    "The service is temporarily unavailable (Redis is not answering). Please try again in a moment."
)
BACKEND_DOWN_RETRY_AFTER_S = 5
BACKEND_DOWN_CODE = "redis_unavailable"


def _backend_down_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions
    from kombu.exceptions import OperationalError

    # kombu's OperationalError is what Celery's apply_async raises when the broker (our
    # Redis) refuses the connection after its publish retries.
    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OperationalError)


def backend_down(exc: BaseException | None) -> bool:
    """True when `exc` (or what it was raised from) is Redis or the broker not answering."""
    errors = _backend_down_errors()
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, errors):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _wants_json(request) -> bool:
    return (
        request.path.startswith("/api/")
        or bool(request.headers.get("HX-Request"))
        or "application/json" in request.headers.get("Accept", "")
    )


def backend_down_response(request) -> HttpResponse:
    """503 + Retry-After: the API's error envelope for the API, htmx and JSON clients, the
    styled page for a browser navigating."""
    if _wants_json(request):
        response = JsonResponse(
            {"message": BACKEND_DOWN_MESSAGE, "errors": {"service": BACKEND_DOWN_CODE}},
            status=503,
        )
    else:
        response = render(
            request,
            "errors/503.html",
            {"message": BACKEND_DOWN_MESSAGE, "retry_after": BACKEND_DOWN_RETRY_AFTER_S},
            status=503,
        )
    response["Retry-After"] = str(BACKEND_DOWN_RETRY_AFTER_S)
    # Nothing about a refusal caused by an outage may be cached.
    response["Cache-Control"] = "no-store"
    return response


def _note_backend_down(sender, request=None, **kwargs):
    """Django turns an exception raised inside a middleware into a 500 before any outer
    middleware sees it; this receiver marks the request so BackendDownMiddleware (the
    outer one) can replace that 500 with the 503."""
    if request is not None and backend_down(sys.exc_info()[1]):
        request._cutroom_backend_down = True


got_request_exception.connect(_note_backend_down, dispatch_uid="cutroom-backend-down")


class BackendDownMiddleware:
    """Redis down is an outage, not a bug: 503 with Retry-After and a plain sentence from
    every route that needs Redis (throttles, sign-in throttle, generation start, pushes),
    instead of a 500. Views raising are handled in process_exception; other middleware
    raising (sessions, throttles in middleware) through the got_request_exception mark."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code >= 500 and getattr(request, "_cutroom_backend_down", False):
            return backend_down_response(request)
        return response

    def process_exception(self, request, exception):
        if backend_down(exception):
            logger.warning(
                "Redis not answering: %s on %s %s",
                type(exception).__name__,
                request.method,
                request.path,
            )
            return backend_down_response(request)
        return None
