from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"

    def ready(self):
        from media_library.signals import media_item_poster_changed

        from . import checks  # noqa: F401 - registers the provider key format check
        from .media_receivers import push_job_cards_on_poster

        media_item_poster_changed.connect(
            push_job_cards_on_poster, dispatch_uid="generation-job-card-poster"
        )
