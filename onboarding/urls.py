from django.urls import path

from . import views

app_name = "onboarding"

urlpatterns = [
    path("first-run/", views.first_run, name="first_run"),
    path("first-run/dismiss/", views.first_run_dismiss, name="first_run_dismiss"),
]
