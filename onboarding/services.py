from __future__ import annotations

from django.utils import timezone

from .models import FirstRunState


def first_run_dismiss(*, user) -> FirstRunState:
    """Hide the checklist for good (idempotent: the first dismissal's time is kept)."""
    state, _ = FirstRunState.objects.get_or_create(user=user)
    if state.dismissed_at is None:
        FirstRunState.objects.filter(pk=state.pk, dismissed_at__isnull=True).update(
            dismissed_at=timezone.now()
        )
        state.refresh_from_db()
    return state
