"""The generation panel's views (routed in generation/urls.py)."""

from .composer import composer, estimate, generate, panel
from .jobs import history, job_cancel_view, job_retry_view, queue
from .templates import template_delete, template_list, template_save

__all__ = [
    "composer",
    "estimate",
    "generate",
    "history",
    "job_cancel_view",
    "job_retry_view",
    "panel",
    "queue",
    "template_delete",
    "template_list",
    "template_save",
]
