from django.urls import path

from . import token_views, views, webhooks

app_name = "generation"

urlpatterns = [
    path("panel/", views.panel, name="panel"),
    path(
        "webhooks/<slug:provider>/<str:token>/",
        webhooks.provider_webhook,
        name="webhook",
    ),
    path("tokens/", token_views.token_list, name="tokens"),
    path("tokens/new/", token_views.token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", token_views.token_revoke, name="token_revoke"),
    path("composer/", views.composer, name="composer"),
    path("estimate/", views.estimate, name="estimate"),
    path("generate/", views.generate, name="generate"),
    path("queue/", views.queue, name="queue"),
    path("history/", views.history, name="history"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel_view, name="job_cancel"),
    path("jobs/<int:job_id>/retry/", views.job_retry_view, name="job_retry"),
    path("templates/", views.template_list, name="templates"),
    path("templates/save/", views.template_save, name="template_save"),
    path("templates/<int:template_id>/delete/", views.template_delete, name="template_delete"),
]
