from django.urls import path

from . import views

app_name = "media_library"

urlpatterns = [
    path("panel/", views.panel, name="panel"),
]
