from django.urls import path

from . import views
from .views import slots as slot_views
from .views import storyboards as storyboard_views

app_name = "editor"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("editor/panel/", views.editor_panel, name="editor_panel"),
    path("editor/timelines/", views.timeline_list, name="timeline_list"),
    path("editor/timelines/new/", views.timeline_create, name="timeline_create"),
    path("editor/timelines/<int:pk>/", views.timeline_fragment, name="timeline"),
    path("editor/timelines/<int:pk>/open/", views.timeline_open, name="timeline_open"),
    path("editor/timelines/<int:pk>/rename/", views.timeline_rename, name="timeline_rename"),
    path(
        "editor/timelines/<int:pk>/duplicate/", views.timeline_duplicate, name="timeline_duplicate"
    ),
    path("editor/timelines/<int:pk>/delete/", views.timeline_delete, name="timeline_delete"),
    path("editor/timelines/<int:pk>/undo/", views.timeline_undo, name="timeline_undo"),
    path("editor/timelines/<int:pk>/redo/", views.timeline_redo, name="timeline_redo"),
    path("editor/timelines/<int:pk>/clips/add/", views.clip_add, name="clip_add"),
    path("editor/timelines/<int:pk>/clips/append/", views.clip_append, name="clip_append"),
    path("editor/timelines/<int:pk>/clips/move/", views.clip_move, name="clip_move"),
    path("editor/timelines/<int:pk>/clips/shift/", views.clips_shift, name="clips_shift"),
    path("editor/timelines/<int:pk>/clips/trim/", views.clip_trim, name="clip_trim"),
    path("editor/timelines/<int:pk>/clips/split/", views.clips_split, name="clips_split"),
    path("editor/timelines/<int:pk>/clips/prop/", views.clip_prop, name="clip_prop"),
    path("editor/timelines/<int:pk>/clips/delete/", views.clips_delete, name="clips_delete"),
    path("editor/timelines/<int:pk>/clips/paste/", views.clips_paste, name="clips_paste"),
    path(
        "editor/timelines/<int:pk>/tracks/<int:track_id>/toggle/",
        views.track_toggle,
        name="track_toggle",
    ),
    path(
        "editor/timelines/<int:pk>/tracks/<int:track_id>/delete/",
        views.track_delete,
        name="track_delete",
    ),
    path("editor/timelines/<int:pk>/slots/form/", slot_views.slot_form, name="slot_form"),
    path("editor/timelines/<int:pk>/slots/new/", slot_views.slot_create, name="slot_create"),
    path(
        "editor/timelines/<int:pk>/slots/continue/",
        slot_views.slot_continue,
        name="slot_continue",
    ),
    path("editor/timelines/<int:pk>/slots/bridge/", slot_views.slot_bridge, name="slot_bridge"),
    path(
        "editor/timelines/<int:pk>/slots/<int:slot_id>/<slug:action>/",
        slot_views.slot_action,
        name="slot_action",
    ),
    path(
        "editor/timelines/<int:pk>/storyboard/",
        storyboard_views.storyboard_dialog,
        name="storyboard_dialog",
    ),
    path(
        "editor/timelines/<int:pk>/storyboard/quote/",
        storyboard_views.storyboard_quote,
        name="storyboard_quote",
    ),
    path(
        "editor/timelines/<int:pk>/storyboard/start/",
        storyboard_views.storyboard_start,
        name="storyboard_start",
    ),
    path(
        "editor/timelines/<int:pk>/storyboards/<int:board_id>/shots/<int:shot_id>/regenerate/",
        storyboard_views.shot_regenerate,
        name="storyboard_shot_regenerate",
    ),
    path(
        "editor/timelines/<int:pk>/storyboards/<int:board_id>/<slug:action>/",
        storyboard_views.storyboard_action,
        name="storyboard_action",
    ),
    path("editor/timelines/<int:pk>/exports/", views.export_list, name="export_list"),
    path("editor/timelines/<int:pk>/export/", views.export_start, name="export_start"),
    path("editor/exports/<int:export_id>/cancel/", views.export_cancel, name="export_cancel"),
]
