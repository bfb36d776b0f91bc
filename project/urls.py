from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from generation.api import api

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("media/", include("media_library.urls")),
    path("generation/", include("generation.urls")),
    path("", include("editor.urls")),
]
