from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path
from django.views.generic.base import RedirectView

from generation.api import api
from generation.metrics import metrics_view

from . import auth_views, signin_throttle, views

# The admin's login shares the sign-in page's throttle (same counters, same 429).
admin.site.login_form = auth_views.ThrottledAdminAuthenticationForm
admin.site.login = signin_throttle.with_refusal_status(admin.site.login)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    # Browsers ask for /favicon.ico regardless of the <link rel="icon">.
    path("favicon.ico", RedirectView.as_view(url="/static/img/favicon.svg", permanent=True)),
    path(
        "accounts/login/",
        auth_views.ThrottledLoginView.as_view(),
        name="login",
    ),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("media/", include("media_library.urls")),
    path("generation/", include("generation.urls")),
    path("onboarding/", include("onboarding.urls")),
    path("", include("editor.urls")),
]
