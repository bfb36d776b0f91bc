"""The JSON API (django-ninja): typed schemas, OpenAPI at /api/openapi.json, docs at
/api/docs. Session (with CSRF) or `Authorization: Bearer <token>` from `manage.py api_token`.

Errors are JSON: {"message": "...", "errors": {"field": "plain sentence"}}. Bad input is
400, over a limit 429 with Retry-After, another user's job or media 404.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer, django_auth

from ..services.tokens import api_token_authenticate
from .throttle import ApiRateThrottle


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_authenticate(raw=token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Cutroom API",
    version="1",
    description="Generate videos, follow their jobs, list your media.",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
    # API_RATE per user (after auth): see throttle.py.
    throttle=[ApiRateThrottle()],
)

from . import errors, routes  # noqa: E402,F401 - they register on `api`

__all__ = ["api"]
