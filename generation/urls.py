from django.urls import path

from . import views

app_name = "generation"

urlpatterns = [
    path("panel/", views.panel, name="panel"),
]
