"""Project-wide middleware: request ids and login-required-by-default."""

import uuid

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse

from .logging import request_id_var

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
