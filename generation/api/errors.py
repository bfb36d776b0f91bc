"""Every error is JSON: {"message": "...", "errors": {"field": "plain sentence"}}."""

from __future__ import annotations

import redis.exceptions
from kombu.exceptions import OperationalError as BrokerUnavailable
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from project.middleware import (
    BACKEND_DOWN_CODE,
    BACKEND_DOWN_MESSAGE,
    BACKEND_DOWN_RETRY_AFTER_S,
)

from ..limits import LimitExceeded
from ..models import GenerationJob
from ..services.jobs import JobInvalid
from ..services.transitions import IllegalTransition
from .base import api
from .throttle import throttled_message

# Our validator's field names -> the API's.
FIELD_NAMES = {
    "image": "image_media_id",
    "end_image": "end_image_media_id",
    "audio": "generate_audio",
}

SIGN_IN_MESSAGE = (
    "Authentication required: send Authorization: Bearer <token>. Create a token in the "
    "user menu → API tokens, or run python manage.py api_token <username>."
)


def _error(request, status: int, message: str, errors: dict[str, str] | None = None, **headers):
    response = api.create_response(
        request, {"message": message, "errors": errors or {}}, status=status
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@api.exception_handler(ValidationError)
def _on_validation(request, exc: ValidationError):
    errors: dict[str, str] = {}
    for item in exc.errors:
        loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "payload", "query")]
        name = loc[0] if loc else "body"
        errors.setdefault(name, str(item.get("msg", "Invalid value.")))
    return _error(request, 400, "Please correct the fields listed in errors.", errors)


@api.exception_handler(AuthenticationError)
def _on_auth(request, exc):
    return _error(request, 401, SIGN_IN_MESSAGE)


@api.exception_handler(LimitExceeded)
def _on_limit(request, exc: LimitExceeded):
    headers = {"Retry_After": str(exc.retry_after)} if exc.retry_after else {}
    return _error(request, 429, exc.message, {"limit": exc.code}, **headers)


@api.exception_handler(JobInvalid)
def _on_invalid(request, exc: JobInvalid):
    errors = {FIELD_NAMES.get(k, k): v for k, v in exc.errors.items()}
    return _error(request, 400, "Please correct the fields listed in errors.", errors)


@api.exception_handler(GenerationJob.DoesNotExist)
def _on_missing_job(request, exc):
    return _error(request, 404, "No such job.")


@api.exception_handler(IllegalTransition)
def _on_conflict(request, exc):
    return _error(request, 409, "This job cannot do that in its current state.")


@api.exception_handler(Throttled)
def _on_throttled(request, exc: Throttled):
    # ninja sets Retry-After from exc.wait on this response.
    return _error(request, 429, throttled_message(exc.wait), {"limit": "api_rate"})


@api.exception_handler(HttpError)
def _on_http_error(request, exc: HttpError):
    return _error(request, exc.status_code, str(exc))


# Redis down inside an operation (the throttle and auth checks run outside ninja's
# handlers, so project.middleware.BackendDownMiddleware answers those with this same body).
@api.exception_handler(redis.exceptions.ConnectionError)
@api.exception_handler(redis.exceptions.TimeoutError)
@api.exception_handler(BrokerUnavailable)
def _on_backend_down(request, exc):
    return _error(
        request,
        503,
        BACKEND_DOWN_MESSAGE,
        {"service": BACKEND_DOWN_CODE},
        Retry_After=str(BACKEND_DOWN_RETRY_AFTER_S),
        Cache_Control="no-store",
    )
