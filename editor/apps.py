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
