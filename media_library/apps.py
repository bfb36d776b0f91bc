from django.apps import AppConfig


class MediaLibraryConfig(AppConfig):
    name = "media_library"
    verbose_name = "Media library"

    def ready(self):
        from django.conf import settings

        from .sniffing import configure_pillow

        configure_pillow(settings.MEDIA_MAX_IMAGE_PIXELS)
