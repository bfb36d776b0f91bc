"""Thin Celery tasks (queue "media" via CELERY_TASK_ROUTES)."""

from __future__ import annotations

from celery import shared_task

from project.task_retry import DB_RETRY


@shared_task(name="editor.tasks.export_run", acks_late=True)
def export_run(export_id: int) -> str:
    from editor.services.exports import export_run as run

    export = run(export_id=export_id)
    return export.status if export is not None else "skipped"


@shared_task(name="editor.tasks.export_sweep")
def export_sweep() -> int:
    """Beat task: fail exports whose worker died mid-render (see services.recovery)."""
    from editor.services.recovery import export_sweep as sweep

    return len(sweep())


# Safe to run again (the fill is idempotent), so a database hiccup is retried.
@shared_task(
    name="editor.tasks.slot_fill",
    acks_late=True,
    **DB_RETRY,
)
def slot_fill(slot_id: int, attempt: int = 0) -> str:
    """Place a finished generation's clip in its slot (idempotent: see services.slots)."""
    from editor.services.slots import slot_fill as fill

    return fill(slot_id=slot_id, attempt=attempt)


@shared_task(
    name="editor.tasks.storyboard_release",
    acks_late=True,
    **DB_RETRY,
)
def storyboard_release(owner_id: int) -> int:
    """Start the owner's waiting storyboard shots as far as the limits allow; held back by a
    cooldown or the start rate, try again when it says (see services.storyboards)."""
    from editor.services.storyboards import storyboard_release as release

    started, retry_after = release(owner_id=owner_id)
    if retry_after:
        storyboard_release.apply_async((owner_id,), countdown=retry_after)
    return started


@shared_task(
    name="editor.tasks.storyboard_chain",
    acks_late=True,
    **DB_RETRY,
)
def storyboard_chain(slot_id: int) -> str:
    """A chained storyboard's shot was placed: its last frame starts the next shot."""
    from editor.services.storyboards import storyboard_chain_next

    return storyboard_chain_next(slot_id=slot_id)
