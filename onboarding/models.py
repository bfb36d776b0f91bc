from django.conf import settings
from django.db import models


class FirstRunState(models.Model):
    """Per user, what the first-run checklist remembers: only that it was dismissed (the
    steps are read from the user's jobs, clips and exports, never stored). No row: never
    dismissed. Server-side, so a dismissal holds in every browser."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="first_run_state",
    )
    dismissed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"first run of {self.user_id}: {'dismissed' if self.dismissed_at else 'shown'}"
