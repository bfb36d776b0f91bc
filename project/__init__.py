# Load Celery with Django so @shared_task binds to the project app everywhere.
from .celery import app as celery_app

__all__ = ("celery_app",)
