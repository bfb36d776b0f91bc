"""The pipeline's view of the provider registry."""

from __future__ import annotations

from ..providers.base import Provider, Submission
from ..providers.registry import get_provider as _registry_get

LOCAL = "local"


def get_provider(name: str) -> Provider:
    return _registry_get(name)


def is_local(name: str) -> bool:
    return name == LOCAL


def submission_of(job) -> Submission:
    return Submission(request_id=job.provider_request_id, handle=dict(job.provider_handle or {}))
