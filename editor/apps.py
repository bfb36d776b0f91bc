from django.apps import AppConfig


class EditorConfig(AppConfig):
    name = "editor"
    verbose_name = "Editor"

    def ready(self):
        from media_library.signals import media_item_deleting, media_item_usage

        from .receivers import remove_clips_of_deleted_media, timelines_using_media_item

        media_item_deleting.connect(
            remove_clips_of_deleted_media, dispatch_uid="editor-remove-clips"
        )
        media_item_usage.connect(timelines_using_media_item, dispatch_uid="editor-media-usage")

        # Slots: generation tells us about its jobs (it may not import the editor).
        from celery.signals import worker_ready

        from generation.signals import job_changed

        from .receivers import (
            slot_job_changed,
            slots_recover_on_worker_ready,
            storyboard_job_changed,
        )

        job_changed.connect(slot_job_changed, dispatch_uid="editor-slot-job")
        job_changed.connect(storyboard_job_changed, dispatch_uid="editor-storyboard-job")
        worker_ready.connect(
            slots_recover_on_worker_ready, weak=False, dispatch_uid="editor-slot-recover"
        )
        # The slots API lives with the editor and joins generation's NinjaAPI object.
        from . import (
            api,  # noqa: F401 - registers its router
            api_storyboards,  # noqa: F401 - registers its router
        )
