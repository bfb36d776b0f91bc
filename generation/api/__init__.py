"""The JSON API (django-ninja): typed schemas, OpenAPI at /api/openapi.json, docs at
/api/docs. Session (with CSRF) or `Authorization: Bearer <token>` from `manage.py api_token`.

Errors are JSON: {"message": "...", "errors": {"field": "plain sentence"}}. Bad input is
400, over a limit 429 with Retry-After, another user's job or media 404.
"""

from __future__ import annotations

from . import errors, routes, uploads  # noqa: F401 - they register on `api`
from .base import api

__all__ = ["api"]
