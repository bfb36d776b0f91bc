from django.apps import AppConfig


class EditorConfig(AppConfig):
    name = "editor"
    verbose_name = "Editor"

    def ready(self):
        from media_library.signals import media_item_deleting

        from .receivers import remove_clips_of_deleted_media

        media_item_deleting.connect(
            remove_clips_of_deleted_media, dispatch_uid="editor-remove-clips"
        )
