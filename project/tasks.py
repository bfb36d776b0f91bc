"""Project-level tasks: a notice toast pushed to a user's open tabs."""

from celery import shared_task

from .live import broadcast, render_fragment


@shared_task(name="project.notify_user")
def notify_user(user_id: int, message: str, level: str = "info") -> bool:
    """Show a short notice in every open tab of the user (used for system messages such
    as maintenance or a finished export); returns whether the push reached Redis."""
    html = render_fragment("partials/notice.html", {"message": message, "level": level})
    return broadcast(user_id, html)
