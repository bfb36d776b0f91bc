from django.urls import path

from . import views, webhooks

app_name = "generation"

urlpatterns = [
    path("panel/", views.panel, name="panel"),
    path(
        "webhooks/<slug:provider>/<str:token>/",
        webhooks.provider_webhook,
        name="webhook",
    ),
]
