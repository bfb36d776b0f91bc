"""The NinjaAPI object and its authentication, in a module of their own: the error
handlers and routes register on `api` by importing it from here, and the package imports
them, so no module imports the package that imports it (no import cycle)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer, SessionAuth

from project import signin_throttle

from ..limits import LimitExceeded
from ..services.tokens import api_token_authenticate
from .throttle import ApiRateThrottle


class BearerToken(HttpBearer):
    """A token that authenticates nobody counts against the client address's sign-in
    budget (project.signin_throttle, shared with the sign-in page and the admin); once it
    is spent, every bearer request from that address is a 429, a valid token too."""

    def authenticate(self, request: HttpRequest, token: str):
        refusal = signin_throttle.bearer_refusal(request)
        if refusal is not None:
            raise LimitExceeded(refusal.message, refusal.retry_after, code="signin")
        user = api_token_authenticate(raw=token)
        if user is None:
            signin_throttle.bearer_failed(request)
            return None
        request.user = user
        return user


class SignedInSession(SessionAuth):
    """The browser's session, with ninja's CSRF check, but only for a signed-in session.

    ninja checks CSRF before it looks at the session, so a script with no credentials at
    all got a CSRF 403 instead of the 401 that says how to get a token. A request without
    a signed-in session cannot act as anyone, so it skips straight to the 401; a signed-in
    session still needs its CSRF token on writes (403 without it)."""

    def _get_key(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)


api = NinjaAPI(
    title="Cutroom API",
    version="1",
    description="Generate videos, follow their jobs, list your media.",
    auth=[BearerToken(), SignedInSession()],
    urls_namespace="api",
    # API_RATE per user (after auth): see throttle.py.
    throttle=[ApiRateThrottle()],
)
