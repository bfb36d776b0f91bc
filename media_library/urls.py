from django.urls import path

from . import views

app_name = "media_library"

urlpatterns = [
    path("panel/", views.panel, name="panel"),
    path("grid/", views.grid, name="grid"),
    path("upload/", views.upload, name="upload"),
    # Chunked, resumable uploads (docs/uploads.md). The PATCH route is the only browser
    # route that takes a large body (up to UPLOAD_CHUNK_MAX_BYTES).
    path("uploads/", views.upload_sessions, name="upload_sessions"),
    path("uploads/<uuid:upload_id>/", views.upload_session, name="upload_session"),
    path("close/", views.empty, name="close"),
    path("<int:media_id>/card/", views.card, name="card"),
    path("<int:media_id>/details/", views.details, name="details"),
    path("<int:media_id>/rename/", views.rename, name="rename"),
    path("<int:media_id>/delete/", views.delete, name="delete"),
    path("<int:media_id>/file/", views.media_file, name="file"),
    path("<int:media_id>/<str:variant>/", views.derived_file, name="derived"),
]
