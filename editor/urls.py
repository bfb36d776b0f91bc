from django.urls import path

from . import views

app_name = "editor"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("editor/panel/", views.editor_panel, name="editor_panel"),
]
