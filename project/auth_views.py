"""Sign-in with throttling against password guessing.

Two limits, both on the shared Redis cache so every web node counts together: attempts
per username (a targeted guess) and per client address (a spray across names).
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited


def _limited(request) -> bool:
    if request.method != "POST":
        return False
    by_user = is_ratelimited(
        request,
        group="login-user",
        key="post:username",
        rate=settings.LOGIN_RATE_PER_USER,
        increment=True,
    )
    by_ip = is_ratelimited(
        request, group="login-ip", key="ip", rate=settings.LOGIN_RATE_PER_IP, increment=True
    )
    return by_user or by_ip


class ThrottledLoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if _limited(request):
            response = render(
                request,
                self.template_name,
                {
                    "form": self.get_form(),
                    "throttled": True,
                    "next": request.POST.get("next", ""),
                },
                status=429,
            )
            response["Retry-After"] = "60"
            return response
        return super().post(request, *args, **kwargs)
